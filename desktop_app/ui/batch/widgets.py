"""Layout of the batch page (a mixin, so page.py stays about behaviour).

The table is a QTableView over a QSortFilterProxyModel: sorting and the status filter are done
by the proxy in C++, and the view asks ``data()`` only for the rows on screen. Rows have a
fixed height so Qt never measures thousands of rows to lay them out.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
)

from desktop_app.core.batch.queue import CANCELLED, DONE, FAILED, QUEUED, SKIPPED
from desktop_app.ui.batch.model import (
    COL_DETAILS,
    COL_FOLDER,
    COL_NAME,
    COL_SIZE,
    COL_STATUS,
    COL_THUMB,
    COL_TIME,
    SORT_ROLE,
    STATUS_ROLE,
)
from desktop_app.ui.batch.options import BatchOptionsPanel
from desktop_app.ui.batch.thumbs import THUMB_SIZE

FILTERS = (("All", ""), ("Queued", QUEUED), ("Done", DONE), ("Failed", FAILED), ("Skipped", SKIPPED),
           ("Cancelled", CANCELLED))  # fmt: skip
HINT = (
    "<p style='font-size:15px'><b>Drop photos or folders here</b></p>"
    "<p>Folders are searched with their subfolders; the output folder mirrors them.<br>"
    "Or use <i>Add photos…</i> and <i>Add folder…</i> above.</p>"
)
BANNER_OK = "QLabel { background: #e8f4ea; border: 1px solid #9cc9a5; border-radius: 4px; padding: 6px; }"
BANNER_WARN = "QLabel { background: #fff4e0; border: 1px solid #e0b870; border-radius: 4px; padding: 6px; }"
BANNER_ERROR = "QLabel { background: #fbeaea; border: 1px solid #e0a0a0; border-radius: 4px; padding: 6px; }"


class BatchLayoutMixin:
    """``build_ui`` creates the page's widgets as attributes; ``show_banner`` shows a message."""

    def build_ui(self) -> None:
        self.add_files_button = QPushButton("Add photos…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected rows from the queue (Delete)")
        self.clear_button = QPushButton("Clear")
        self.filter_combo = QComboBox()
        for label, status in FILTERS:
            self.filter_combo.addItem(label, status)
        self.queue_label = QLabel("")
        self.scan_label = QLabel("Adding… (reading folders)")
        self.scan_label.hide()
        top = QHBoxLayout()
        for w in (self.add_files_button, self.add_folder_button, self.remove_button, self.clear_button):
            top.addWidget(w)
        top.addSpacing(16)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter_combo)
        top.addStretch(1)
        top.addWidget(self.scan_label)
        top.addWidget(self.queue_label)

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterRole(STATUS_ROLE)
        self.proxy.setFilterKeyColumn(COL_STATUS)
        self.table = self._build_table()
        self.delete_action = QAction("Remove from queue", self.table)
        self.delete_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.table.addAction(self.delete_action)
        hint = QLabel(HINT)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("QLabel { border: 2px dashed palette(mid); border-radius: 8px; color: palette(text); }")
        self.views = QStackedWidget()
        self.views.addWidget(hint)
        self.views.addWidget(self.table)

        self.options_panel = BatchOptionsPanel()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.options_panel)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)
        splitter = QSplitter()
        splitter.addWidget(self.views)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([900, 320])

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("0 / 0")
        self.progress_label = QLabel("")
        # one line tall whether empty or not, so nothing below it moves when it fills
        self.progress_label.setFixedHeight(self.progress_label.fontMetrics().height() + 4)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the photos in flight; finished cut-outs are kept")
        self.retry_button = QPushButton("Retry failed")
        self.editor_button = QPushButton("Open in editor")
        self.folder_button = QPushButton("Show in folder")
        buttons = QHBoxLayout()
        for w in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        for w in (self.retry_button, self.editor_button, self.folder_button):
            buttons.addWidget(w)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        # The buttons are the last row, under everything that comes and goes (the banner, the
        # progress line): the splitter above absorbs those changes, so Start / Pause / Cancel
        # stay exactly where the pointer is between idle, running and finished.
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(buttons)

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)  # a reason reads from its start
        table.setAlternatingRowColors(True)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = table.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measure rows
        vh.setDefaultSectionSize(THUMB_SIZE + 6)
        hh = table.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((COL_THUMB, THUMB_SIZE + 12), (COL_NAME, 210), (COL_FOLDER, 110), (COL_SIZE, 72),
                           (COL_STATUS, 84), (COL_TIME, 64)):  # fmt: skip
            table.setColumnWidth(col, width)
        assert self.model.columnCount() - 1 == COL_DETAILS  # the stretched column
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # queue order until a header is clicked
        table.setSortingEnabled(True)
        return table

    def show_banner(self, text: str, error: bool = False, warn: bool = False) -> None:
        """Green for news, amber for "finished, but some photos failed", red when nothing could run."""
        self.banner.setText(text)
        self.banner.setStyleSheet(BANNER_ERROR if error else BANNER_WARN if warn else BANNER_OK)
        self.banner.show()
