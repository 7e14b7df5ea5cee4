"""The image canvas: zoom/pan, the five view modes, and pointer events for the active tool.

Why a custom QWidget with QPainter rather than QGraphicsView: every paint event draws only
the exposed rectangle, straight from zero-copy QImage views of the numpy photo (via a
pyramid level near screen resolution) and of the live mask. Brush edits then cost a repaint
of the dab's rectangle and nothing else, which keeps painting smooth on 24 MP photos.

Coordinates: ``widget = image * scale + offset``. Tools receive image coordinates (floats,
pixel (i, j) spans [j, j+1) x [i, i+1)).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from desktop_app.core.history import Rect
from desktop_app.ui.editor.canvas_draw import (
    CANVAS_BG,
    MAX_SCALE,
    MIN_SCALE,
    BackgroundKind,
    CanvasDrawing,
    ViewMode,
    checker_brush,
)
from desktop_app.ui.editor.tool_protocol import CanvasTool
from desktop_app.ui.shared.qimage import ImageView, MaskPyramid, rgb_view

__all__ = ["BackgroundKind", "ImageCanvas", "ViewMode"]


class ImageCanvas(CanvasDrawing, QWidget):
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
        self._pyramid: MaskPyramid | None = None
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
        self._pyramid = None
        if mask is not None:
            self._pyramid = MaskPyramid(mask, len(self._levels), self.overlay_color, self.overlay_opacity)
        self.update()

    def mask_updated(self, rect: Rect | None = None) -> None:
        """Repaint the part of the widget showing image rectangle ``rect`` (None: all)."""
        if self._pyramid is not None:
            self._pyramid.update(rect)
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
        if self._pyramid is not None:
            self._pyramid.set_tint(self.overlay_color, self.overlay_opacity)
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
                right = area.intersected(QRect(split_x, area.top(), area.right() - split_x + 1, area.height()))
                if not left.isEmpty():
                    self._draw_original(p, left)
                if not right.isEmpty():
                    self._draw_cutout(p, right)
                self._draw_divider(p, split_x)
            else:
                self._draw_mode(p, area)
        if self.tool is not None:
            p.setClipping(False)
            self.tool.paint_marks(self, p)
            if self._hover is not None:
                self.tool.paint_overlay(self, p, self._hover)
        p.end()

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
        pan_with_left = self._space_down or (self.tool is None and not self._over_divider(pos))
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and pan_with_left):
            self._pan_anchor = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.LeftButton and self._over_divider(pos):
            self._dragging_divider = True
        elif self._tool_takes(button):
            self.tool.press(self, self.map_to_image(pos), event)
        event.accept()

    def _tool_takes(self, button: Qt.MouseButton) -> bool:
        """Left presses go to the active tool; right presses only to tools that ask for them
        (the Clicks tool's "not the subject" click)."""
        if self.tool is None or not self._levels:
            return False
        if button == Qt.MouseButton.RightButton:
            return bool(getattr(self.tool, "accepts_right_button", False))
        return button == Qt.MouseButton.LeftButton

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

    def focusInEvent(self, event: QFocusEvent) -> None:
        """No repaint: the canvas shows no focus frame, and QWidget's default repaints the
        whole widget, which for the first click on the canvas (focus was on a button) meant
        ~30 ms of painting a 24 MP photo while the click's inference needed the cores."""
        event.accept()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """No repaint either (see focusInEvent)."""
        event.accept()

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
        elif self._levels:
            shape = Qt.CursorShape.OpenHandCursor  # the Pan tool: left-drag moves the view
        else:
            shape = Qt.CursorShape.ArrowCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
