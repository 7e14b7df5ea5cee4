"""Helpers for the GUI tests: photos with a known subject, mouse drags, waiting for jobs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

WAIT_MS = 15000  # signals from the window's workers (generous: CI machines are slow)


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


# -- what a person can do: menus by their text, keys, mouse clicks, modal answers --------------


def menu_action(win, *path: str):
    """The action at ``path`` in the menu bar, found by the texts a person reads (without the
    ``&`` mnemonic): ``menu_action(win, "Tools", "Clicks")`` or, through a submenu,
    ``menu_action(win, "View", "Pages", "Latent sliders")``. Fails when it is in no menu, which
    ``action.trigger()`` alone would never notice."""
    actions, found = win.menuBar().actions(), None
    for depth, name in enumerate(path):
        found = next((a for a in actions if a.text().replace("&", "") == name), None)
        if found is None:
            seen = [a.text().replace("&", "") for a in actions if a.text()]
            raise AssertionError(f"no {' ▸ '.join(path[: depth + 1])} in the menu bar (there: {seen})")
        if depth < len(path) - 1:
            assert found.menu() is not None, f"{name} is not a menu"
            actions = found.menu().actions()
    return found


def choose(win, *path: str) -> None:
    """Click a menu entry: it must exist, be visible and enabled, as for a person."""
    action = menu_action(win, *path)
    assert action.isVisible() and action.isEnabled(), f"{' ▸ '.join(path)} is disabled"
    action.trigger()


def press(qtbot, win, keys: str) -> None:
    """Type ``keys`` ("C", "Ctrl+Z", "Return") into whatever has the keyboard focus in ``win``."""
    from PySide6.QtGui import QKeySequence

    combo = QKeySequence(keys)[0]
    if QApplication.activeWindow() is not win:  # as a person clicks the window before typing:
        win.activateWindow()  # shortcuts match in the active window only (not, e.g., in a
        qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)  # non-modal error box)
    target = win.focusWidget() or win
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def open_photo(qtbot, win, path: Path) -> None:
    """File ▸ Open (Ctrl+O), the dialog answered with ``path``."""
    win.ask_open_file = lambda *_a: str(path)
    with qtbot.waitSignal(win.editor.photo_changed, timeout=WAIT_MS):
        press(qtbot, win, "Ctrl+O")


def remove(qtbot, win) -> None:
    """Model ▸ Remove background (Ctrl+R)."""
    with qtbot.waitSignal(win.editor.removal_finished, timeout=WAIT_MS):
        press(qtbot, win, "Ctrl+R")


def click_image(qtbot, win, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:
    """A mouse click on the canvas over image pixel (x, y)."""
    pos = win.canvas.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint()
    qtbot.mouseClick(win.canvas, button, pos=pos)


def hover_image(qtbot, win, x: float, y: float) -> None:
    """Move the pointer over image pixel (x, y) without pressing a button."""
    pos = win.canvas.map_from_image(QPointF(x + 0.5, y + 0.5))
    send_mouse(win.canvas, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)


def canvas_pixel(win, x: float, y: float):
    """The colour the canvas shows over image pixel (x, y) (a grab of the rendered widget)."""
    image = win.canvas.grab().toImage()
    return image.pixelColor(win.canvas.map_from_image(QPointF(x + 0.5, y + 0.5)).toPoint())


def answer_prompt(qtbot, button: str, seen: list[str], patience_ms: int = 5000) -> None:
    """Click ``button`` ("Save", "Discard" or "Cancel") in the next modal message box, as a
    person does. The box runs its own event loop, so the click comes from a timer that looks
    for the box every 10 ms; what the box said is appended to ``seen`` ("<no box>" if none
    appeared within ``patience_ms``, so a test expecting a box fails instead of hanging)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    standard = getattr(QMessageBox.StandardButton, button)
    timer = QTimer()
    ticks = [patience_ms // 10]

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.button(standard) is not None:
            timer.stop()
            seen.append(box.text())
            qtbot.mouseClick(box.button(standard), Qt.MouseButton.LeftButton)
        elif ticks[0] <= 0:
            timer.stop()
            seen.append("<no box>")
        ticks[0] -= 1

    timer.timeout.connect(look)
    timer.start(10)
    _timers.append(timer)  # kept alive until it has answered


_timers: list = []


def click(qtbot, button) -> None:
    """A mouse click on a button a person can see and press (a check box on its box: a wide
    one's middle may be empty space)."""
    from PySide6.QtWidgets import QCheckBox

    assert button.isVisible() and button.isEnabled(), f"{button.text()!r} cannot be clicked"
    pos = QPoint(8, button.height() // 2) if isinstance(button, QCheckBox) else button.rect().center()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=pos)


def drop(page, paths: list[Path]) -> bool:
    """A real drag-enter + drop of file URLs onto what the page shows (hint or table)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    target = page.views.currentWidget()
    if hasattr(target, "viewport"):
        target = target.viewport()
    centre = target.rect().center()
    action, buttons, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(centre), action, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(target, QDropEvent(QPointF(centre), action, mime, buttons, mods))
    return True
