"""Small pieces more than one page uses: the colour swatch button and the photo filter of file
dialogs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QPushButton, QWidget

from desktop_app.core.imageio import IMAGE_EXTENSIONS

IMAGE_FILTER = "Images ({});;All files (*)".format(" ".join(f"*{e}" for e in sorted(IMAGE_EXTENSIONS)))


class ColorButton(QPushButton):
    """A swatch button that opens a colour picker."""

    color_changed = Signal(QColor)

    def __init__(self, color: QColor, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self.setFixedWidth(56)
        self.set_color(color)
        self.clicked.connect(self._pick)

    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self.setStyleSheet(f"background-color: {self._color.name()}; border: 1px solid #888; min-height: 18px;")
        self.setToolTip(self._color.name())

    def _pick(self) -> None:
        color = QColorDialog.getColor(self._color, self, self._title)
        if color.isValid():
            self.set_color(color)
            self.color_changed.emit(color)
