"""No lost work: edits are never discarded without Save / Discard / Cancel, driven as a person
does (keys, menus, a drop, the clipboard, mouse clicks on the real modal box's buttons).

The real box is a modal QMessageBox with its own event loop; ``answer_prompt`` clicks one of
its buttons from a timer, the way a person's click arrives while the box waits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import make_seg_model
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from ui_helpers import answer_prompt, choose, drag, menu_action, press, show_main_window, write_photo

from desktop_app.ui.main_window import MainWindow

WAIT = 15_000


@pytest.fixture()
def window(qtbot, models_env: Path) -> MainWindow:
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    return show_main_window(qtbot)


class Dialogs:
    """Answers for the window's file dialogs, and a record of every time one was shown."""

    def __init__(self, win: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open_answer = ""
        self.save_answer = ""
        self.opened: list[str] = []
        self.saved: list[str] = []
        monkeypatch.setattr(win, "ask_open_file", self._open)
        monkeypatch.setattr(win, "ask_save_file", self._save)

    def _open(self, title: str, *_a) -> str:
        self.opened.append(title)
        return self.open_answer

    def _save(self, title: str, *_a) -> str:
        self.saved.append(title)
        return self.save_answer


def open_photo(qtbot, win: MainWindow, dialogs: Dialogs, path: Path) -> None:
    dialogs.open_answer = str(path)
    with qtbot.waitSignal(win.editor.photo_changed, timeout=WAIT):
        press(qtbot, win, "Ctrl+O")


def brush_edit(qtbot, win: MainWindow) -> np.ndarray:
    """Press B and paint a stroke across the photo; returns the edited mask."""
    press(qtbot, win, "B")
    c = win.canvas
    drag(c, [c.map_from_image(QPointF(x, 30)) for x in (60, 70, 80)])
    assert win.editor.mask is not None and win.editor.mask[30, 70] == 255
    return win.editor.mask.copy()


def test_brush_edit_then_ctrl_o_asks_and_cancel_keeps_the_edit(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsaved_prompts
) -> None:
    dialogs = Dialogs(window, monkeypatch)
    first = write_photo(tmp_path / "first.png")
    open_photo(qtbot, window, dialogs, first)
    edited = brush_edit(qtbot, window)
    dialogs.opened.clear()

    seen: list[str] = []
    with unsaved_prompts.real():
        answer_prompt(qtbot, "Cancel", seen)
        press(qtbot, window, "Ctrl+O")
        qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
    assert seen == ["Save the edited mask of first.png before opening another photo?"]
    assert dialogs.opened == []  # Cancel: not even the file dialog
    assert window.editor.photo_path == first
    np.testing.assert_array_equal(window.editor.mask, edited)

    dialogs.open_answer = str(write_photo(tmp_path / "second.png"))
    with unsaved_prompts.real(), qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        answer_prompt(qtbot, "Discard", seen)
        press(qtbot, window, "Ctrl+O")
    assert len(seen) == 2 and window.editor.photo_path.name == "second.png"
    assert window.editor.mask is None


def test_save_in_the_prompt_exports_then_opens(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsaved_prompts
) -> None:
    dialogs = Dialogs(window, monkeypatch)
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "first.png"))
    edited = brush_edit(qtbot, window)
    out = tmp_path / "first-cutout.png"
    dialogs.save_answer = str(out)
    dialogs.open_answer = str(write_photo(tmp_path / "second.png"))
    seen: list[str] = []
    with unsaved_prompts.real(), qtbot.waitSignal(window.editor.photo_changed, timeout=180_000):
        answer_prompt(qtbot, "Save", seen)
        press(qtbot, window, "Ctrl+O")
    assert len(seen) == 1 and dialogs.saved == ["Save cut-out as"]
    np.testing.assert_array_equal(np.asarray(Image.open(out))[..., 3], edited)  # saved first
    assert window.editor.photo_path.name == "second.png"


def test_no_prompt_when_nothing_changed_since_the_last_export(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsaved_prompts
) -> None:
    dialogs = Dialogs(window, monkeypatch)
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "a.png"))
    with qtbot.waitSignal(window.editor.removal_finished, timeout=WAIT):
        press(qtbot, window, "Ctrl+R")
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "b.png"))  # the model's mask alone
    assert unsaved_prompts.asked == []

    brush_edit(qtbot, window)
    dialogs.save_answer = str(tmp_path / "b-cutout.png")
    with qtbot.waitSignal(window.exporter.finished, timeout=180_000):
        press(qtbot, window, "Ctrl+S")
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "c.png"))
    assert unsaved_prompts.asked == []  # exported: nothing to lose

    brush_edit(qtbot, window)
    press(qtbot, window, "Ctrl+Z")  # undone back to the saved state
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "d.png"))
    assert unsaved_prompts.asked == []


def test_ctrl_q_asks_cancel_stays_discard_quits(qtbot, window: MainWindow, tmp_path: Path, monkeypatch,
                                                unsaved_prompts) -> None:  # fmt: skip
    dialogs = Dialogs(window, monkeypatch)
    open_photo(qtbot, window, dialogs, write_photo(tmp_path / "p.png"))
    brush_edit(qtbot, window)
    seen: list[str] = []
    with unsaved_prompts.real():
        answer_prompt(qtbot, "Cancel", seen)
        press(qtbot, window, "Ctrl+Q")
        qtbot.waitUntil(lambda: bool(seen), timeout=WAIT)
        assert seen == ["Save the edited mask of p.png before quitting?"] and window.isVisible()
        answer_prompt(qtbot, "Discard", seen)
        choose(window, "File", "Quit")
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT)
    assert not window.isVisible()


def test_every_way_to_replace_the_photo_asks_first(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsaved_prompts
) -> None:
    dialogs = Dialogs(window, monkeypatch)
    other = write_photo(tmp_path / "other.png")
    open_photo(qtbot, window, dialogs, other)  # so it is in Open Recent
    first = write_photo(tmp_path / "first.png")
    open_photo(qtbot, window, dialogs, first)
    edited = brush_edit(qtbot, window)
    unsaved_prompts.answer = "cancel"

    choose(window, "File", "Open Recent", "other.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: len(unsaved_prompts.asked) == 2, timeout=WAIT)  # asked after the drop
    clip = QMimeData()
    clip.setUrls([QUrl.fromLocalFile(str(other))])
    QGuiApplication.clipboard().setMimeData(clip)
    press(qtbot, window, "Ctrl+V")
    QGuiApplication.clipboard().clear()
    window.show_batch([other])
    page = window.batch_page
    qtbot.waitUntil(lambda: len(page.model.items) == 1, timeout=WAIT)
    page.table.selectRow(0)
    qtbot.mouseClick(page.editor_button, Qt.MouseButton.LeftButton)

    assert len(unsaved_prompts.asked) == 4
    qtbot.wait(50)  # nothing was opened behind the prompts' backs
    assert window.editor.photo_path == first and not window.editor.loader.busy
    np.testing.assert_array_equal(window.editor.mask, edited)
    assert menu_action(window, "File", "Open Recent").menu().actions()[0].text() == "first.png"
