"""The main window end to end (offscreen): open, remove, paint, undo, export, drop, errors
(the view itself: test_editor_view.py).

Driven through what a person uses: shortcuts and menu entries found by their text, mouse drags
and clicks on the widgets; the file dialogs are answered through ``ask_open_file`` /
``ask_save_file``. Results are read exactly (masks, files, the rendered canvas).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import make_seg_model
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage, QKeySequence
from ui_helpers import (
    capsule_union,
    choose,
    click,
    drag,
    open_photo,
    press,
    remove,
    show_main_window,
    write_photo,
)

from desktop_app.core import model_meta as mm
from desktop_app.ui.editor.canvas import ViewMode
from desktop_app.ui.main_window import MainWindow

WAIT = 15000


@pytest.fixture()
def tiny_model(models_env: Path) -> Path:
    return make_seg_model(models_env / "tiny-red.onnx", fn="red")


@pytest.fixture()
def window(qtbot, tiny_model: Path) -> MainWindow:
    return show_main_window(qtbot)


def export(qtbot, win: MainWindow, keys: str, path: Path) -> None:
    """Ctrl+S (cut-out) or Ctrl+M (mask), the save dialog answered with ``path``; waits for the
    file (generous: the first export compiles pymatting's numba kernels in a fresh venv)."""
    win.ask_save_file = lambda *_a: str(path)
    with qtbot.waitSignal(win.exporter.finished, timeout=180_000):
        press(qtbot, win, keys)


def test_open_and_remove_with_tiny_model(qtbot, window: MainWindow, tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "photo.png")
    open_photo(qtbot, window, photo)
    assert window.canvas.has_photo() and "photo.png" in window.windowTitle()
    remove(qtbot, window)
    mask = window.editor.mask
    assert mask is not None and mask.shape == (64, 96)
    assert (mask[:, :40] >= 250).all() and (mask[:, 56:] <= 5).all()
    assert "tiny-seed" in window.model_label.text() and "CPU" in window.model_label.text()
    assert not window.busy_box.isVisible()


def test_brush_stroke_changes_exactly_expected_pixels_and_undo_is_bit_exact(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    before = window.editor.mask.copy()
    press(qtbot, window, "B")
    window.brush_panel.size.setValue(3)
    window.brush_panel.hardness.setValue(100)
    canvas = window.canvas
    img_points = [(60.3, 10.2), (70.8, 20.5), (88.1, 22.0)]
    widget_points = [canvas.map_from_image(QPointF(x, y)) for x, y in img_points]
    drag(canvas, widget_points)
    after = window.editor.mask.copy()
    # the tool receives exactly map_to_image(widget point): compute the expectation from that
    received = [(p.x(), p.y()) for p in (canvas.map_to_image(w) for w in widget_points)]
    expected = capsule_union(before.shape, received, 3.0) & (before != 255)
    np.testing.assert_array_equal(after != before, expected)
    assert (after[expected] == 255).all()
    assert window.undo_action.isEnabled() and "Brush" in window.undo_action.text()

    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, before)
    press(qtbot, window, "Ctrl+Shift+Z")
    np.testing.assert_array_equal(window.editor.mask, after)
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert QKeySequence("Ctrl+Shift+Z") in window.redo_action.shortcuts()


def test_eraser_removes_and_history_groups_per_stroke(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    press(qtbot, window, "E")
    window.brush_panel.size.setValue(4)
    window.brush_panel.hardness.setValue(100)
    c = window.canvas
    drag(c, [c.map_from_image(QPointF(10, y)) for y in (5, 15, 25, 35, 45)])
    assert window.editor.mask[25, 10] == 0
    assert len(window.editor.doc.history) == 1


def test_export_png_alpha_jpeg_and_mask(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    mask = window.editor.mask.copy()
    for name, keys in (("cut.png", "Ctrl+S"), ("cut.webp", "Ctrl+S"), ("cut.jpg", "Ctrl+S"), ("mask.png", "Ctrl+M")):
        export(qtbot, window, keys, tmp_path / name)
    rgba = np.asarray(Image.open(tmp_path / "cut.png"))
    assert rgba.shape == (64, 96, 4)
    np.testing.assert_array_equal(rgba[..., 3], mask)
    webp = np.asarray(Image.open(tmp_path / "cut.webp").convert("RGBA"))
    np.testing.assert_array_equal(webp[..., 3], mask)  # libwebp keeps alpha lossless
    jpg = Image.open(tmp_path / "cut.jpg")
    assert jpg.mode == "RGB" and jpg.size == (96, 64)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "mask.png")), mask)


def test_save_as_never_overwrites_original_without_asking(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = write_photo(tmp_path / "p.png")
    original = photo.read_bytes()
    open_photo(qtbot, window, photo)
    remove(qtbot, window)
    asked: list[str] = []
    monkeypatch.setattr(window, "confirm", lambda title, q: asked.append(title) or False)
    window.ask_save_file = lambda *_a: str(photo)
    press(qtbot, window, "Ctrl+Shift+S")  # File ▸ Save cut-out As…, pointed at the photo itself
    assert asked == ["Overwrite the original?"] and not window.exporter.busy
    qtbot.wait(100)
    assert photo.read_bytes() == original


def test_drop_event_opens_file(qtbot, window: MainWindow, tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "dropped.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        window.dropEvent(event)
    assert window.editor.photo_path == photo


def test_bad_file_shows_error_and_window_stays_usable(qtbot, window: MainWindow, tmp_path: Path) -> None:
    good = write_photo(tmp_path / "good.png")
    open_photo(qtbot, window, good)
    bad = tmp_path / "bad.png"
    bad.write_text("this is not an image")
    window.open_path(bad)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT)
    _title, message = window.errors[-1]
    assert "bad.png" in message
    assert window.editor.photo_path == good  # the previous photo is still shown
    remove(qtbot, window)  # and the window still works
    open_photo(qtbot, window, write_photo(tmp_path / "next.png"))


def test_paste_image_from_clipboard(qtbot, window: MainWindow) -> None:
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        press(qtbot, window, "Ctrl+V")
    QGuiApplication.clipboard().clear()
    assert window.editor.rgb.shape == (30, 40, 3)
    assert tuple(window.editor.rgb[0, 0]) == (255, 0, 0)


def test_recent_files_menu_reopens(qtbot, window: MainWindow, tmp_path: Path) -> None:
    first = write_photo(tmp_path / "first.png")
    open_photo(qtbot, window, first)
    open_photo(qtbot, window, write_photo(tmp_path / "second.png"))
    actions = [a for a in window.recent_menu.actions() if a.data()]
    assert [Path(a.data()).name for a in actions][:2] == ["second.png", "first.png"]
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        choose(window, "File", "Open Recent", "first.png")
    assert window.editor.photo_path.name == "first.png"


def test_model_switching_and_bad_model_keeps_previous(
    qtbot, window: MainWindow, tmp_path: Path, models_env: Path
) -> None:
    other = make_seg_model(tmp_path / "other.onnx", fn="mean", metadata={mm.KEY_NAME: "tiny-mean"})
    window.ask_open_file = lambda *_a: str(other)
    with qtbot.waitSignal(window.model_chooser.model_changed, timeout=WAIT):
        choose(window, "Model", "Add model…")
    assert window.model_chooser.current_entry().spec.name == "tiny-mean"
    info = window.model_chooser.info
    assert info.text().startswith("Input ") and len(info.text()) < 80  # fits the panel unclipped
    assert "Convention" in info.toolTip() and "probability" in info.toolTip()  # the rest on hover
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    assert "tiny-mean" in window.model_label.text()

    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x00garbage")
    window.ask_open_file = lambda *_a: str(bad)
    choose(window, "Model", "Add model…")
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT)
    assert window.model_chooser.current_entry().spec.name == "tiny-mean"
    assert window.model_chooser.combo.count() == 2
    assert window.errors[-1][0] == "Cannot use this model"

    window.model_chooser.select(str(models_env / "tiny-red.onnx"))
    remove(qtbot, window)
    assert "tiny-seed" in window.model_label.text()
    # the choice and the added list persist
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.model_chooser.combo.count() == 2
    assert again.model_chooser.current_path() == models_env / "tiny-red.onnx"


def test_adjustments_amend_one_history_entry(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    before = window.editor.mask.copy()
    for value in (4.0, 8.0):
        with qtbot.waitSignal(window.editor.history_changed, timeout=WAIT):
            window.mask_panel.feather.setValue(value)
    assert len(window.editor.doc.history) == 1
    assert not np.array_equal(window.editor.mask, before)
    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, before)
    assert window.mask_panel.feather.value() == 0  # the session ended: sliders back to neutral


def test_invert_fill_reset_actions(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    model = window.editor.mask.copy()
    choose(window, "Edit", "Invert mask")
    np.testing.assert_array_equal(window.editor.mask, 255 - model)
    choose(window, "Edit", "Reset to model mask")
    np.testing.assert_array_equal(window.editor.mask, model)
    press(qtbot, window, "E")  # erase a hole inside the subject, then Fill holes closes it
    window.brush_panel.size.setValue(3)
    window.brush_panel.hardness.setValue(100)
    c = window.canvas
    drag(c, [c.map_from_image(QPointF(20, y)) for y in (25, 30, 35)])
    holed = window.editor.mask.copy()
    assert holed[30, 20] == 0 and (holed != model).sum() > 20
    click(qtbot, window.mask_panel.fill_button)
    np.testing.assert_array_equal(window.editor.mask, model)  # exactly the hole, nothing else
    assert window.editor.doc.history.undo_label == "Fill holes"
    press(qtbot, window, "Ctrl+Z")
    np.testing.assert_array_equal(window.editor.mask, holed)


def test_busy_indicator_and_cancel(qtbot, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.ui.editor import jobs

    def slow_removal(req, token):
        while not token.cancelled:
            time.sleep(0.005)
        token.raise_if_cancelled()

    monkeypatch.setattr(jobs, "remove_background", slow_removal)
    win = show_main_window(qtbot)
    open_photo(qtbot, win, write_photo(tmp_path / "p.png"))
    with qtbot.waitSignal(win.editor.remover.started, timeout=WAIT):
        click(qtbot, win.remove_button)
    assert win.busy_box.isVisible() and not win.remove_action.isEnabled()
    with qtbot.waitSignal(win.editor.remover.busy_changed, timeout=WAIT):
        click(qtbot, win.cancel_button)
    assert not win.busy_box.isVisible() and win.remove_action.isEnabled()
    assert win.editor.mask is None
    assert "cancelled" in win.statusBar().currentMessage()


def test_export_with_colour_background_and_crop(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QColor

    from desktop_app.core.options import Background

    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    remove(qtbot, window)
    window.apply_background(Background(kind="colour", colour=(0, 255, 0)))
    assert window.background_panel.color.color() == QColor(0, 255, 0)
    assert window.canvas.mode == ViewMode.CUTOUT
    click(qtbot, window.background_panel.crop)
    assert window.crop_to_subject
    export(qtbot, window, "Ctrl+S", tmp_path / "crop.png")
    out = np.asarray(Image.open(tmp_path / "crop.png"))
    assert out.ndim == 3 and out.shape[2] == 3  # composited on a colour: no alpha
    assert out.shape[1] < 96 and tuple(out[5, -1]) == (0, 255, 0)


def test_paste_mask_is_one_undoable_step(qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    new = np.zeros((64, 96), np.uint8)
    new[10:20, 30:40] = 255
    window.editor.paste_mask("Clicks", new)
    np.testing.assert_array_equal(window.editor.mask, new)
    assert window.editor.doc.history.undo_label == "Clicks"
    assert window.editor.doc.history.total_bytes == 2 * 100  # just the changed 10x10 box
    window.editor.undo()
    assert not window.editor.mask.any()


def test_drag_enter_accepts_files_and_paste_accepts_file_urls(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtGui import QDragEnterEvent

    photo = write_photo(tmp_path / "c.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    pos, copy = QPoint(10, 10), Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    nothing = QMimeData()  # the event only points at it: keep a reference
    empty = QDragEnterEvent(pos, copy, nothing, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(empty)
    assert not empty.isAccepted()
    clip = QMimeData()  # the clipboard takes ownership: give it its own object
    clip.setUrls([QUrl.fromLocalFile(str(photo))])
    QGuiApplication.clipboard().setMimeData(clip)
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        press(qtbot, window, "Ctrl+V")
    # Free the clipboard's copy now: if Qt deleted this Python-made object in its exit
    # handlers (after the interpreter is gone), the process would crash on exit.
    QGuiApplication.clipboard().clear()
    assert window.editor.photo_path == photo


def test_a_change_of_nothing_repaints_nothing(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """A click on what is already selected (or an undo with nothing to undo) changes no pixel:
    the views hear nothing (the canvas reads an empty rectangle as "repaint and rebuild all")."""
    open_photo(qtbot, window, write_photo(tmp_path / "p.png"))
    new = np.zeros((64, 96), np.uint8)
    new[10:20, 30:40] = 255
    heard: list[object] = []
    window.editor.mask_changed.connect(heard.append)
    window.editor.paste_mask("Clicks", new)
    assert heard == [(30, 10, 10, 10)]
    window.editor.paste_mask("Clicks", new[5:25, 25:45], 25, 5)  # the same pixels again
    window.editor.apply_change("Clicks", None)
    assert heard == [(30, 10, 10, 10)] and window.editor.doc.history.undo_label == "Clicks"
    window.editor.undo()
    window.editor.undo()  # nothing left to undo
    assert heard == [(30, 10, 10, 10), (30, 10, 10, 10)] and not window.editor.mask.any()
