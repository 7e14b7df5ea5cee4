"""A person's view of the installed app: Help ▸ About says what is running (versions, engine,
model files with their versions and terms, the settings file), the window wears the icon, and
photos passed on the command line ("Open with Seed Studio") open."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from ui_helpers import choose, click, show_main_window, write_photo

from desktop_app.app import run_gui
from desktop_app.core.resources import app_version
from desktop_app.ui.about import AboutDialog
from desktop_app.ui.main_window import MainWindow

WAIT = 30_000


def open_dialog() -> AboutDialog | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, AboutDialog) and w.isVisible()), None)


def test_help_about_shows_versions_engine_models_and_settings(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> None:
    monkeypatch.delenv("SEED_STUDIO_MODELS", raising=False)  # the shipped models, as installed
    monkeypatch.setenv("SEED_STUDIO_USER_MODELS", str(tmp_path / "user-models"))
    win = show_main_window(qtbot)
    assert win.menuBar().actions()[-1].text().replace("&", "") == "Help"  # the last menu, as usual
    choose(win, "Help", "About Seed Studio")
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    text = dialog.text()
    assert f"Seed Studio {app_version()}" in text
    assert f"onnxruntime\t{ort.__version__}" in text.replace("\n", "\t") or ort.__version__ in text
    assert "CPUExecutionProvider" in text
    for name in ("seednet-lite0.onnx", "seedclick-lite0.onnx", "emoji-vae-decoder.onnx"):
        assert name in text, text
    assert "segmentation" in text and "clicks" in text and "generator-decoder" in text
    assert "research use" in text and "MIT licence" in text  # the terms the files' metadata state
    assert "seednet-lite0.md" in text and "emoji-vae.md" in text  # their cards
    assert str(isolated_settings / "seed-studio.ini") in text
    button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    click(qtbot, button)
    qtbot.waitUntil(lambda: open_dialog() is None, timeout=WAIT)
    win.close()


def _run_and_inspect(monkeypatch: pytest.MonkeyPatch, qtbot, argv: list[str], look) -> dict:
    """``run_gui(argv)`` with the event loop replaced by ``look(window)``, which records what it sees."""
    seen: dict = {}

    def fake_exec(*_args) -> int:
        win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        look(win, seen)
        win.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert run_gui(argv) == 0
    return seen


def test_a_photo_on_the_command_line_opens_in_a_window_with_the_icon(
    qtbot, monkeypatch, tmp_path: Path, models_env: Path
) -> None:
    photo = write_photo(tmp_path / "holiday.png")

    def look(win: MainWindow, seen: dict) -> None:
        qtbot.waitUntil(lambda: win.editor.photo_path is not None, timeout=WAIT)
        seen["path"] = win.editor.photo_path
        seen["icon sizes"] = [s.width() for s in win.windowIcon().availableSizes()]

    seen = _run_and_inspect(monkeypatch, qtbot, [str(photo)], look)
    assert seen["path"] == photo
    assert 16 in seen["icon sizes"] and 256 in seen["icon sizes"]  # drawn from the SVG
    assert QApplication.desktopFileName() == "seed-studio"


def test_several_photos_from_open_with_go_to_the_batch_queue(qtbot, monkeypatch, tmp_path: Path, models_env) -> None:
    photos = [write_photo(tmp_path / f"{name}.png") for name in ("a", "b", "c")]

    def look(win: MainWindow, seen: dict) -> None:
        page = win.batch_page
        qtbot.waitUntil(lambda: len(page.model.items) == 3, timeout=WAIT)
        seen["page"] = win.pages.currentWidget() is page
        seen["names"] = sorted(it.source.name for it in page.model.items)

    seen = _run_and_inspect(monkeypatch, qtbot, [str(p) for p in photos], look)
    assert seen == {"page": True, "names": ["a.png", "b.png", "c.png"]}


def test_a_missing_one_among_several_photos_is_an_error(qapp, tmp_path: Path, capsys) -> None:
    assert run_gui([str(write_photo(tmp_path / "a.png")), str(tmp_path / "gone.png")]) == 2
    assert "gone.png: no such file" in capsys.readouterr().err
