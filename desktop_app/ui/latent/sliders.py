"""The bank of direction sliders: one row per direction, renamable, resettable, common range.

Why values live here as floats and not as slider positions: a QSlider holds integers, so a
position is only an approximation of "v sigmas". Values set from code (tests, loading a point)
are kept exactly; only values the user drags come from positions (1/1000 of the range).
Names are plain line edits (placeholder "direction k"), so renaming needs no dialog.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

STEPS = 1000  # slider positions on each side of 0
DEFAULT_RANGE = 3.0


NAME_MIN_WIDTH, NAME_MAX_WIDTH = 120, 240  # pixels of the editable direction names


class DirectionSliders(QWidget):
    """Signals: ``value_changed(k, v)`` while moving, ``settled()`` when a change is complete
    (release, reset, typed range), ``names_changed(list)`` after a rename."""

    value_changed = Signal(int, float)
    settled = Signal()
    names_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.sliders: list[QSlider] = []
        self.names: list[QLineEdit] = []
        self.readouts: list[QLabel] = []
        self.resets: list[QToolButton] = []
        self.range_box = QDoubleSpinBox()
        self.range_box.setRange(0.5, 20.0)
        self.range_box.setSingleStep(0.5)
        self.range_box.setDecimals(1)
        self.range_box.setPrefix("± ")
        self.range_box.setSuffix(" σ")
        self.range_box.setValue(DEFAULT_RANGE)
        self.range_box.setToolTip("Slider range in standard deviations of the data along each direction")
        self.range_box.valueChanged.connect(self._on_range)
        self.reset_all_button = QPushButton("Reset all")
        self.reset_all_button.clicked.connect(self.reset_all)
        top = QHBoxLayout()
        top.addWidget(QLabel("Range"))
        top.addWidget(self.range_box)
        top.addStretch(1)
        top.addWidget(self.reset_all_button)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)
        self.grid.setVerticalSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self.grid)
        layout.addStretch(1)

    # -- building ------------------------------------------------------------------------------
    def _name_width(self, names: list[str]) -> int:
        """Wide enough for the longest given name (a model's "yellow figure ↔ pink person"
        was cut to "igure ↔ pink person"), between 120 and 240 pixels."""
        metrics = self.fontMetrics()
        longest = max((metrics.horizontalAdvance(n) for n in names), default=0)
        return max(NAME_MIN_WIDTH, min(NAME_MAX_WIDTH, longest + 12))

    def set_count(self, count: int, names: list[str] | None = None, explained: tuple[float, ...] = ()) -> None:
        """Rebuild ``count`` rows (a new model); names are custom names ('' = default)."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sliders, self.names, self.readouts, self.resets = [], [], [], []
        self.values = np.zeros(count)
        names = list(names or [])
        width = self._name_width(names)
        for k in range(count):
            name = QLineEdit(names[k] if k < len(names) else "")
            name.setPlaceholderText(f"direction {k + 1}")
            name.setFrame(False)
            name.setFixedWidth(width)
            name.setCursorPosition(0)  # a name too long for the field shows its start, not its end
            share = f" ({100 * explained[k]:.1f}% of the variance)" if k < len(explained) else ""
            name.setToolTip(f"Direction {k + 1}{share}. Type to rename; names are kept per model.")
            name.editingFinished.connect(self._emit_names)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-STEPS, STEPS)
            slider.setAccessibleName(f"direction {k + 1}")
            slider.valueChanged.connect(lambda pos, k=k: self._on_position(k, pos))
            slider.sliderReleased.connect(self.settled)
            readout = QLabel("+0.00")
            readout.setMinimumWidth(44)
            readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            reset = QToolButton()
            reset.setText("↺")
            reset.setToolTip(f"Reset direction {k + 1} to 0")
            reset.clicked.connect(lambda _=False, k=k: self.reset(k))
            for col, w in enumerate((name, slider, readout, reset)):
                self.grid.addWidget(w, k, col)
            self.names.append(name)
            self.sliders.append(slider)
            self.readouts.append(readout)
            self.resets.append(reset)

    @property
    def count(self) -> int:
        return len(self.sliders)

    def label(self, k: int) -> str:
        return self.names[k].text().strip() or self.names[k].placeholderText()

    def custom_names(self) -> list[str]:
        return [n.text().strip() for n in self.names]

    def set_name(self, k: int, name: str) -> None:
        self.names[k].setText(name)
        self._emit_names()

    # -- values --------------------------------------------------------------------------------
    @property
    def range(self) -> float:
        return float(self.range_box.value())

    def set_value(self, k: int, v: float, emit: bool = True) -> None:
        """Set direction ``k`` to exactly ``v`` sigmas (the slider shows it clamped to range)."""
        self.values[k] = float(v)
        with QSignalBlocker(self.sliders[k]):
            self.sliders[k].setValue(self._position(v))
        self._show(k)
        if emit:
            self.value_changed.emit(k, float(v))

    def set_values(self, values: np.ndarray) -> None:
        """Load all values at once (a saved point) without per-slider signals."""
        for k in range(self.count):
            self.set_value(k, float(values[k]) if k < len(values) else 0.0, emit=False)

    def reset(self, k: int) -> None:
        self.set_value(k, 0.0)
        self.settled.emit()

    def reset_all(self) -> None:
        self.set_values(np.zeros(self.count))
        if self.count:
            self.value_changed.emit(0, 0.0)
        self.settled.emit()

    def _position(self, v: float) -> int:
        return round(float(np.clip(v / self.range, -1.0, 1.0)) * STEPS)

    def _on_position(self, k: int, pos: int) -> None:
        self.values[k] = pos * self.range / STEPS
        self._show(k)
        self.value_changed.emit(k, float(self.values[k]))
        if not self.sliders[k].isSliderDown():  # keyboard, wheel or a click on the groove
            self.settled.emit()

    def _on_range(self, _value: float) -> None:
        """Keep every value; only the slider positions follow the new range."""
        for k in range(self.count):
            with QSignalBlocker(self.sliders[k]):
                self.sliders[k].setValue(self._position(self.values[k]))

    def _show(self, k: int) -> None:
        self.readouts[k].setText(f"{self.values[k]:+.2f}")

    def _emit_names(self) -> None:
        self.names_changed.emit(self.custom_names())
