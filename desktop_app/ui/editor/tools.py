"""Canvas tools: the brush and the eraser.

The canvas knows nothing about masks; it forwards presses, drags and releases in image
coordinates to the active ``CanvasTool`` (``tool_protocol``) and lets it draw its own on-screen
feedback. That is the seam for later tools (the point-and-click "Clicks" tool implements the
same interface and submits its clicks to a LatestWinsWorker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen

from desktop_app.core.mask_edit import Brush
from desktop_app.ui.editor.tool_protocol import CanvasTool, ToolCanvas

MIN_RADIUS, MAX_RADIUS = 0.5, 2000.0


class StrokeTarget(Protocol):
    """Whoever applies strokes to the mask (the editor controller)."""

    def begin_stroke(self, x: float, y: float, brush: Brush) -> None: ...

    def extend_stroke(self, x: float, y: float) -> None: ...

    def end_stroke(self) -> None: ...


@dataclass
class BrushSettings:
    """Shared by the brush and the eraser so switching tools keeps the size."""

    radius: float = 25.0
    hardness: float = 0.7
    strength: float = 1.0

    def grow(self, factor: float) -> None:
        self.radius = min(max(self.radius * factor, MIN_RADIUS), MAX_RADIUS)


class BrushTool(CanvasTool):
    """Paints (``erase=False``) or erases the mask along the drag, in image coordinates."""

    cursor_shape = Qt.CursorShape.CrossCursor

    def __init__(self, target: StrokeTarget, settings: BrushSettings, erase: bool = False) -> None:
        self.target = target
        self.settings = settings
        self.erase = erase
        self.name = "eraser" if erase else "brush"
        self._active = False

    def brush(self) -> Brush:
        s = self.settings
        return Brush(radius=s.radius, hardness=s.hardness, erase=self.erase, strength=s.strength)

    def press(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        self._active = True
        self.target.begin_stroke(pos.x(), pos.y(), self.brush())

    def move(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        if self._active:
            self.target.extend_stroke(pos.x(), pos.y())

    def release(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        if self._active:
            self._active = False
            self.target.extend_stroke(pos.x(), pos.y())
            self.target.end_stroke()

    def _screen_radius(self, canvas: ToolCanvas) -> float:
        return max(self.settings.radius * canvas.scale, 1.0)

    def paint_overlay(self, canvas: ToolCanvas, painter: QPainter, hover: QPointF) -> None:
        r = self._screen_radius(canvas)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # Two-tone outline: readable on light and dark photos alike.
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
        painter.drawEllipse(hover, r, r)
        painter.setPen(QPen(QColor(255, 255, 255), 1.2))
        painter.drawEllipse(hover, r, r)
        if self.settings.hardness < 1.0 and r > 6:
            inner = r * self.settings.hardness
            pen = QPen(QColor(255, 255, 255, 160), 1, Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.drawEllipse(hover, inner, inner)
        if self.erase and r > 8:
            painter.setPen(QPen(QColor(255, 255, 255), 1.5))
            painter.drawLine(hover + QPointF(-4, 0), hover + QPointF(4, 0))
        painter.restore()

    def overlay_rect(self, canvas: ToolCanvas, hover: QPointF) -> QRect:
        r = self._screen_radius(canvas) + 4
        return QRectF(hover.x() - r, hover.y() - r, 2 * r, 2 * r).toAlignedRect()
