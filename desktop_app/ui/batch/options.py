"""The batch page's options: a form over the core ``RemoveOptions`` (the CLI's flags) plus the
output folder.

Why the core dataclass and not widget state: the batch page, the editor's export and the CLI
must mean the same thing by "crop" or "#ffffff", and RemoveOptions validates in one place
(a bad name pattern gives the CLI's message here too). Choices persist under ``batch/`` in the
settings, separately from the editor's, so batch work never changes the editor's model. The
output folder is not persisted: a new batch must not silently land in the last one's folder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import ModelError
from desktop_app.core.models import user_models
from desktop_app.core.options import Background, RemoveOptions, parse_colour
from desktop_app.ui.shared.model_chooser import KEY_USER_PATHS, ModelChooser
from desktop_app.ui.shared.settings import make_settings, read_list
from desktop_app.ui.shared.widgets import IMAGE_FILTER, ColorButton

BACKGROUNDS = (("transparent", "Transparent"), ("colour", "Colour"), ("image", "Image…"), ("blur", "Blurred original"))
FORMATS = (("png", "PNG (alpha)"), ("webp", "WebP (alpha)"), ("jpg", "JPEG (flattened)"))


class BatchOptionsPanel(QWidget):
    """Model, background, refine, crop, format, output folder, name pattern, existing outputs."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_chooser = ModelChooser()
        self.model_chooser.persist = False  # the editor's saved choice is not ours to change
        self._known_models = self._model_files()
        self.background = QComboBox()
        for key, label in BACKGROUNDS:
            self.background.addItem(label, key)
        self.colour = ColorButton(QColor(255, 255, 255), "Background colour")
        self.image_button = QPushButton("Choose…")
        self.image_path: Path | None = None
        self.image_label = QLabel("")
        self.image_label.setWordWrap(True)
        self.refine = QCheckBox("Refine edges")
        self.refine.setToolTip("Snap mask edges to the photo (guided filter); slower")
        self.second_pass = QCheckBox("Second pass (click model)")
        self.second_pass.setToolTip("Re-predict each subject with the click model: better edges, fewer holes, ~2x time")
        self.crop = QCheckBox("Crop to subject")
        self.format = QComboBox()
        for key, label in FORMATS:
            self.format.addItem(label, key)
        self.output = QLineEdit()
        self.output.setPlaceholderText("chosen when photos are added")
        self.output.textChanged.connect(lambda text: self.output.setToolTip(text))
        self.browse = QPushButton("Browse…")
        self.pattern = QLineEdit("{stem}.{ext}")
        self.pattern.setToolTip("{stem}: input name without extension, {ext}: output extension, {srcext}: input's")
        self.existing = QComboBox()
        self.existing.addItem("Skip (resume a batch)", False)
        self.existing.addItem("Overwrite", True)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        self._layout()
        self._restore()
        for signal in (self.background.currentIndexChanged, self.format.currentIndexChanged,
                       self.existing.currentIndexChanged, self.refine.toggled, self.crop.toggled,
                       self.second_pass.toggled,
                       self.output.textChanged, self.pattern.textChanged, self.colour.color_changed,
                       self.model_chooser.model_changed):  # fmt: skip
            signal.connect(self._on_changed)
        self.model_chooser.add_requested.connect(self._add_model)
        self.image_button.clicked.connect(self.choose_image)
        self.browse.clicked.connect(self.choose_output)
        self._sync_background_rows()

    def _layout(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(QLabel("<b>Model</b>"))
        outer.addWidget(self.model_chooser)
        form = QFormLayout()
        form.addRow("Background", self.background)
        form.addRow("Colour", self.colour)
        form.addRow(self.image_button, self.image_label)
        form.addRow(self.refine)
        form.addRow(self.second_pass)
        form.addRow(self.crop)
        form.addRow("Format", self.format)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.browse)
        form.addRow("Output folder", row)
        form.addRow(self.output)  # full width: paths are long
        form.addRow("File names", self.pattern)
        form.addRow("Existing outputs", self.existing)
        outer.addLayout(form)
        outer.addWidget(self.error)
        outer.addStretch(1)
        self._form = form

    # -- values ------------------------------------------------------------------------------
    def background_value(self) -> Background:
        kind = self.background.currentData()
        if kind == "colour":
            c = self.colour.color()
            return Background(kind="colour", colour=(c.red(), c.green(), c.blue()))
        if kind == "image":
            if self.image_path is None or not self.image_path.is_file():
                raise ValueError("choose a background image (Background ▸ Image…)")
            return Background(kind="image", image=self.image_path)
        if kind == "blur":
            return Background(kind="blur")
        return Background()

    def options(self) -> RemoveOptions:
        """The core options for a run; ValueError (with the CLI's wording) if something is off."""
        return RemoveOptions(
            model_path=self.model_chooser.current_path(), background=self.background_value(),
            refine=self.refine.isChecked(), second_pass=self.second_pass.isChecked(), crop=self.crop.isChecked(),
            format=self.format.currentData(),
            overwrite=bool(self.existing.currentData()), name_pattern=self.pattern.text().strip() or "{stem}.{ext}",
        )  # fmt: skip

    def output_dir(self) -> Path | None:
        text = self.output.text().strip()
        return Path(text).expanduser() if text else None

    def set_output_dir(self, folder: Path) -> None:
        self.output.setText(str(folder))

    def overwrite(self) -> bool:
        return bool(self.existing.currentData())

    def validate(self) -> str:
        """'' when a run can start, else the message (also shown under the form)."""
        try:
            self.options()
            message = "" if self.output_dir() is not None else "choose an output folder"
        except ValueError as exc:
            message = str(exc)
        self.error.setText(message)
        self.error.setVisible(bool(message))
        return message

    @staticmethod
    def _model_files() -> set[str]:
        return {*map(str, user_models()), *read_list(make_settings(), KEY_USER_PATHS)}

    def refresh_models(self) -> None:
        """Pick up models added in the editor since this list was built (keeping our choice)."""
        files = self._model_files()
        if files == self._known_models:
            return
        self._known_models = files
        current = self.model_chooser.current_path()
        self.model_chooser.reload()
        if current is not None and not self.model_chooser.select(current):
            with contextlib.suppress(ModelError):  # gone since: the combo shows what there is
                self.model_chooser.use_transient(current)  # e.g. given with --model

    # -- dialogs -----------------------------------------------------------------------------
    def choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Background image", "", IMAGE_FILTER)
        if path:
            self.set_background_image(Path(path))

    def set_background_image(self, path: Path) -> None:
        self.image_path = Path(path)
        self.image_label.setText(self.image_path.name)
        self.background.setCurrentIndex(self.background.findData("image"))
        self._on_changed()

    def _add_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add ONNX model", "", "ONNX models (*.onnx);;All files (*)")
        if path:
            self.model_chooser.add_model(path)

    # -- state -------------------------------------------------------------------------------
    def _sync_background_rows(self) -> None:
        kind = self.background.currentData()
        self._form.setRowVisible(self.colour, kind == "colour")
        self._form.setRowVisible(self.image_button, kind == "image")

    def _on_changed(self, *_args) -> None:
        self._sync_background_rows()
        self.validate()
        self._save()
        self.changed.emit()

    def _save(self) -> None:
        s = make_settings()
        s.setValue("batch/background", self.background.currentData())
        s.setValue("batch/colour", self.colour.color().name())
        s.setValue("batch/image", str(self.image_path) if self.image_path else "")
        s.setValue("batch/refine", self.refine.isChecked())
        s.setValue("batch/second_pass", self.second_pass.isChecked())
        s.setValue("batch/crop", self.crop.isChecked())
        s.setValue("batch/format", self.format.currentData())
        s.setValue("batch/pattern", self.pattern.text())
        s.setValue("batch/overwrite", self.overwrite())
        path = self.model_chooser.current_path()
        s.setValue("batch/model", str(path) if path else "")

    def _restore(self) -> None:
        s = make_settings()

        def flag(key: str) -> bool:
            return str(s.value(key, "false")).lower() == "true"

        self.background.setCurrentIndex(max(0, self.background.findData(s.value("batch/background", "transparent"))))
        with contextlib.suppress(ValueError):
            self.colour.set_color(QColor(*parse_colour(str(s.value("batch/colour", "#ffffff")))))
        image = str(s.value("batch/image", ""))
        if image:
            self.image_path = Path(image)
            self.image_label.setText(self.image_path.name)
        self.refine.setChecked(flag("batch/refine"))
        self.second_pass.setChecked(flag("batch/second_pass"))
        self.crop.setChecked(flag("batch/crop"))
        self.format.setCurrentIndex(max(0, self.format.findData(s.value("batch/format", "png"))))
        self.pattern.setText(str(s.value("batch/pattern", "{stem}.{ext}")) or "{stem}.{ext}")
        self.existing.setCurrentIndex(1 if flag("batch/overwrite") else 0)
        model = str(s.value("batch/model", ""))
        if model:
            self.model_chooser.select(model)
