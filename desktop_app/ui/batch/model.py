"""The batch queue as a Qt table model: one QueueItem per row, thousands of rows, no widgets.

Why a QAbstractTableModel: a QTableWidget keeps an item object per cell and a widget per
progress bar, which costs seconds and hundreds of MB at 10,000 rows; a model only answers
``data()`` for the ~20 rows on screen. Rows changed by the batch thread are reported in bulk by
:meth:`QueueModel.refresh` (one ``dataChanged`` per contiguous run of rows), never one signal
per status change, so a fast batch cannot flood the event loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QPixmap

from desktop_app.core.batch.queue import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    SKIPPED,
    STATUSES,
    QueueItem,
)

COL_THUMB, COL_NAME, COL_FOLDER, COL_SIZE, COL_STATUS, COL_TIME, COL_DETAILS = range(7)
HEADERS = ("", "Name", "Folder", "Size", "Status", "Time", "Details")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_LABELS = {QUEUED: "Queued", RUNNING: "Running…", DONE: "Done", SKIPPED: "Skipped", FAILED: "Failed",
                 CANCELLED: "Cancelled"}  # fmt: skip
STATUS_COLOURS = {FAILED: QColor(200, 40, 40), DONE: QColor(30, 130, 60), RUNNING: QColor(30, 90, 200),
                  SKIPPED: QColor(120, 120, 120), CANCELLED: QColor(150, 110, 20)}  # fmt: skip
_STATUS_ORDER = {s: i for i, s in enumerate(STATUSES)}
_BRUSHES = {status: QBrush(colour) for status, colour in STATUS_COLOURS.items()}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY, _DECORATION, _FOREGROUND, _ALIGN, _SORT, _STATUS, _TOOLTIP = range(7)
_ROLES = {
    int(Qt.ItemDataRole.DisplayRole.value): _DISPLAY, int(Qt.ItemDataRole.DecorationRole.value): _DECORATION,
    int(Qt.ItemDataRole.ForegroundRole.value): _FOREGROUND, int(Qt.ItemDataRole.TextAlignmentRole.value): _ALIGN,
    int(SORT_ROLE): _SORT, int(STATUS_ROLE): _STATUS, int(Qt.ItemDataRole.ToolTipRole.value): _TOOLTIP,
}  # fmt: skip
_Index = QModelIndex | QPersistentModelIndex
MAX_BLOCKS = 16  # more scattered changed rows than this are announced as one span


def human_size(n: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, like file managers)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


class QueueModel(QAbstractTableModel):
    """Rows of :class:`QueueItem`; ``thumbnail(item)`` (optional) returns a pixmap or None and may
    start loading it: it is asked only for rows being painted, which is what makes it lazy."""

    def __init__(self, thumbnail: Callable[[QueueItem], QPixmap | None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.items: list[QueueItem] = []
        self._rows: dict[int, int] = {}  # id(item) -> row
        self._keys: set[str] = set()
        self._thumbnail = thumbnail

    # -- contents ----------------------------------------------------------------------------
    def keys(self) -> set[str]:
        """Path keys already queued (for duplicate detection by the scanner)."""
        return set(self._keys)

    def add_items(self, items: Iterable[QueueItem]) -> list[QueueItem]:
        """Append the rows not already queued (one insert notification); returns those added."""
        new: list[QueueItem] = []
        for it in items:
            k = it.key
            if k not in self._keys:
                self._keys.add(k)
                new.append(it)
        if new:
            first = len(self.items)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self.items.extend(new)
            for i, it in enumerate(new, start=first):
                self._rows[id(it)] = i
            self.endInsertRows()
        return new

    def remove_rows(self, rows: Iterable[int]) -> int:
        """Remove source rows (any order, gaps allowed) in contiguous blocks, bottom up."""
        ordered = sorted(set(rows), reverse=True)
        blocks: list[tuple[int, int]] = []
        for r in ordered:
            if blocks and blocks[-1][0] == r + 1:
                blocks[-1] = (r, blocks[-1][1])
            else:
                blocks.append((r, r))
        for first, last in blocks:
            self.beginRemoveRows(QModelIndex(), first, last)
            for it in self.items[first : last + 1]:
                self._keys.discard(it.key)
            del self.items[first : last + 1]
            self.endRemoveRows()
        if blocks:
            self._rows = {id(it): i for i, it in enumerate(self.items)}
        return len(ordered)

    def clear(self) -> None:
        self.beginResetModel()
        self.items, self._rows, self._keys = [], {}, set()
        self.endResetModel()

    def item(self, row: int) -> QueueItem:
        return self.items[row]

    def row_of(self, item: QueueItem) -> int | None:
        return self._rows.get(id(item))

    def counts(self) -> Counter:
        return Counter(it.status for it in self.items)

    def refresh(self, items: Iterable[QueueItem], columns: tuple[int, int] = (COL_THUMB, COL_DETAILS)) -> int:
        """Tell views that these rows changed: one dataChanged per contiguous block of rows.
        Returns the number of signals emitted (the benchmark checks it stays small)."""
        rows = sorted({r for r in (self._rows.get(id(it)) for it in items) if r is not None})
        if rows and rows[-1] - rows[0] + 1 > len(rows) and len(rows) > MAX_BLOCKS:  # scattered: one span
            self.dataChanged.emit(self.index(rows[0], columns[0]), self.index(rows[-1], columns[1]))
            return 1
        emitted = 0
        start = prev = None
        for r in [*rows, None]:
            if start is not None and (r is None or r != prev + 1):
                self.dataChanged.emit(self.index(start, columns[0]), self.index(prev, columns[1]))
                emitted += 1
                start = None
            if r is not None and start is None:
                start = r
            prev = r
        return emitted

    # -- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        # Called ~600 times per repaint, each a Python call that may wait for the GIL while the
        # batch runs: roles we do not answer return before touching the index.
        kind = _ROLES.get(role)
        if kind is None or not index.isValid():
            return None
        it = self.items[index.row()]
        col = index.column()
        if kind == _DISPLAY:
            return self._display(it, col)
        if kind == _DECORATION:
            return self._thumbnail(it) if col == COL_THUMB and self._thumbnail is not None else None
        if kind == _FOREGROUND:
            if col == COL_STATUS or (col == COL_DETAILS and it.reason):
                return _BRUSHES.get(it.status)
            return None
        if kind == _ALIGN:
            return _RIGHT if col in (COL_SIZE, COL_TIME) else None
        if kind == _SORT:
            return self._sort_key(it, col)
        if kind == _STATUS:
            return it.status
        return self._tooltip(it)

    @staticmethod
    def _display(it: QueueItem, col: int) -> str | None:
        if col == COL_NAME:
            return it.source.name
        if col == COL_FOLDER:
            folder = str(it.rel)  # str() of a Path is cached; comparing Paths is not cheap
            return "" if folder == "." else folder
        if col == COL_SIZE:
            return human_size(it.size) if it.size else ""
        if col == COL_STATUS:
            return STATUS_LABELS.get(it.status, it.status)
        if col == COL_TIME:
            return f"{it.seconds:.2f} s" if it.seconds > 0 else ""
        if col == COL_DETAILS:
            return QueueModel._details(it)
        return None

    @staticmethod
    def _details(it: QueueItem) -> str:
        """Why it failed or was skipped (the engine's messages start with the path, which the row
        already shows), else where the cut-out went, plus any warnings."""
        if it.reason:
            return it.reason.removeprefix(f"{it.source}: ")
        parts = []
        if it.status == DONE and it.output is not None:
            parts.append(f"→ {it.output.name if str(it.rel) == '.' else it.rel / it.output.name}")
        return "; ".join([*parts, *it.warnings])

    @staticmethod
    def _sort_key(it: QueueItem, col: int):
        if col == COL_SIZE:
            return it.size
        if col == COL_TIME:
            return it.seconds
        if col == COL_STATUS:
            return _STATUS_ORDER.get(it.status, 99)
        if col == COL_FOLDER:
            return str(it.rel).lower()
        if col == COL_DETAILS:
            return it.reason.lower()
        return it.source.name.lower()

    @staticmethod
    def _tooltip(it: QueueItem) -> str:
        lines = [str(it.source)]
        if it.output is not None and it.status == DONE:
            lines.append(f"→ {it.output}")
        if it.reason:
            lines.append(it.reason)
        lines.extend(it.warnings)
        return "\n".join(lines)
