"""Small widgets of the latent panel: the big image, thumbnail strips and a message bar."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from desktop_app.ui.shared.qimage import rgb_view


def to_pixmap(rgb: np.ndarray, side: int | None = None, smooth: bool = True) -> QPixmap:
    """Copy an H x W x 3 uint8 array into a QPixmap, optionally scaled to ``side`` pixels."""
    view = rgb_view(rgb)
    pix = QPixmap.fromImage(view.image.copy())
    if side:
        mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
        pix = pix.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)
    return pix


class LatentImage(QLabel):
    """The generated image, scaled up to fill the label (smooth or crisp pixels)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(256, 256)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #ffffff; border: 1px solid #c8c8c8;")
        self.image: np.ndarray | None = None
        self.smooth = True
        self.setText("No generator loaded")

    def set_image(self, rgb: np.ndarray) -> None:
        self.image = rgb
        self._refresh()

    def set_smooth(self, smooth: bool) -> None:
        self.smooth = smooth
        self._refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refresh()

    def _refresh(self) -> None:
        if self.image is None:
            return
        w = self.image.shape[1]
        side = min(self.width(), self.height()) - 4
        if not self.smooth:  # whole multiples only, so every source pixel becomes a square
            side = max(w, (side // w) * w)
        self.setPixmap(to_pixmap(self.image, max(16, side), self.smooth))


class ThumbStrip(QListWidget):
    """A horizontal strip of thumbnails carrying a payload each; ``picked(payload)`` on click."""

    picked = Signal(object)

    def __init__(self, icon: int = 48, limit: int = 0, captions: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.limit, self.captions = limit, captions
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(icon, icon))
        self.setFixedHeight(icon + (34 if captions else 18))
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(2)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.payloads: list[Any] = []
        self.itemClicked.connect(lambda item: self.picked.emit(self.payloads[self.row(item)]))

    def add(self, rgb: np.ndarray, payload: Any, text: str = "", newest_first: bool = True) -> None:
        item = QListWidgetItem(QIcon(to_pixmap(rgb, self.iconSize().width())), text if self.captions else "")
        item.setToolTip(text)
        if newest_first:
            self.insertItem(0, item)
            self.payloads.insert(0, payload)
        else:
            self.addItem(item)
            self.payloads.append(payload)
        while self.limit and self.count() > self.limit:
            drop = self.count() - 1 if newest_first else 0
            self.takeItem(drop)
            self.payloads.pop(drop)

    def clear_all(self) -> None:
        self.clear()
        self.payloads.clear()


class MessageBar(QFrame):
    """An inline notice (no modal dialog) with an optional action button."""

    action = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("MessageBar { background: #fff4ce; border: 1px solid #e0c870; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton()
        self.button.clicked.connect(self.action)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, action: str = "") -> None:
        self.text.setText(text)
        self.button.setText(action)
        self.button.setVisible(bool(action))
        self.show()
