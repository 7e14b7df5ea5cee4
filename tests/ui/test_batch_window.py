"""The batch page is reachable from the editor (File ▸ Batch remove…, View ▸ Pages) and through
``seed-studio --batch PATHS``; "Open in editor" on a row brings the photo to the editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.corpus import photo
from helpers.tiny_models import make_seg_model
from PIL import Image
from PySide6.QtWidgets import QApplication
from ui_helpers import choose, click

from desktop_app.app import run_gui
from desktop_app.ui.main_window import MainWindow

WAIT = 30_000


def save(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo()).save(path)
    return path


@pytest.fixture
def window(qtbot, models_env: Path):
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    yield win
    win.close()


def test_file_menu_opens_batch_page_and_open_in_editor_returns(qtbot, window: MainWindow, tmp_path: Path) -> None:
    assert window.pages.currentWidget() is window.canvas and window.side_dock.isVisible()
    choose(window, "File", "Batch remove…")
    page = window.batch_page
    assert window.pages.currentWidget() is page and window.batch_page_action.isChecked()
    assert not window.side_dock.isVisible()  # the editor's tools are hidden on the batch page
    shot = save(tmp_path / "one.png")
    with qtbot.waitSignal(page.scan_finished, timeout=WAIT):
        window.show_batch([shot])
    page.table.selectRow(0)
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        click(qtbot, page.editor_button)
    assert window.pages.currentWidget() is window.canvas and window.side_dock.isVisible()
    assert window.editor.photo_path == shot


def test_seed_studio_batch_paths_opens_the_batch_page(qtbot, monkeypatch, tmp_path: Path, models_env: Path) -> None:
    model = make_seg_model(tmp_path / "tiny.onnx")
    folder = tmp_path / "shop"
    save(folder / "a.png")
    save(folder / "deep" / "b.png")
    loose = save(tmp_path / "c.png")
    seen: dict[str, object] = {}

    def fake_exec(*_args) -> int:  # instead of the event loop: inspect the window, then close it
        win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        page = win.batch_page
        qtbot.waitUntil(lambda: len(page.model.items) == 3, timeout=WAIT)
        seen["on_batch_page"] = win.pages.currentWidget() is page
        seen["names"] = sorted(it.source.name for it in page.model.items)
        seen["model"] = page.options_panel.model_chooser.current_path()
        win.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert run_gui(["--batch", str(folder), str(loose), "--model", str(model)]) == 0
    assert seen == {"on_batch_page": True, "names": ["a.png", "b.png", "c.png"], "model": model}


def test_models_added_since_start_show_up_on_the_batch_page(qtbot, window: MainWindow, monkeypatch) -> None:
    import os

    chooser = window.batch_page.options_panel.model_chooser
    before = chooser.current_path()
    make_seg_model(Path(os.environ["SEED_STUDIO_USER_MODELS"]) / "extra.onnx")
    window.show_batch()
    assert "extra.onnx" in {e.path.name for e in chooser.entries}
    assert chooser.current_path() == before  # the batch's choice is kept
