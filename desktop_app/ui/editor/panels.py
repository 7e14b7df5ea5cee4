"""Side-panel widgets: brush, mask adjustments, view, background.

Panels only show values and emit signals; the main window wires them to the editor and the
canvas. Setting a value programmatically (``set_*``/``reset_*``) never emits, so restoring
state cannot start an edit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

from desktop_app.core.mask_edit import Adjustments
from desktop_app.ui.editor.canvas import BackgroundKind, ViewMode
from desktop_app.ui.shared.widgets import ColorButton


def _slider(cls, lo: float, hi: float, value: float, step: float | None = None):
    s = cls(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    if step is not None:
        s.setSingleStep(step)
    s.setValue(value)
    return s


class BrushPanel(QWidget):
    """The "Tools" section: one button per canvas tool (actions owned by the window, so the
    button, the Tools menu entry and the shortcut are one thing) plus brush size and hardness."""

    radius_changed = Signal(float)
    hardness_changed = Signal(float)

    def __init__(self, tool_actions: list, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.tool_row = QHBoxLayout()
        self.tool_row.addStretch(1)
        self.tool_buttons: list[QToolButton] = []
        for action in tool_actions:
            self.add_tool_action(action)
        layout.addLayout(self.tool_row)
        form = QFormLayout()
        self.size = _slider(QLabeledSlider, 1, 500, 25)
        self.size.setToolTip("Brush radius in image pixels ([ and ] change it)")
        self.hardness = _slider(QLabeledSlider, 0, 100, 70)
        self.hardness.setToolTip("100 = crisp edge, 0 = soft airbrush")
        form.addRow("Size (px)", self.size)
        form.addRow("Hardness (%)", self.hardness)
        layout.addLayout(form)
        self.size.valueChanged.connect(lambda v: self.radius_changed.emit(float(v)))
        self.hardness.valueChanged.connect(lambda v: self.hardness_changed.emit(v / 100.0))

    def add_tool_action(self, action) -> QToolButton:
        """A button for a tool registered after the panel was built (keeps the row in order)."""
        b = QToolButton()
        b.setDefaultAction(action)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tool_row.insertWidget(len(self.tool_buttons), b)
        self.tool_buttons.append(b)
        return b

    def set_radius(self, radius: float) -> None:
        self.size.blockSignals(True)
        self.size.setValue(round(radius))
        self.size.blockSignals(False)


class MaskPanel(QWidget):
    """Soft-mask adjustments (live preview, one undo step per session) and mask actions."""

    adjustments_changed = Signal(object)  # Adjustments
    invert_requested = Signal()
    fill_holes_requested = Signal()
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.threshold = _slider(QLabeledDoubleSlider, 0.0, 1.0, 0.5, 0.01)
        self.threshold.setToolTip("Mask level that becomes 50 %: lower grows the subject, higher shrinks it")
        self.contrast = _slider(QLabeledDoubleSlider, 0.25, 20.0, 1.0, 0.25)
        self.contrast.setToolTip("Steepness of the soft edge: high values give a hard mask")
        self.refine = _slider(QLabeledSlider, 0, 40, 0)
        self.refine.setToolTip("Snap the edge to the photo's edges within this many pixels (0 = off)")
        self.feather = _slider(QLabeledDoubleSlider, 0.0, 50.0, 0.0, 0.5)
        self.feather.setToolTip("Soften the edge over this many pixels (0 = off)")
        form.addRow("Threshold", self.threshold)
        form.addRow("Contrast", self.contrast)
        form.addRow("Edge refine (px)", self.refine)
        form.addRow("Feather (px)", self.feather)
        layout.addLayout(form)
        hint = QLabel("Adjustments apply to the mask as it was before you moved a slider; painting starts afresh.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid); font-size: 11px;")
        layout.addWidget(hint)
        grid = QGridLayout()
        self.invert_button = QPushButton("Invert")
        self.fill_button = QPushButton("Fill holes")
        self.reset_button = QPushButton("Reset to model mask")
        grid.addWidget(self.invert_button, 0, 0)
        grid.addWidget(self.fill_button, 0, 1)
        grid.addWidget(self.reset_button, 1, 0, 1, 2)
        layout.addLayout(grid)
        for s in (self.threshold, self.contrast, self.refine, self.feather):
            s.valueChanged.connect(self._emit)
        self.invert_button.clicked.connect(self.invert_requested)
        self.fill_button.clicked.connect(self.fill_holes_requested)
        self.reset_button.clicked.connect(self.reset_requested)

    def adjustments(self) -> Adjustments:
        return Adjustments(
            threshold=round(float(self.threshold.value()), 3),
            contrast=round(float(self.contrast.value()), 3),
            refine_radius=int(self.refine.value()),
            feather=round(float(self.feather.value()), 2),
        )

    def _emit(self, *_args) -> None:
        self.adjustments_changed.emit(self.adjustments())

    def reset_neutral(self) -> None:
        """Back to neutral without emitting (the adjustment session has ended)."""
        neutral = Adjustments()
        for s, v in (
            (self.threshold, neutral.threshold),
            (self.contrast, neutral.contrast),
            (self.refine, neutral.refine_radius),
            (self.feather, neutral.feather),
        ):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)


VIEW_LABELS = {
    ViewMode.ORIGINAL: "Original",
    ViewMode.OVERLAY: "Overlay",
    ViewMode.CUTOUT: "Cut-out",
    ViewMode.MASK: "Mask",
    ViewMode.SPLIT: "Split",
}


class ViewPanel(QWidget):
    """View mode and the overlay's tint colour and opacity."""

    mode_changed = Signal(str)
    overlay_changed = Signal(QColor, float)

    def __init__(self, color: QColor, opacity: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.mode = QComboBox()
        for mode, label in VIEW_LABELS.items():
            self.mode.addItem(label, mode.value)
        self.color = ColorButton(color, "Overlay colour")
        self.opacity = _slider(QLabeledSlider, 0, 100, round(opacity * 100))
        form.addRow("View", self.mode)
        form.addRow("Overlay colour", self.color)
        form.addRow("Overlay opacity (%)", self.opacity)
        self.mode.currentIndexChanged.connect(lambda _i: self.mode_changed.emit(self.mode.currentData()))
        self.color.color_changed.connect(lambda _c: self._emit_overlay())
        self.opacity.valueChanged.connect(lambda _v: self._emit_overlay())

    def _emit_overlay(self) -> None:
        self.overlay_changed.emit(self.color.color(), self.opacity.value() / 100.0)

    def set_mode(self, mode: ViewMode | str) -> None:
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData(ViewMode(mode).value))
        self.mode.blockSignals(False)


BACKGROUND_LABELS = {
    BackgroundKind.TRANSPARENT: "Transparent",
    BackgroundKind.COLOR: "Colour",
    BackgroundKind.IMAGE: "Image…",
    BackgroundKind.BLUR: "Blurred original",
}


class BackgroundPanel(QWidget):
    """What goes behind the subject (in the cut-out view and in exports), and cropping."""

    background_changed = Signal(str)  # BackgroundKind value
    color_changed = Signal(QColor)
    choose_image_requested = Signal()
    crop_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.kind = QComboBox()
        for kind, label in BACKGROUND_LABELS.items():
            self.kind.addItem(label, kind.value)
        self.color = ColorButton(QColor(255, 255, 255), "Background colour")
        self.image_button = QPushButton("Choose image…")
        self.image_label = QLabel("")
        self.image_label.setWordWrap(True)
        self.crop = QCheckBox("Crop to subject")
        form.addRow("Background", self.kind)
        form.addRow("Colour", self.color)
        form.addRow(self.image_button, self.image_label)
        form.addRow(self.crop)
        self.kind.currentIndexChanged.connect(lambda _i: self.background_changed.emit(self.kind.currentData()))
        self.color.color_changed.connect(self.color_changed)
        self.image_button.clicked.connect(self.choose_image_requested)
        self.crop.toggled.connect(self.crop_changed)

    def current(self) -> BackgroundKind:
        return BackgroundKind(self.kind.currentData())

    def set_kind(self, kind: BackgroundKind | str) -> None:
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(BackgroundKind(kind).value))
        self.kind.blockSignals(False)
