"""The app's icon as Qt images, rendered from the one SVG in ``assets/icons``.

Why render instead of shipping PNGs: the repository keeps one drawing; every size (window,
taskbar, the desktop entry's hicolor theme) is drawn from it with QSvgRenderer, which needs
no QApplication for shapes (the icon has no text), so the desktop-entry installer can use it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop_app.core.resources import icon_svg

ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def render_icon(size: int) -> QImage:
    """The icon as a size x size ARGB image (transparent corners); a null image if the SVG is missing."""
    renderer = QSvgRenderer(str(icon_svg()))
    if not renderer.isValid():
        return QImage()
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def app_icon() -> QIcon:
    """A QIcon with every size drawn from the SVG (needs a QGuiApplication for the pixmaps)."""
    icon = QIcon()
    for size in ICON_SIZES:
        image = render_icon(size)
        if not image.isNull():
            icon.addPixmap(QPixmap.fromImage(image))
    return icon
