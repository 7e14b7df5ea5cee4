"""The latent page with a GAN, as a person meets it: the page from the menu, the GAN picked in the
"Generator" list by its text, a slider dragged, a seed typed, points kept, saved and loaded, an
interpolation exported, and "Encode image" greyed out with the reason in its tooltip.

The tiny files reveal z (see tests/core/test_latent_kinds.py): the GAN draws ``0.5 - z``, the
VAE ``z``, so every picture can be checked against the exact latent point it should show.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from core.test_generator import SIZE, make_tiny_generator
from core.test_latent_kinds import GAN_NAMES, make_tiny_gan
from PIL import Image
from PySide6.QtCore import Qt
from ui_helpers import choose, click, show_main_window

from desktop_app.ui.main_window import MainWindow

WAIT = 30_000


@pytest.fixture()
def window(qtbot, models_env: Path) -> MainWindow:
    make_tiny_generator(models_env, "emoji-vae")  # the default generator
    make_tiny_gan(models_env, "emoji-gan")
    win = show_main_window(qtbot)
    yield win
    win.latent_panel.shutdown()


def pick_in_list(qtbot, combo, text: str) -> None:
    """Open the drop-down and click the entry that reads ``text``."""
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert text in texts, f"{text!r} is not offered (the list: {texts})"
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=WAIT)
    rect = view.visualRect(view.model().index(texts.index(text), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def shown_z(panel) -> np.ndarray:
    """The latent the picture on screen shows (the tiny GAN draws 0.5 - z, in 8-bit steps)."""
    return 0.5 - panel.image.astype(np.float64).transpose(2, 0, 1).ravel() / 255.0


def test_choose_the_gan_move_a_slider_and_see_the_image_change(qtbot, window: MainWindow, tmp_path: Path) -> None:
    choose(window, "View", "Pages", "Latent sliders")
    panel = window.latent_panel
    qtbot.waitUntil(lambda: panel.image is not None and panel.generator is not None, timeout=WAIT)
    chooser = panel.chooser
    assert panel.generator.info.kind == "vae" and chooser.badge.text() == "<b>VAE</b>"
    assert panel.encode_button.isEnabled()

    with qtbot.waitSignal(panel.model_loaded, timeout=WAIT):
        pick_in_list(qtbot, chooser.combo, "emoji-gan (GAN)")
    qtbot.waitUntil(lambda: panel.image is not None and not panel.renderer.busy, timeout=WAIT)
    info = panel.generator.info
    assert info.kind == "gan" and chooser.combo.currentText() == "emoji-gan (GAN)"
    assert chooser.badge.text() == "<b>GAN</b>" and "GAN" in panel.info_label.text()
    assert "SeFa" in panel.info_label.text()
    assert not panel.encode_button.isEnabled() and "no encoder" in panel.encode_button.toolTip()
    assert "no encoder" in window.statusBar().currentMessage()
    assert panel.seeds.temperature.prefix() == "ψ " and not panel.seeds.prior_box.isEnabled()
    assert [panel.sliders.label(k) for k in range(2)] == GAN_NAMES  # names from the metadata
    start = panel.image.copy()

    slider = panel.sliders.sliders[0]
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center() + slider.rect().topRight() / 3)
    qtbot.waitUntil(lambda: not panel.renderer.busy, timeout=WAIT)
    v = panel.sliders.values[0]
    assert v > 0 and not np.array_equal(panel.image, start)  # the picture changed...
    expected = info.space.mean + v * info.space.sigmas[0] * info.space.directions[0]
    np.testing.assert_allclose(shown_z(panel), np.clip(expected, -0.5, 0.5), atol=1 / 255)  # ...to the right z

    box = panel.seeds.seed_box
    qtbot.mouseClick(box.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box.lineEdit(), "7")
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.renderer.busy, timeout=WAIT)
    assert panel.point.seed == 7 and "seed 7" in panel.timing.text()
    np.testing.assert_allclose(panel.current_z(), info.space.sample(7, 1.0, False))
    assert len(panel.history.payloads) >= 2

    click(qtbot, panel.interp.keep_button)
    point = tmp_path / "gan-point.json"
    panel.save_point_file(point)
    assert json.loads(point.read_text())["seed"] == 7
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        click(qtbot, panel.seeds.random_button)
    click(qtbot, panel.interp.keep_button)
    panel.interp.frames_box.setValue(4)
    with qtbot.waitSignal(panel.files.finished, timeout=WAIT):
        panel.export_frames(tmp_path / "walk.gif")
    assert Image.open(tmp_path / "walk.gif").size == (SIZE * panel.scale_box.value(),) * 2
    panel.load_point_file(point)
    np.testing.assert_allclose(panel.current_z(), info.space.sample(7, 1.0, False))

    with qtbot.waitSignal(panel.model_loaded, timeout=WAIT):
        pick_in_list(qtbot, chooser.combo, "emoji-vae (VAE)")
    assert panel.generator.info.kind == "vae" and panel.encode_button.isEnabled()
    assert panel.seeds.temperature.prefix() == "T "
    qtbot.waitUntil(lambda: not panel.renderer.busy, timeout=WAIT)
