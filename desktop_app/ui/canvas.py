"""The image canvas: zoom/pan, the five view modes, and pointer events for the active tool.

Why a custom QWidget with QPainter rather than QGraphicsView: every paint event draws only
the exposed rectangle, straight from zero-copy QImage views of the numpy photo (via a
pyramid level near screen resolution) and of the live mask. Brush edits then cost a repaint
of the dab's rectangle and nothing else, which keeps painting smooth on 24 MP photos.

Coordinates: ``widget = image * scale + offset``. Tools receive image coordinates (floats,
pixel (i, j) spans [j, j+1) x [i, i+1)).
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from desktop_app.core.history import Rect
from desktop_app.ui.qimage import ImageView, alpha_view, grey_view, rgb_view, set_tint, tint_view
from desktop_app.ui.tools import CanvasTool

MIN_SCALE, MAX_SCALE = 0.01, 64.0
SMOOTH_MASK_LIMIT = 8_000_000  # source pixels above which the mask is drawn without filtering
CANVAS_BG = QColor(43, 45, 48)


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


class ImageCanvas(QWidget):
    """Displays a photo and its mask; forwards pointer input to a ``CanvasTool``."""

    view_changed = Signal()  # scale or offset changed
    pointer_moved = Signal(float, float)  # image coordinates under the pointer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 150)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._levels: list[ImageView] = []
        self._mask: np.ndarray | None = None
        self._tint: ImageView | None = None
        self._grey: ImageView | None = None
        self._alpha: ImageView | None = None
        self.mode = ViewMode.OVERLAY
        self.overlay_color = QColor(255, 64, 96)
        self.overlay_opacity = 0.5
        self.background = BackgroundKind.TRANSPARENT
        self.background_color = QColor(255, 255, 255)
        self._background_image: ImageView | None = None
        self._blur_image: ImageView | None = None
        self._checker = checker_brush()
        self.split = 0.5  # divider position as a fraction of the image width
        self.scale = 1.0
        self.offset = QPointF(0.0, 0.0)
        self._fit_mode = True
        self._pan_anchor: QPointF | None = None
        self._dragging_divider = False
        self._space_down = False
        self._hover: QPointF | None = None
        self.tool: CanvasTool | None = None
        self.placeholder = "Open a photo: Ctrl+O, drop a file here, or paste an image (Ctrl+V)"

    # -- content ----------------------------------------------------------------------------
    def set_photo(self, levels: list[np.ndarray]) -> None:
        """Show a new photo given as a pyramid (level 0 = full resolution)."""
        self._levels = [rgb_view(a) for a in levels]
        self._blur_image = None
        self.set_mask(None)
        self.fit()

    def has_photo(self) -> bool:
        return bool(self._levels)

    def image_size(self) -> QSize:
        if not self._levels:
            return QSize(0, 0)
        return self._levels[0].image.size()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (edited in place by the editor; call ``mask_updated`` after edits)."""
        self._mask = mask
        if mask is None:
            self._tint = self._grey = self._alpha = None
        else:
            self._tint = tint_view(mask, self.overlay_color, self.overlay_opacity)
            self._grey = grey_view(mask)
            self._alpha = alpha_view(mask)
        self.update()

    def mask_updated(self, rect: Rect | None = None) -> None:
        """Repaint the part of the widget showing image rectangle ``rect`` (None: all)."""
        if rect is None:
            self.update()
            return
        x, y, w, h = rect
        self.update(self.map_rect_from_image(QRectF(x, y, w, h)).toAlignedRect().adjusted(-2, -2, 2, 2))

    def set_view_mode(self, mode: ViewMode | str) -> None:
        self.mode = ViewMode(mode)
        self.update()

    def set_overlay(self, color: QColor | None = None, opacity: float | None = None) -> None:
        if color is not None:
            self.overlay_color = QColor(color)
        if opacity is not None:
            self.overlay_opacity = float(opacity)
        if self._tint is not None:
            set_tint(self._tint.image, self.overlay_color, self.overlay_opacity)
        self.update()

    def set_background(
        self,
        kind: BackgroundKind | str,
        color: QColor | None = None,
        image: np.ndarray | None = None,
        blurred: np.ndarray | None = None,
    ) -> None:
        """Background shown behind the cut-out; ``image``/``blurred`` are display previews."""
        self.background = BackgroundKind(kind)
        if color is not None:
            self.background_color = QColor(color)
        if image is not None:
            self._background_image = rgb_view(image)
        if blurred is not None:
            self._blur_image = rgb_view(blurred)
        self.update()

    def set_tool(self, tool: CanvasTool | None) -> None:
        self.tool = tool
        self._update_cursor()
        self.update()

    # -- geometry ---------------------------------------------------------------------------
    def map_to_image(self, p: QPointF) -> QPointF:
        return (p - self.offset) / self.scale

    def map_from_image(self, p: QPointF) -> QPointF:
        return p * self.scale + self.offset

    def map_rect_from_image(self, r: QRectF) -> QRectF:
        return QRectF(self.map_from_image(r.topLeft()), r.size() * self.scale)

    def image_rect(self) -> QRectF:
        """Where the whole photo lies, in widget coordinates."""
        return self.map_rect_from_image(QRectF(QPointF(0, 0), self.image_size().toSizeF()))

    def fit(self) -> None:
        """Scale the photo to fit the widget, centred (and keep fitting on resize)."""
        self._fit_mode = True
        size = self.image_size()
        if size.isEmpty():
            self.update()
            return
        margin = 16
        s = min((self.width() - margin) / size.width(), (self.height() - margin) / size.height())
        self._set_view(max(MIN_SCALE, min(MAX_SCALE, s)), None, keep_fit=True)
        self.offset = QPointF(
            (self.width() - size.width() * self.scale) / 2, (self.height() - size.height() * self.scale) / 2
        )
        self.view_changed.emit()
        self.update()

    def zoom_to(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom so that the image point under ``anchor`` (widget coords) stays put."""
        self._set_view(max(MIN_SCALE, min(MAX_SCALE, scale)), anchor)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.scale * factor, anchor)

    def zoom_anchor(self) -> QPointF:
        """The pointer if it is over the canvas, else the centre (for keyboard zoom)."""
        if self._hover is not None and self.rect().contains(self._hover.toPoint()):
            return QPointF(self._hover)
        return QPointF(self.width() / 2, self.height() / 2)

    def _set_view(self, scale: float, anchor: QPointF | None, keep_fit: bool = False) -> None:
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        img_pt = self.map_to_image(anchor)
        self.scale = scale
        self.offset = anchor - img_pt * scale
        self._fit_mode = keep_fit
        self.view_changed.emit()
        self.update()

    def pan_by(self, delta: QPointF) -> None:
        self.offset += delta
        self._fit_mode = False
        self.view_changed.emit()
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        exposed = event.rect()
        p.fillRect(exposed, CANVAS_BG)
        if not self._levels:
            p.setPen(QColor(190, 190, 190))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        area = self.image_rect().toAlignedRect().intersected(exposed)
        if not area.isEmpty():
            if self.mode == ViewMode.SPLIT and self._mask is not None:
                split_x = round(self.map_from_image(QPointF(self.split * self.image_size().width(), 0)).x())
                left = area.intersected(QRect(area.left(), area.top(), split_x - area.left(), area.height()))
                right = area.intersected(
                    QRect(split_x, area.top(), area.right() - split_x + 1, area.height())
                )
                if not left.isEmpty():
                    self._draw_original(p, left)
                if not right.isEmpty():
                    self._draw_cutout(p, right)
                self._draw_divider(p, split_x)
            else:
                self._draw_mode(p, area)
        if self.tool is not None and self._hover is not None:
            p.setClipping(False)
            self.tool.paint_overlay(self, p, self._hover)
        p.end()

    def _draw_mode(self, p: QPainter, area: QRect) -> None:
        if self._mask is None or self.mode == ViewMode.ORIGINAL:
            self._draw_original(p, area)
        elif self.mode == ViewMode.OVERLAY:
            self._draw_original(p, area)
            self._draw_mask_image(p, area, self._tint)
        elif self.mode == ViewMode.MASK:
            self._draw_mask_image(p, area, self._grey)
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
        p.save()
        p.setClipRect(area)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        p.drawImage(rects[0], image, rects[1])
        p.restore()

    def _photo_level(self) -> QImage:
        k = 0
        while k + 1 < len(self._levels) and self.scale * (2 ** (k + 1)) <= 1.0:
            k += 1
        return self._levels[k].image

    def _draw_original(self, p: QPainter, area: QRect) -> None:
        self._blit(p, area, self._photo_level(), smooth=self.scale < 1.0)

    def _mask_smooth(self, area: QRect) -> bool:
        if self.scale >= 1.0:
            return False
        return (area.width() * area.height()) / (self.scale * self.scale) <= SMOOTH_MASK_LIMIT

    def _draw_mask_image(self, p: QPainter, area: QRect, view: ImageView | None) -> None:
        if view is not None:
            self._blit(p, area, view.image, smooth=self._mask_smooth(area))

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
        if self._alpha is None:
            return
        layer = QImage(area.size(), QImage.Format.Format_ARGB32_Premultiplied)
        layer.fill(Qt.GlobalColor.transparent)
        lp = QPainter(layer)
        lp.translate(-area.left(), -area.top())
        self._blit(lp, area, self._photo_level(), smooth=self.scale < 1.0)
        lp.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
        self._blit(lp, area, self._alpha.image, smooth=self._mask_smooth(area))
        lp.end()
        p.drawImage(area.topLeft(), layer)

    def _draw_divider(self, p: QPainter, x: int) -> None:
        r = self.image_rect()
        p.save()
        p.setClipping(False)
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        cy = min(max(r.center().y(), 20.0), self.height() - 20.0)
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(40, 40, 40), 1))
        p.drawEllipse(QPointF(x, cy), 9, 9)
        p.setPen(QPen(QColor(40, 40, 40), 2))
        p.drawLine(QPointF(x - 4, cy), QPointF(x + 4, cy))
        p.restore()

    def divider_x(self) -> float:
        return self.map_from_image(QPointF(self.split * self.image_size().width(), 0)).x()

    # -- input ------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self._levels:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25**steps, event.position())
        event.accept()

    def _over_divider(self, pos: QPointF) -> bool:
        return self.mode == ViewMode.SPLIT and self._mask is not None and abs(pos.x() - self.divider_x()) <= 8

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_anchor = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.LeftButton and self._over_divider(pos):
            self._dragging_divider = True
        elif button == Qt.MouseButton.LeftButton and self.tool is not None and self._levels:
            self.tool.press(self, self.map_to_image(pos), event)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        old_hover, self._hover = self._hover, QPointF(pos)
        if self._pan_anchor is not None:
            self.pan_by(pos - self._pan_anchor)
            self._pan_anchor = pos
        elif self._dragging_divider:
            width = max(self.image_size().width(), 1)
            self.split = min(max(self.map_to_image(pos).x() / width, 0.0), 1.0)
            self.update()
        elif self.tool is not None and self._levels:
            if event.buttons() & Qt.MouseButton.LeftButton:
                self.tool.move(self, self.map_to_image(pos), event)
            self._update_tool_overlay(old_hover)
        if self._levels:
            img = self.map_to_image(pos)
            self.pointer_moved.emit(img.x(), img.y())
        self._update_cursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_anchor is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_anchor = None
        elif self._dragging_divider:
            self._dragging_divider = False
        elif event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self._levels:
            self.tool.release(self, self.map_to_image(event.position()), event)
        self._update_cursor()

    def leaveEvent(self, event) -> None:
        old, self._hover = self._hover, None
        self._update_tool_overlay(old)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self._update_cursor()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self._pan_anchor = None
            self._update_cursor()
            return
        super().keyReleaseEvent(event)

    def _update_tool_overlay(self, old_hover: QPointF | None) -> None:
        if self.tool is None:
            return
        for pt in (old_hover, self._hover):
            if pt is not None:
                self.update(self.tool.overlay_rect(self, pt))

    def refresh_tool_overlay(self) -> None:
        """Repaint the tool outline (e.g. after the brush size changed)."""
        if self.tool is not None and self._hover is not None:
            self.update(self.tool.overlay_rect(self, self._hover).adjusted(-400, -400, 400, 400))

    def _update_cursor(self) -> None:
        if self._pan_anchor is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space_down:
            shape = Qt.CursorShape.OpenHandCursor
        elif self._hover is not None and self._over_divider(self._hover):
            shape = Qt.CursorShape.SplitHCursor
        elif self.tool is not None:
            shape = self.tool.cursor_shape
        else:
            shape = Qt.CursorShape.ArrowCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
