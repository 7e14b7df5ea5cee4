"""Helpers for the GUI tests: photos with a known subject, mouse drags, waiting for jobs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget


def write_photo(path: Path, width: int = 96, height: int = 64, subject: bool = True) -> Path:
    """A PNG whose left half is red (the tiny "red" model calls it subject), right half blue."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[..., 2] = 200
    if subject:
        rgb[:, : width // 2, 0] = 255
    Image.fromarray(rgb).save(path)
    return path


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons) -> None:
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, points: list[QPointF]) -> None:
    """Press at the first point, move through the rest with the left button held, release."""
    left = Qt.MouseButton.LeftButton
    send_mouse(widget, QEvent.Type.MouseButtonPress, points[0], left, left)
    for p in points[1:]:
        send_mouse(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], left, Qt.MouseButton.NoButton)


def capsule_union(shape: tuple[int, int], points: list[tuple[float, float]], r: float) -> np.ndarray:
    """Pixels whose centre lies within r of the polyline through ``points`` (image coords)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    out = np.zeros(shape, bool)
    segs = list(itertools.pairwise(points)) or [(points[0], points[0])]
    for (ax, ay), (bx, by) in segs:
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / ll, 0, 1) if ll else np.zeros_like(xs)
        out |= np.hypot(xs - (ax + t * dx), ys - (ay + t * dy)) <= r
    return out


def show_main_window(qtbot):
    """A MainWindow registered with qtbot, 1000x700, shown and exposed (offscreen)."""
    from desktop_app.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    return win
