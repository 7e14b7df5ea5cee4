"""Point-and-click selection in the editor, with a tiny click model whose output reveals its
guidance (probability = max(positive disks, previous mask) * (1 - negative disks)).

Driven with keys (C, Ctrl+R, Ctrl+Z, Esc, Enter) and mouse clicks, as a person does."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import make_click_model, make_seg_model
from PySide6.QtCore import QPointF, Qt
from ui_helpers import click, menu_action, press, show_main_window, write_photo

from desktop_app.ui.main_window import MainWindow

WAIT = 15000


@pytest.fixture()
def window(qtbot, models_env: Path) -> MainWindow:
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=2.0)
    return show_main_window(qtbot)


def _open(qtbot, win: MainWindow, tmp_path: Path) -> None:
    """Ctrl+O on a photo, then C for the Clicks tool."""
    win.ask_open_file = lambda *_a: str(write_photo(tmp_path / "p.png"))
    with qtbot.waitSignal(win.editor.photo_changed, timeout=WAIT):
        press(qtbot, win, "Ctrl+O")
    press(qtbot, win, "C")
    assert menu_action(win, "Tools", "Clicks").isChecked() and win.canvas.tool is win.click_tool


def _remove(qtbot, win: MainWindow) -> None:
    with qtbot.waitSignal(win.editor.removal_finished, timeout=WAIT):
        press(qtbot, win, "Ctrl+R")


def _click(qtbot, win: MainWindow, x: float, y: float, button=Qt.MouseButton.LeftButton, wait: bool = True) -> None:
    pos = win.canvas.map_from_image(QPointF(x, y)).toPoint()
    if wait:
        with qtbot.waitSignal(win.editor.mask_changed, timeout=WAIT):
            qtbot.mouseClick(win.canvas, button, pos=pos)
    else:
        qtbot.mouseClick(win.canvas, button, pos=pos)


def test_left_click_selects_where_clicked_and_undo_restores_exactly(qtbot, window: MainWindow, tmp_path):
    _open(qtbot, window, tmp_path)
    _click(qtbot, window, 70, 30)
    mask = window.editor.mask.copy()
    assert mask[30, 70] == 255 and mask[5, 5] == 0 and mask[60, 20] == 0
    assert [c.positive for c in window.click_controller.clicks] == [True]
    assert "Click:" in window.statusBar().currentMessage()
    # second click elsewhere: the first selection stays (it is the previous mask)
    _click(qtbot, window, 20, 15)
    second = window.editor.mask.copy()
    assert second[15, 20] == 255 and second[30, 70] == 255
    press(qtbot, window, "Ctrl+Z")  # undoes one click, bit-exact
    np.testing.assert_array_equal(window.editor.mask, mask)
    assert len(window.click_controller.clicks) == 1


def test_right_click_removes_from_the_mask(qtbot, window: MainWindow, tmp_path):
    _open(qtbot, window, tmp_path)
    _remove(qtbot, window)  # left half (red) is the subject
    assert window.editor.mask[30, 20] == 255
    _click(qtbot, window, 20, 30, Qt.MouseButton.RightButton)
    assert window.editor.mask[30, 20] == 0
    assert window.editor.mask[30, 5] == 255  # the rest of the automatic mask is kept
    assert window.click_controller.clicks[-1].positive is False


def test_rapid_clicks_are_all_applied(qtbot, window: MainWindow, tmp_path):
    _open(qtbot, window, tmp_path)
    points = [(10, 10), (50, 40), (85, 55)]
    for x, y in points:
        _click(qtbot, window, x, y, wait=False)
    qtbot.waitUntil(lambda: window.click_controller.session.applied[-1:] == [3], timeout=WAIT)
    mask = window.editor.mask
    assert all(mask[y, x] == 255 for x, y in points)


def test_a_result_from_a_mask_that_changed_during_the_run_is_predicted_again(qtbot, window: MainWindow, tmp_path):
    """The worker reads the live mask (no 24 MP copy per click). If the mask changes while it
    runs, its result is not pasted over the change: the clicks are predicted again from the
    mask as it is now, and undoing the click restores that mask exactly."""
    _open(qtbot, window, tmp_path)
    _remove(qtbot, window)  # left half is the subject
    ctrl = window.click_controller
    run, started, release, requests = ctrl.worker._fn, threading.Event(), threading.Event(), []

    def held(req, token):
        requests.append(req)
        if len(requests) == 1:
            started.set()
            release.wait(WAIT / 1000)
        return run(req, token)

    ctrl.worker._fn = held
    _click(qtbot, window, 70, 30, wait=False)
    assert started.wait(WAIT / 1000)
    assert requests[0].prev is window.editor.mask  # the live mask, not a copy
    window.editor.invert()  # meanwhile: the right half is the subject now
    inverted = window.editor.mask.copy()
    release.set()
    qtbot.waitUntil(lambda: ctrl.session.applied == [1], timeout=WAIT)
    assert len(requests) == 2 and requests[1].mask_version > requests[0].mask_version
    mask = window.editor.mask
    assert mask[30, 70] == 255 and mask[30, 90] == 255  # the click, on the inverted mask
    assert mask[30, 5] == 0  # the first run's result (left half kept) was not pasted
    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, inverted)


def test_a_click_repaints_its_own_dot_not_the_box_around_all_dots(qtbot, window: MainWindow, tmp_path):
    """Painting competes with the click's inference for the cores: a new dot, or an undone
    one, repaints its 22 px square, not the box spanning every dot (much of the canvas)."""
    _open(qtbot, window, tmp_path)
    _click(qtbot, window, 10, 10)
    _click(qtbot, window, 85, 55)
    requested = []
    update = window.canvas.update
    window.canvas.update = lambda *rect: (requested.extend(rect), update(*rect))[1]

    def dot_repaints() -> list:
        return [r for r in requested if r.width() <= 30 and r.height() <= 30]

    centre = window.canvas.map_from_image(QPointF(50.5, 40.5)).toPoint()
    _click(qtbot, window, 50, 40)
    assert len(dot_repaints()) == 1 and dot_repaints()[0].contains(centre)
    requested.clear()
    press(qtbot, window, "Ctrl+Z")  # the third dot goes, the others stay
    assert len(dot_repaints()) == 1 and dot_repaints()[0].contains(centre)


def test_escape_discards_the_session_and_enter_keeps_it(qtbot, window: MainWindow, tmp_path):
    _open(qtbot, window, tmp_path)
    before = None if window.editor.mask is None else window.editor.mask.copy()
    _click(qtbot, window, 70, 30)
    _click(qtbot, window, 20, 15)
    press(qtbot, window, "Escape")
    assert window.click_controller.clicks == []
    if before is None:
        assert not window.editor.mask.any()
    else:
        np.testing.assert_array_equal(window.editor.mask, before)
    _click(qtbot, window, 70, 30)
    kept = window.editor.mask.copy()
    press(qtbot, window, "Return")
    assert window.click_controller.clicks == []
    np.testing.assert_array_equal(window.editor.mask, kept)


def test_second_pass_checkbox_runs_removal_through_the_click_model(qtbot, window: MainWindow, tmp_path):
    _open(qtbot, window, tmp_path)
    _remove(qtbot, window)
    plain = window.editor.mask.copy()
    assert "second pass" not in window.statusBar().currentMessage()
    click(qtbot, window.second_pass)
    _remove(qtbot, window)
    twice = window.editor.mask
    # the person is told the second pass ran, and with which click model
    assert "tiny-seed + second pass (tiny-clicks)" in window.statusBar().currentMessage()
    assert "second pass (tiny-clicks)" in window.model_label.text()
    # the revealing model returns max(click disk, previous mask): the subject survives the pass
    assert twice[30, 20] == 255 and twice[5, 90] == 0
    a, b = twice >= 128, plain >= 128  # edges are resampled through the 32 px model: compare shapes
    assert (a & b).sum() / (a | b).sum() > 0.9
    assert window.editor.last_removal.seconds > 0


def test_second_pass_without_a_click_model_reports_it(qtbot, models_env: Path, tmp_path):
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    win = show_main_window(qtbot)
    _open(qtbot, win, tmp_path)
    click(qtbot, win.second_pass)
    press(qtbot, win, "Ctrl+R")
    qtbot.waitUntil(lambda: any("click model" in message for _, message in win.errors), timeout=WAIT)
    assert win.editor.mask is None


def test_keep_clicks_local_from_the_tools_menu(qtbot, models_env: Path, tmp_path):
    """A click model that over-reaches into every dark pixel: with Tools > Keep clicks local
    (on by default) a click on one dark patch adds that patch only; turned off in the menu,
    the same click also takes the dark patch across the photo."""
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=2.0, grabs_dark=True)
    win = show_main_window(qtbot)
    rgb = np.full((80, 120, 3), 220, np.uint8)
    rgb[20:60, 45:75] = (255, 0, 0)  # the subject the removal finds
    rgb[30:45, 10:25] = 5  # dark patches left and right of it
    rgb[30:45, 95:110] = 5
    from PIL import Image

    Image.fromarray(rgb).save(tmp_path / "dark.png")
    win.ask_open_file = lambda *_a: str(tmp_path / "dark.png")
    with qtbot.waitSignal(win.editor.photo_changed, timeout=WAIT):
        press(qtbot, win, "Ctrl+O")
    _remove(qtbot, win)
    press(qtbot, win, "C")
    local = menu_action(win, "Tools", "Keep clicks local")
    assert local.isCheckable() and local.isChecked()
    _click(qtbot, win, 17, 37)
    assert win.editor.mask[37, 17] == 255 and win.editor.mask[40, 60] == 255
    assert win.editor.mask[37, 102] == 0  # the other dark patch: not the click's
    press(qtbot, win, "Escape")
    local.trigger()
    assert not win.click_controller.keep_local
    _click(qtbot, win, 17, 37)
    assert win.editor.mask[37, 17] == 255 and win.editor.mask[37, 102] == 255
    win.ask_unsaved = lambda _doing: "discard"
    win.close()  # the choice is remembered with the window's other settings
    assert not menu_action(show_main_window(qtbot), "Tools", "Keep clicks local").isChecked()
