"""Model chooser: embedded models plus user-added ONNX files, each with its detected convention.

The list of added files and the current choice persist in QSettings. Adding a file validates
it on a worker (reading the header and building an onnxruntime session can take seconds); a
bad file produces a clear message and the previously chosen model stays active.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.errors import ModelError
from desktop_app.core.models import ModelSpec, default_model_path, embedded_models, load_spec, user_models
from desktop_app.core.segment import Segmenter
from desktop_app.ui.shared.settings import make_settings, read_list
from desktop_app.ui.shared.workers import CancelToken, LatestWinsWorker

KEY_USER_PATHS = "models/user_paths"
KEY_CURRENT = "models/current"


@dataclass
class ModelCheck:
    path: Path
    spec: ModelSpec
    provider: str


def check_model(path: Path, token: CancelToken) -> ModelCheck:
    """Worker job: inspect a model file and build its session, so a bad file fails before it is chosen."""
    spec = load_spec(path)
    seg = Segmenter(path)
    return ModelCheck(Path(path), spec, seg.provider)


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    spec: ModelSpec
    embedded: bool

    @property
    def label(self) -> str:
        return f"{self.spec.name} · {self.spec.convention}" + ("" if self.embedded else " (added)")

    @property
    def details(self) -> str:
        s = self.spec
        notes = f"; {'; '.join(s.notes)}" if s.notes else ""
        return f"Convention {s.convention} (from {s.source}), input {s.describe_size()}, {s.output_meaning}{notes}"

    @property
    def summary(self) -> str:
        """One short line for the panel (a long word-wrapped label gets clipped in the
        scrolling tool panel); the full ``details`` go in the tooltip."""
        warning = " · see notes" if self.spec.notes else ""
        return f"Input {self.spec.describe_size()}{warning}"


def _entry(path: Path, embedded: bool) -> ModelEntry | None:
    try:
        return ModelEntry(path, load_spec(path), embedded)
    except ModelError:
        return None  # not a segmentation model (e.g. a generator) or unreadable


class ModelChooser(QWidget):
    """Combo box of usable segmentation models and an "Add model…" button."""

    model_changed = Signal(object)  # Path | None
    error = Signal(str, str)  # title, message
    add_requested = Signal()  # the window shows a file dialog and calls add_model(path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[ModelEntry] = []
        self.persist = True  # False while a --model run must not change the saved choice
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.add_button = QPushButton("Add model…")
        row.addWidget(self.combo, 1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: palette(mid); font-size: 11px;")
        layout.addWidget(self.info)
        self.checker = LatestWinsWorker(check_model, "check-model", self)
        self.checker.finished.connect(self._on_checked)
        self.checker.failed.connect(self._on_check_failed)
        self.add_button.clicked.connect(self.add_requested)
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.reload()

    def shutdown(self) -> None:
        self.checker.shutdown()

    # -- list --------------------------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild the list from the embedded folder, the user folder and added files."""
        settings = make_settings()
        current = settings.value(KEY_CURRENT, "", str)
        seen: set[str] = set()
        entries: list[ModelEntry] = []
        for path, embedded in [(p, True) for p in embedded_models()] + [
            (Path(p), False) for p in [*map(str, user_models()), *read_list(settings, KEY_USER_PATHS)]
        ]:
            key = str(Path(path).resolve())
            if key in seen or not Path(path).is_file():
                continue
            seen.add(key)
            entry = _entry(Path(path), embedded)
            if entry is not None:
                entries.append(entry)
        self.entries = entries
        self.combo.blockSignals(True)
        self.combo.clear()
        for e in entries:
            self.combo.addItem(e.label, str(e.path))
            self.combo.setItemData(self.combo.count() - 1, f"{e.path}\n{e.details}", 3)  # ToolTipRole
        if not current:
            try:
                current = str(default_model_path())
            except ModelError:
                current = ""
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else (0 if entries else -1))
        self.combo.blockSignals(False)
        self._show_info()

    def current_path(self) -> Path | None:
        data = self.combo.currentData()
        return Path(data) if data else None

    def current_entry(self) -> ModelEntry | None:
        i = self.combo.currentIndex()
        return self.entries[i] if 0 <= i < len(self.entries) else None

    def select(self, path: str | Path) -> bool:
        index = self.combo.findData(str(path))
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def _on_index_changed(self, _index: int) -> None:
        path = self.current_path()
        if self.persist:
            make_settings().setValue(KEY_CURRENT, str(path) if path else "")
        self._show_info()
        self.model_changed.emit(path)

    def _show_info(self) -> None:
        e = self.current_entry()
        if e is None:
            self.info.setText("No segmentation model yet: use “Add model…” to choose an ONNX file.")
            self.info.setToolTip("")
        else:
            self.info.setText(e.summary)
            self.info.setToolTip(e.details)

    def use_transient(self, path: str | Path) -> None:
        """Show and select ``path`` for this session only (``--model``); raises ModelError."""
        entry = ModelEntry(Path(path), load_spec(path), embedded=False)
        self.persist = False
        self.entries.append(entry)
        self.combo.addItem(entry.label, str(entry.path))
        self.select(entry.path)

    # -- adding ------------------------------------------------------------------------------
    def add_model(self, path: str | Path) -> int:
        """Validate ``path`` off the GUI thread; on success it is added and selected."""
        self.info.setText(f"Checking {Path(path).name}…")
        return self.checker.submit(Path(path))

    def _on_checked(self, _job: int, check: ModelCheck) -> None:
        settings = make_settings()
        paths = read_list(settings, KEY_USER_PATHS)
        p = str(check.path)
        if p not in paths and self.combo.findData(p) < 0:
            settings.setValue(KEY_USER_PATHS, [*paths, p])
        settings.setValue(KEY_CURRENT, p)
        self.reload()
        self.select(p)
        self.model_changed.emit(self.current_path())

    def _on_check_failed(self, _job: int, message: str) -> None:
        self._show_info()  # the previous model stays selected
        self.error.emit("Cannot use this model", message)
