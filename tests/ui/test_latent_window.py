"""The latent page inside the main window, installed the way main_window.py will call it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from core.test_generator import make_tiny_generator
from helpers.tiny_models import make_seg_model

from desktop_app.ui.latent.window import SEND_TEXT, install_latent_page, send_cutout
from desktop_app.ui.main_window import MainWindow

WAIT = 10_000


@pytest.fixture
def window(qtbot, models_env: Path):
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    make_tiny_generator(models_env, "emoji-vae")  # the embedded default generator's name
    win = MainWindow()
    qtbot.addWidget(win)
    panel = install_latent_page(win)
    qtbot.waitUntil(lambda: panel.generator is not None, timeout=WAIT)
    yield win
    panel.shutdown()
    win.close()


def test_page_and_send_cutout(qtbot, window: MainWindow) -> None:
    panel = window.latent_panel
    assert [a.text() for a in window.pages_menu.actions() if a.text()][-2:] == ["Latent sliders", SEND_TEXT]
    assert panel.generator.info.name == "emoji-vae"
    assert send_cutout(window) is None  # no photo yet: a status message, not an error dialog
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 2] = 255
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        window.editor.open_pixels(rgb)
    with qtbot.waitSignal(panel.encoder.finished, timeout=WAIT):
        window.latent_send_action.trigger()
    assert window.pages.currentWidget() is panel
    np.testing.assert_allclose(panel.current_z().reshape(3, 2, 2)[2], 1.0)  # blue photo -> z reveals it
    qtbot.waitUntil(lambda: not panel.renderer.busy, timeout=WAIT)
