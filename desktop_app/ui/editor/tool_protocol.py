"""The seam between the canvas and its tools, imported by both (neither imports the other).

``CanvasTool`` is what a left-drag on the canvas does: the canvas knows nothing about masks; it
forwards presses, drags and releases in image coordinates to the active tool and lets it draw
its own on-screen feedback. ``ToolCanvas`` is the little of the canvas a tool may use
(``ImageCanvas`` provides it).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QMouseEvent, QPainter


class ToolCanvas(Protocol):
    """What a tool sees of the canvas: the zoom and the image <-> widget mapping."""

    scale: float

    def map_to_image(self, p: QPointF) -> QPointF: ...

    def map_from_image(self, p: QPointF) -> QPointF: ...


class CanvasTool:
    """Base tool: no-op handlers and no overlay."""

    name = "none"
    cursor_shape = Qt.CursorShape.ArrowCursor

    def press(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        """Left button pressed at image position ``pos``."""

    def move(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        """Pointer dragged (left button held) to image position ``pos``."""

    def release(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        """Left button released at image position ``pos``."""

    def paint_overlay(self, canvas: ToolCanvas, painter: QPainter, hover: QPointF) -> None:
        """Draw feedback at widget position ``hover`` (called at the end of each paint)."""

    def paint_marks(self, canvas: ToolCanvas, painter: QPainter) -> None:
        """Draw persistent marks (e.g. click dots), whether or not the pointer is over the canvas."""

    def overlay_rect(self, canvas: ToolCanvas, hover: QPointF) -> QRect:
        """Widget rectangle that ``paint_overlay`` touches for this hover position."""
        return QRect()
