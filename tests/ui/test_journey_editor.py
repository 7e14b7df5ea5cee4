"""The editor as a person meets it: only menus found by their text, key presses and mouse clicks
on the widgets; results read from the status bar, the menus and the rendered canvas.

(The suite once passed while the Clicks tool was in no menu, no panel and had no working key,
because tests called ``set_tool("clicks")``. Nothing here calls such internals to *do*
anything; a few read internal state to *check* the result exactly.)
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import make_click_model, make_seg_model
from PySide6.QtCore import QPointF, Qt
from ui_helpers import (
    canvas_pixel,
    choose,
    click_image,
    drag,
    hover_image,
    menu_action,
    press,
    show_main_window,
    write_photo,
)

from desktop_app.ui.main_window import MainWindow

WAIT = 15_000
W, H = 240, 160  # the photo: left half red (the tiny model's subject), right half blue
# the tiny click model's disk, in its 32 px input: ~105 photo pixels in the zoom crop, ~40 in the focus crop
CLICK_RADIUS = 14.0


@pytest.fixture()
def models(models_env: Path) -> Path:
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=CLICK_RADIUS)
    return models_env


@pytest.fixture()
def window(qtbot, models: Path) -> MainWindow:
    return show_main_window(qtbot)


def open_with_ctrl_o(qtbot, win: MainWindow, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+O, and the file dialog answered with ``path``."""
    monkeypatch.setattr(win, "ask_open_file", lambda *_a: str(path))
    with qtbot.waitSignal(win.editor.photo_changed, timeout=WAIT):
        press(qtbot, win, "Ctrl+O")


def remove_with_ctrl_r(qtbot, win: MainWindow) -> None:
    with qtbot.waitSignal(win.editor.removal_finished, timeout=WAIT):
        press(qtbot, win, "Ctrl+R")


def status(win: MainWindow) -> str:
    return win.statusBar().currentMessage()


def checked_tool(win: MainWindow) -> list[str]:
    """The checked entries among Tools ▸ Pan / Brush / Eraser / Clicks."""
    return [name for name in ("Pan", "Brush", "Eraser", "Clicks") if menu_action(win, "Tools", name).isChecked()]


def test_clicks_tool_is_in_the_tools_menu_the_tools_panel_and_on_c(qtbot, window: MainWindow) -> None:
    action = menu_action(window, "Tools", "Clicks")
    assert action.shortcut().toString() == "C"
    section = window.sections["Tools"]
    buttons = {b.text(): b for b in section.findChildren(type(window.brush_panel.tool_buttons[0]))}
    assert list(buttons) == ["Pan", "Brush", "Eraser", "Clicks"]
    qtbot.mouseClick(buttons["Clicks"], Qt.MouseButton.LeftButton)
    assert checked_tool(window) == ["Clicks"] and window.canvas.tool is window.click_tool
    press(qtbot, window, "B")
    assert checked_tool(window) == ["Brush"]
    press(qtbot, window, "C")
    assert checked_tool(window) == ["Clicks"] and window.canvas.tool is window.click_tool


def test_open_remove_press_c_click_grows_the_mask_and_ctrl_z_restores_it(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_with_ctrl_o(qtbot, window, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    press(qtbot, window, "B")  # a person who picked the brush first: C must still get them clicks
    remove_with_ctrl_r(qtbot, window)
    before = window.editor.mask.copy()
    assert (before[:, : W // 2 - 8] == 255).all() and (before[:, W // 2 + 8 :] == 0).all()
    press(qtbot, window, "C")
    assert checked_tool(window) == ["Clicks"]

    with qtbot.waitSignal(window.editor.mask_changed, timeout=WAIT):
        click_image(qtbot, window, 180, 80)  # a positive click on the background
    after = window.editor.mask.copy()
    grown = (after >= 128) & (before < 128)
    dab = np.pi * window.brush_panel.size.value() ** 2  # what the same click paints with the brush
    assert after[80, 180] == 255 and grown.sum() > 4 * dab  # a region, not a dab
    assert not ((before >= 128) & (after < 128)).any()  # a positive click removes nothing
    assert status(window).startswith("Click:")
    press(qtbot, window, "Alt+4")  # View ▸ Mask: the rendered canvas shows the new region white
    assert after[115, 180] == 255 and canvas_pixel(window, 180, 115).lightness() > 240  # beside the dot

    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, before)
    assert canvas_pixel(window, 180, 115).lightness() < 15
    assert "Click:" not in status(window)


def test_window_starts_in_pan_and_switches_to_clicks_once_a_mask_exists(
    qtbot, models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = MainWindow()  # a first start: no saved geometry or tool
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert (win.width(), win.height()) == (1280, 820)
    scroll = win.side_dock.widget()  # every section of the panel is visible without scrolling
    assert scroll.verticalScrollBar().maximum() == 0
    crop = win.background_panel.crop
    bottom = crop.mapTo(scroll.viewport(), crop.rect().bottomLeft()).y()
    assert crop.isVisible() and bottom < scroll.viewport().height()
    assert checked_tool(win) == ["Pan"]

    open_with_ctrl_o(qtbot, win, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    qtbot.waitUntil(lambda: win.click_controller.available, timeout=WAIT)  # found off the GUI thread
    click_image(qtbot, win, 60, 40)
    assert win.editor.mask is None  # a first click on the photo paints nothing
    remove_with_ctrl_r(qtbot, win)
    assert checked_tool(win) == ["Clicks"]


def test_clicks_is_offered_when_the_click_model_is_found_after_the_removal(
    qtbot, models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start-up the click model is looked for off the GUI thread; a quick removal can finish
    first. The switch to Clicks then comes when the model is found."""
    from desktop_app.ui.editor import click_tool

    found = threading.Event()
    real = click_tool.warm_up_clicks
    monkeypatch.setattr(click_tool, "warm_up_clicks", lambda: (found.wait(30), real())[1])
    win = show_main_window(qtbot)
    open_with_ctrl_o(qtbot, win, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    remove_with_ctrl_r(qtbot, win)
    assert checked_tool(win) == ["Pan"] and not win.click_controller.available
    found.set()
    qtbot.waitUntil(lambda: checked_tool(win) == ["Clicks"], timeout=WAIT)


def test_a_chosen_tool_is_kept_and_a_painting_tool_is_not_restored(
    qtbot, models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = show_main_window(qtbot)
    open_with_ctrl_o(qtbot, win, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    press(qtbot, win, "H")
    remove_with_ctrl_r(qtbot, win)
    assert checked_tool(win) == ["Pan"]  # the person chose Pan: no switch
    press(qtbot, win, "E")
    win.close()
    again = show_main_window(qtbot)
    assert checked_tool(again) == ["Pan"]  # the eraser from last time would erase on the first click


def test_esc_enter_and_ctrl_z_say_what_happened_to_the_clicks(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_with_ctrl_o(qtbot, window, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    remove_with_ctrl_r(qtbot, window)
    assert checked_tool(window) == ["Clicks"]
    masks = {}
    for key, expected in (("Ctrl+Z", "Undid the last click"), ("Return", "kept"), ("Escape", "discarded")):
        masks[key, "before"] = window.editor.mask.copy()
        with qtbot.waitSignal(window.editor.mask_changed, timeout=WAIT):
            click_image(qtbot, window, 200, 40)
        masks[key, "clicked"] = window.editor.mask.copy()
        assert status(window).startswith("Click:")
        press(qtbot, window, key)
        assert expected in status(window) and "Click:" not in status(window), key
        assert "Background removal cancelled" not in status(window)
        assert window.click_controller.clicks == []
    np.testing.assert_array_equal(masks["Return", "before"], masks["Ctrl+Z", "before"])  # undone
    np.testing.assert_array_equal(masks["Escape", "before"], masks["Return", "clicked"])  # kept
    np.testing.assert_array_equal(window.editor.mask, masks["Escape", "before"])  # discarded


def test_status_bar_readouts_follow_the_mask_and_the_photo(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_with_ctrl_o(qtbot, window, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    remove_with_ctrl_r(qtbot, window)
    assert " s" in window.model_label.text() and "tiny-seed" in window.model_label.text()
    hover_image(qtbot, window, 180, 80)
    assert window.pos_label.text() == "180, 80  mask 0"
    with qtbot.waitSignal(window.editor.mask_changed, timeout=WAIT):
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=window.canvas.map_from_image(
            QPointF(180.5, 80.5)).toPoint())  # fmt: skip
    assert window.pos_label.text() == "180, 80  mask 255"  # the pointer did not move
    press(qtbot, window, "Ctrl+Z")
    assert window.pos_label.text() == "180, 80  mask 0"
    press(qtbot, window, "Escape")

    open_with_ctrl_o(qtbot, window, write_photo(tmp_path / "other.png", 50, 40), monkeypatch)
    assert window.pos_label.text() == ""  # nothing about the previous photo
    assert window.model_label.text() == "Model: tiny-seed"


def test_fill_holes_invert_and_reset_from_the_menus(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_with_ctrl_o(qtbot, window, write_photo(tmp_path / "p.png", W, H), monkeypatch)
    remove_with_ctrl_r(qtbot, window)
    model = window.editor.mask.copy()
    press(qtbot, window, "E")
    window.brush_panel.size.setValue(4)
    window.brush_panel.hardness.setValue(100)
    c = window.canvas
    drag(c, [c.map_from_image(QPointF(40, y)) for y in (60, 70, 80)])  # a hole inside the subject
    holed = window.editor.mask.copy()
    assert holed[70, 40] == 0 and holed[70, 2] == 255

    choose(window, "Edit", "Fill holes")
    np.testing.assert_array_equal(window.editor.mask, model)  # the hole, and only it, is filled
    press(qtbot, window, "Ctrl+I")
    np.testing.assert_array_equal(window.editor.mask, 255 - model)
    choose(window, "Edit", "Reset to model mask")
    np.testing.assert_array_equal(window.editor.mask, model)
    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, 255 - model)
