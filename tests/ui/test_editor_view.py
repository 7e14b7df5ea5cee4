"""The editor's view: view modes, zoom under the pointer, panning, brush size keys, persisted
view settings (offscreen), driven through keys, menu entries and mouse events."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_models import make_seg_model
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from ui_helpers import canvas_pixel, choose, drag, open_photo, press, remove, show_main_window, write_photo

from desktop_app.ui.editor.canvas import ViewMode
from desktop_app.ui.editor.panels import VIEW_LABELS
from desktop_app.ui.main_window import MainWindow

CHECKER = {(255, 255, 255), (204, 204, 204)}  # the cut-out's transparency checkerboard
PHOTO_SUBJECT, PHOTO_BACKGROUND = (255, 0, 200), (0, 0, 200)  # write_photo's two halves


@pytest.fixture()
def window(qtbot, models_env: Path) -> MainWindow:
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    return show_main_window(qtbot)


def rgb(color) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()


@pytest.mark.parametrize("mode", list(ViewMode))
def test_view_modes_render(qtbot, window: MainWindow, tmp_path: Path, mode: ViewMode) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    choose(window, "View", VIEW_LABELS[mode])
    c = window.canvas
    if mode == ViewMode.SPLIT:  # drag the divider to 80 %: background left of it is the photo
        drag(c, [QPointF(c.divider_x(), c.height() / 2), c.map_from_image(QPointF(0.8 * 96, 30))])
    fg, bg = rgb(canvas_pixel(window, 10, 30)), rgb(canvas_pixel(window, 90, 30))
    if mode == ViewMode.MASK:
        assert min(fg) > 240 and max(bg) < 15
    elif mode == ViewMode.ORIGINAL:
        assert (fg, bg) == (PHOTO_SUBJECT, PHOTO_BACKGROUND)
    elif mode == ViewMode.OVERLAY:  # the tint marks what will be removed; the subject is untouched
        assert fg == PHOTO_SUBJECT and bg != PHOTO_BACKGROUND and bg[0] > 80
    elif mode == ViewMode.CUTOUT:
        assert fg == PHOTO_SUBJECT and bg in CHECKER
    else:  # split: the photo left of the divider, the cut-out right of it
        assert fg == PHOTO_SUBJECT and bg in CHECKER
        assert rgb(canvas_pixel(window, 60, 30)) == PHOTO_BACKGROUND
        assert c.split == pytest.approx(0.8, abs=0.02)
    assert window.view_panel.mode.currentData() == mode.value


def test_zoom_is_anchored_under_the_pointer(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    c = window.canvas
    anchor = QPointF(c.width() * 0.3, c.height() * 0.6)
    before = c.map_to_image(anchor)
    c.zoom_by(2.5, anchor)
    after = c.map_to_image(anchor)
    assert abs(before.x() - after.x()) < 1e-6 and abs(before.y() - after.y()) < 1e-6
    c.zoom_to(1.0)
    assert c.scale == 1.0
    c.fit()
    r = c.image_rect()
    assert r.width() <= c.width() and r.height() <= c.height()
    c.pan_by(QPointF(15, -5))
    assert c.image_rect().left() == pytest.approx(r.left() + 15)


def test_pan_tool_and_space_drag_move_the_view(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    c = window.canvas
    press(qtbot, window, "H")
    start = c.image_rect().topLeft()
    drag(c, [QPointF(100, 100), QPointF(130, 90)])
    assert c.image_rect().topLeft() - start == QPointF(30, -10)
    press(qtbot, window, "B")
    qtbot.keyPress(c, Qt.Key.Key_Space)
    drag(c, [QPointF(100, 100), QPointF(90, 100)])
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    assert c.image_rect().topLeft() - start == QPointF(20, -10)
    assert window.editor.doc is None  # nothing was painted


def test_brush_size_keys_and_outline(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    press(qtbot, window, "B")
    r0 = window.brush_settings.radius
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.brush_settings.radius > r0
    assert window.brush_panel.size.value() == round(window.brush_settings.radius)
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.brush_settings.radius < r0
    tool = window.canvas.tool
    rect = tool.overlay_rect(window.canvas, QPointF(50, 50))
    assert rect.width() >= 2 * window.brush_settings.radius * window.canvas.scale


def test_focus_changes_do_not_repaint_the_canvas(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """The canvas draws no focus frame, and Qt's default focus handling repainted all of it:
    on a 24 MP photo ~30 ms of painting at the first click after using a button, while the
    click's inference needed the cores."""
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    qtbot.waitUntil(window.isActiveWindow)
    paints = []

    class PaintSpy(QObject):
        def eventFilter(self, _obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                paints.append(event.rect())
            return False

    spy = PaintSpy()
    window.canvas.installEventFilter(spy)
    window.remove_button.setFocus()
    qtbot.wait(50)
    paints.clear()
    window.canvas.setFocus()
    qtbot.wait(50)
    assert window.canvas.hasFocus() and paints == []
    window.remove_button.setFocus()
    qtbot.wait(50)
    assert paints == []
    window.canvas.update()  # the spy does see the canvas's paints
    qtbot.waitUntil(lambda: bool(paints))


def test_view_settings_persist(qtbot, window: MainWindow) -> None:
    from PySide6.QtGui import QColor

    press(qtbot, window, "Alt+4")  # View ▸ Mask
    window.view_panel.color.set_color(QColor("#00ff00"))
    window.view_panel.opacity.setValue(30)
    window.brush_panel.size.setValue(77)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.canvas.mode == ViewMode.MASK
    assert again.canvas.overlay_color == QColor("#00ff00")
    assert again.canvas.overlay_opacity == pytest.approx(0.3)
    assert again.brush_settings.radius == 77
