"""Painting of the canvas's view modes, kept apart from zoom/pan and input handling.

Every method draws only the widget rectangle ``area`` it is given (the exposed or dirty part),
sampling the photo from the pyramid level nearest screen resolution and the mask from a
zero-copy view of the live array, so repaint cost follows the screen area, not the photo size.
Zoomed out, the part of a level under that area is converted to a format Qt scales fast first.
"""

from __future__ import annotations

import math
from enum import StrEnum

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap

from desktop_app.ui.shared.qimage import ImageView

MIN_SCALE, MAX_SCALE = 0.01, 64.0
CANVAS_BG = QColor(43, 45, 48)

# Qt's raster engine scales RGB32 / ARGB32_Premultiplied images with its SIMD bilinear path and
# the formats of our zero-copy views (RGB888 photo levels, Indexed8 tint, Grayscale8, Alpha8)
# with a generic per-pixel one: 4.7 and 7.8 ms for the photo and the tint of an overlay
# repaint of a 24 MP photo's canvas, against 2.7 and 1.8 ms when the exposed part is converted
# first (see CanvasDrawing._fast_source).
_FAST_FORMATS = {
    QImage.Format.Format_RGB888: QImage.Format.Format_RGB32,
    QImage.Format.Format_Indexed8: QImage.Format.Format_ARGB32_Premultiplied,
    QImage.Format.Format_Grayscale8: QImage.Format.Format_RGB32,
    QImage.Format.Format_Alpha8: QImage.Format.Format_ARGB32_Premultiplied,
}


class ViewMode(StrEnum):
    ORIGINAL = "original"
    OVERLAY = "overlay"
    CUTOUT = "cutout"
    MASK = "mask"
    SPLIT = "split"


class BackgroundKind(StrEnum):
    TRANSPARENT = "transparent"
    COLOR = "color"
    IMAGE = "image"
    BLUR = "blur"


def checker_brush(cell: int = 10) -> QBrush:
    tile = QPixmap(2 * cell, 2 * cell)
    tile.fill(QColor(204, 204, 204))
    p = QPainter(tile)
    p.fillRect(0, 0, cell, cell, QColor(255, 255, 255))
    p.fillRect(cell, cell, cell, cell, QColor(255, 255, 255))
    p.end()
    return QBrush(tile)


class CanvasDrawing:
    """Mixin for ImageCanvas: the drawing of each view mode (uses its geometry and views)."""

    def _draw_mode(self, p: QPainter, area: QRect) -> None:
        if self._mask is None or self.mode == ViewMode.ORIGINAL:
            self._draw_original(p, area)
        elif self.mode == ViewMode.OVERLAY:
            self._draw_original(p, area)
            self._draw_mask_image(p, area, self._pyramid.tint)
        elif self.mode == ViewMode.MASK:
            self._draw_mask_image(p, area, self._pyramid.grey)
        else:
            self._draw_cutout(p, area)

    def _source_rect(self, area: QRect, level_w: int) -> tuple[QRectF, QRectF] | None:
        """Image-space source rect (in a level of width ``level_w``) covering widget ``area``,
        padded by one pixel so filtering at the clip edge matches a full repaint."""
        full_w = self.image_size().width()
        f = level_w / full_w
        tl = self.map_to_image(QPointF(area.topLeft()))
        br = self.map_to_image(QPointF(area.right() + 1, area.bottom() + 1))
        size = self.image_size()
        x0 = max(math.floor(tl.x()) - 1, 0)
        y0 = max(math.floor(tl.y()) - 1, 0)
        x1 = min(math.ceil(br.x()) + 1, size.width())
        y1 = min(math.ceil(br.y()) + 1, size.height())
        if x1 <= x0 or y1 <= y0:
            return None
        target = self.map_rect_from_image(QRectF(x0, y0, x1 - x0, y1 - y0))
        return target, QRectF(x0 * f, y0 * f, (x1 - x0) * f, (y1 - y0) * f)

    def _blit(self, p: QPainter, area: QRect, image: QImage, smooth: bool) -> None:
        rects = self._source_rect(area, image.width())
        if rects is None:
            return
        target, source = rects
        if smooth:
            image, source = self._fast_source(image, target, source)
        p.save()
        p.setClipRect(area)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        p.drawImage(target, image, source)
        p.restore()

    def _fast_source(self, image: QImage, target: QRectF, source: QRectF) -> tuple[QImage, QRectF]:
        """The part of ``image`` under ``source`` (one pixel more on each side, for the
        filter) converted to a format Qt scales fast, and ``source`` in that copy.

        Only for device scales in [0.5, 1), where the result is pixel-identical to drawing
        the original (the levels of our pyramids are drawn at such scales): below 0.5 Qt's
        fast path switches to a lower-precision downscale, and at 1 to a different sampling.
        """
        fast = _FAST_FORMATS.get(image.format())
        device_scale = target.width() / source.width() * self.devicePixelRatioF()
        if fast is None or not 0.5 <= device_scale < 1.0:
            return image, source
        box = source.toAlignedRect().adjusted(-1, -1, 1, 1).intersected(image.rect())
        return image.copy(box).convertToFormat(fast), source.translated(-box.x(), -box.y())

    def _level_index(self, count: int) -> int:
        """Coarsest pyramid level still at or above screen resolution at the current zoom."""
        k = 0
        device_scale = self.scale * self.devicePixelRatioF()
        while k + 1 < count and device_scale * (2 ** (k + 1)) <= 1.0:
            k += 1
        return k

    def _photo_level(self) -> QImage:
        return self._levels[self._level_index(len(self._levels))].image

    def _mask_level(self, views: list[ImageView]) -> QImage:
        return views[self._level_index(len(views))].image

    def _draw_original(self, p: QPainter, area: QRect) -> None:
        self._blit(p, area, self._photo_level(), smooth=self.scale < 1.0)

    def _draw_mask_image(self, p: QPainter, area: QRect, views: list[ImageView] | None) -> None:
        # Zoomed in: crisp mask pixels for precise editing; zoomed out: filtered, from a level
        # near screen resolution (cheap and free of aliasing).
        if views is not None:
            self._blit(p, area, self._mask_level(views), smooth=self.scale < 1.0)

    def _draw_background(self, p: QPainter, area: QRect) -> None:
        if self.background == BackgroundKind.COLOR:
            p.fillRect(area, self.background_color)
            return
        stretch = {BackgroundKind.IMAGE: self._background_image, BackgroundKind.BLUR: self._blur_image}.get(
            self.background
        )
        if stretch is not None:
            img = stretch.image
            p.save()
            p.setClipRect(area)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(self.image_rect(), img, QRectF(img.rect()))
            p.restore()
            return
        p.save()
        p.setBrushOrigin(self.image_rect().topLeft())
        p.fillRect(area, self._checker)
        p.restore()

    def _draw_cutout(self, p: QPainter, area: QRect) -> None:
        """Background, then the photo masked by the mask's alpha (composited in a layer)."""
        self._draw_background(p, area)
        if self._pyramid is None:
            return
        dpr = self.devicePixelRatioF()  # full resolution on HiDPI screens
        layer = QImage(area.size() * dpr, QImage.Format.Format_ARGB32_Premultiplied)
        layer.setDevicePixelRatio(dpr)
        layer.fill(Qt.GlobalColor.transparent)
        lp = QPainter(layer)
        lp.translate(-area.left(), -area.top())
        self._blit(lp, area, self._photo_level(), smooth=self.scale < 1.0)
        lp.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
        self._blit(lp, area, self._mask_level(self._pyramid.alpha), smooth=self.scale < 1.0)
        lp.end()
        p.drawImage(area.topLeft(), layer)

    def _draw_divider(self, p: QPainter, x: int) -> None:
        """The split line with a round grip (two arrows) and "Original" / "Cut-out" tags."""
        r = self.image_rect()
        p.save()
        p.setClipping(False)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, max(r.top(), 0.0)), QPointF(x, min(r.bottom(), float(self.height()))))
        cy = min(max(r.center().y(), 20.0), self.height() - 20.0)
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(40, 40, 40), 1))
        p.drawEllipse(QPointF(x, cy), 12, 12)
        p.setBrush(QColor(40, 40, 40))
        p.setPen(Qt.PenStyle.NoPen)
        for sign in (-1, 1):
            tip = QPointF(x + sign * 8, cy)
            p.drawPolygon([tip, QPointF(x + sign * 3, cy - 4), QPointF(x + sign * 3, cy + 4)])
        top = max(r.top(), 0.0) + 8
        font = p.font()
        font.setPointSizeF(max(font.pointSizeF() - 1, 7))
        p.setFont(font)
        metrics = p.fontMetrics()
        for text, right in (("Original", True), ("Cut-out", False)):
            w = metrics.horizontalAdvance(text) + 12
            box = QRectF(x - w - 8 if right else x + 8, top, w, metrics.height() + 4)
            p.setBrush(QColor(0, 0, 0, 150))
            p.drawRoundedRect(box, 4, 4)
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            p.setPen(Qt.PenStyle.NoPen)
        p.restore()
