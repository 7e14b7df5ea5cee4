"""The latent panel with the tiny "z-revealing" generator of tests/core/test_generator.py.

The decoder session is wrapped to record what it is called with, so the tests check the exact
latent each slider move sends to the decoder, not just that "something changed". Seeds are typed
into the seed box and confirmed with Enter, and buttons are clicked, as a person does.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from core.test_generator import D, make_tiny_generator
from PySide6.QtCore import Qt
from ui_helpers import click

from desktop_app.core.latent.generator import Generator, sample_prior
from desktop_app.ui.latent.panel import LatentPanel
from desktop_app.ui.shared.settings import make_settings

SHOTS = os.environ.get("SEED_LATENT_SHOTS")  # folder: also write screenshots there


class RecordingSession:
    """Forwards to an onnxruntime session and remembers every feed. With ``gate``, the first
    run waits until the test opens it: a decoder that is busy for exactly as long as the test
    needs, whatever the machine's load."""

    def __init__(self, session, delay: float = 0.0, gate: threading.Event | None = None) -> None:
        self.session, self.calls, self.delay, self.gate = session, [], delay, gate

    def run(self, outputs, feed, *args):
        self.calls.append({k: np.array(v) for k, v in feed.items()})
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        time.sleep(self.delay)  # a decoder slower than the mouse
        return self.session.run(outputs, feed, *args)

    def __getattr__(self, name):
        return getattr(self.session, name)


def loaded_panel(qtbot, path: Path, **kwargs) -> LatentPanel:
    panel = LatentPanel(model_path=path, **kwargs)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.image_ready, timeout=5000):
        pass
    return panel


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return make_tiny_generator(tmp_path / "models")


@pytest.fixture
def panel(qtbot, tiny: Path):
    p = loaded_panel(qtbot, tiny)
    p.show()
    yield p
    p.shutdown()


def type_seed(qtbot, panel: LatentPanel, seed: int) -> None:
    """Click the seed box, select its text, type ``seed`` and press Enter."""
    box = panel.seeds.seed_box
    qtbot.mouseClick(box.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box.lineEdit(), str(seed))
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert panel.point.seed == seed and box.value() == seed


def render_done(qtbot, panel: LatentPanel) -> None:
    qtbot.waitUntil(lambda: not panel.renderer.busy, timeout=5000)


def test_loads_metadata_and_starts_at_the_mean(panel: LatentPanel) -> None:
    info = panel.generator.info
    assert panel.sliders.count == 3
    assert [panel.sliders.label(k) for k in range(3)] == ["direction 1", "direction 2", "direction 3"]
    np.testing.assert_array_equal(panel.current_z(), info.space.mean)
    assert "tiny-gen" in panel.info_label.text()


@pytest.mark.parametrize(("k", "v"), [(0, 1.5), (2, -3.0)])
def test_slider_calls_decoder_with_z0_plus_v_sigma_d(qtbot, panel: LatentPanel, k: int, v: float) -> None:
    type_seed(qtbot, panel, 11)
    render_done(qtbot, panel)
    z0 = panel.current_z()
    np.testing.assert_array_equal(z0, sample_prior(D, 11))
    spy = RecordingSession(panel.generator.session)
    panel.generator.session = spy
    panel.set_slider(k, v)
    render_done(qtbot, panel)
    space = panel.generator.info.space
    expected = (z0 + v * space.sigmas[k] * space.directions[k]).astype(np.float32)
    np.testing.assert_array_equal(spy.calls[-1]["z"], expected[None])
    np.testing.assert_array_equal(panel.generator.decode_float(expected).reshape(-1), expected)


def test_dragging_renders_only_the_newest_position(qtbot, panel: LatentPanel) -> None:
    spy = RecordingSession(panel.generator.session, gate=threading.Event())
    panel.generator.session = spy
    slider = panel.sliders.sliders[1]
    slider.setSliderDown(True)
    slider.setValue(5)  # (the slider starts at 0)
    qtbot.waitUntil(lambda: len(spy.calls) == 1, timeout=5000)  # a frame is decoding (held)
    for pos in range(10, 1001, 10):  # 100 more positions while it decodes
        slider.setValue(pos)
        qtbot.wait(1)
    spy.gate.set()
    slider.setSliderDown(False)
    render_done(qtbot, panel)
    # stale positions were dropped, not queued: the held frame, the newest position, and the
    # frame of the released slider (which goes to the history) -- not 101 frames
    assert len(spy.calls) <= 3
    np.testing.assert_allclose(panel.point.values[1], 3.0)
    space = panel.generator.info.space
    last = spy.calls[-1]["z"][0]
    np.testing.assert_allclose(last, space.mean + 3.0 * space.sigmas[1] * space.directions[1], rtol=1e-6)


def test_seed_reproduces_and_reset(qtbot, panel: LatentPanel) -> None:
    type_seed(qtbot, panel, 5)
    first = panel.current_z().copy()
    panel.set_slider(0, 2.0)
    click(qtbot, panel.seeds.random_button)
    type_seed(qtbot, panel, 5)
    np.testing.assert_array_equal(panel.current_z(), first)
    panel.set_slider(1, 1.0)
    panel.sliders.reset(1)
    np.testing.assert_array_equal(panel.current_z(), first)
    panel.set_slider(0, 1.0)
    panel.set_slider(2, -1.0)
    panel.sliders.reset_all()
    np.testing.assert_array_equal(panel.current_z(), first)
    render_done(qtbot, panel)


def test_names_persist_per_model(qtbot, panel: LatentPanel, tiny: Path) -> None:
    panel.sliders.set_name(0, "smile")
    assert panel.sliders.label(0) == "smile"
    key = "latent/names/tiny-gen@1"
    assert make_settings().value(key)[0] == "smile"
    again = loaded_panel(qtbot, tiny)
    assert again.sliders.label(0) == "smile" and again.sliders.label(1) == "direction 2"
    again.shutdown()


def test_history_jump_back(qtbot, panel: LatentPanel) -> None:
    type_seed(qtbot, panel, 1)
    render_done(qtbot, panel)
    z1 = panel.current_z().copy()
    type_seed(qtbot, panel, 2)
    render_done(qtbot, panel)
    assert len(panel.history.payloads) >= 3  # mean, seed 1, seed 2 (newest first)
    panel.history.picked.emit(panel.history.payloads[1])
    np.testing.assert_array_equal(panel.current_z(), z1)


def test_point_save_load_round_trip(qtbot, panel: LatentPanel, tmp_path: Path) -> None:
    type_seed(qtbot, panel, 3)
    panel.set_slider(2, 0.75)
    z = panel.current_z().copy()
    path = tmp_path / "p.json"
    panel.save_point_file(path)
    assert json.loads(path.read_text())["sliders"][2] == 0.75
    type_seed(qtbot, panel, 4)
    panel.load_point_file(path)
    np.testing.assert_array_equal(panel.current_z(), z)
    assert panel.sliders.values[2] == 0.75
    render_done(qtbot, panel)


def test_encode_array_then_edit(qtbot, panel: LatentPanel) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 255
    with qtbot.waitSignal(panel.encoder.finished, timeout=5000):
        panel.encode_array(rgba)
    np.testing.assert_allclose(panel.current_z().reshape(3, 2, 2)[0], 1.0)
    render_done(qtbot, panel)
    assert panel.image is not None and panel.image[..., 0].min() == 255


def test_save_image_upscaled_and_export_animation(qtbot, panel: LatentPanel, tmp_path: Path) -> None:
    from PIL import Image

    with qtbot.waitSignal(panel.files.finished, timeout=5000):
        panel.save_image(tmp_path / "img.png", factor=3)
    assert Image.open(tmp_path / "img.png").size == (6, 6)
    click(qtbot, panel.interp.keep_button)
    type_seed(qtbot, panel, 8)
    render_done(qtbot, panel)
    click(qtbot, panel.interp.keep_button)
    panel.interp.frames_box.setValue(5)
    with qtbot.waitSignal(panel.files.finished, timeout=5000):
        panel.export_frames(tmp_path / "anim.gif")
    assert Image.open(tmp_path / "anim.gif").n_frames == 8  # 5 there, 3 back
    panel.interp.fps_box.setValue(60)
    click(qtbot, panel.interp.play_button)
    qtbot.wait(120)
    assert panel.interp.playing
    type_seed(qtbot, panel, 9)  # any edit stops playback
    assert not panel.interp.playing
    render_done(qtbot, panel)


def test_model_without_metadata_offers_random_directions(qtbot, tmp_path: Path) -> None:
    plain = make_tiny_generator(tmp_path / "plain", "plain", metadata=False)
    panel = LatentPanel(model_path=plain)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.message.isVisibleTo(panel), timeout=5000)
    assert "random orthonormal" in panel.message.text.text()
    assert panel.message.button.text() == "Explore with random directions"
    with qtbot.waitSignal(panel.image_ready, timeout=5000):
        panel.message.button.click()
    assert panel.generator.info.space.synthetic and panel.sliders.count == D
    panel.shutdown()


def test_real_generator_screenshot(qtbot, tmp_path: Path) -> None:
    """Grab the panel with the embedded generator (skipped until it is exported)."""
    from desktop_app.core.latent.generator import default_generator_path

    path = default_generator_path()
    if not path.is_file():
        pytest.skip(f"{path} not exported yet")
    panel = loaded_panel(qtbot, path)
    panel.resize(1100, 720)
    panel.show()
    type_seed(qtbot, panel, 3)
    render_done(qtbot, panel)
    panel.set_slider(0, 2.0)
    render_done(qtbot, panel)
    assert panel.last_ms > 0  # the frame was timed; how fast is benchmarks/bench_decoder.py's job
    out = Path(SHOTS) if SHOTS else tmp_path
    assert panel.grab().save(str(out / "latent-panel.png"))
    assert isinstance(Generator(path).decode(panel.current_z()), np.ndarray)
    panel.shutdown()


def test_buttons_go_through_dialog_hooks(qtbot, panel: LatentPanel, tmp_path: Path, monkeypatch) -> None:
    answers = {"save": str(tmp_path / "via-button.json"), "open": ""}
    monkeypatch.setattr(panel, "ask_save", lambda *a: answers["save"])
    monkeypatch.setattr(panel, "ask_open", lambda *a: answers["open"])
    type_seed(qtbot, panel, 21)
    click(qtbot, panel.save_point_button)
    assert (tmp_path / "via-button.json").is_file()
    type_seed(qtbot, panel, 22)
    answers["open"] = answers["save"]
    click(qtbot, panel.load_point_button)
    assert panel.point.seed == 21
    answers["save"] = ""  # cancelled dialog: nothing happens
    click(qtbot, panel.save_button)
    assert not panel.files.busy and not panel.errors
    render_done(qtbot, panel)


def test_long_direction_names_show_from_their_start(qtbot) -> None:
    """A GAN's "yellow figure ↔ pink person" was shown as "igure ↔ pink person"."""
    from desktop_app.ui.latent.sliders import NAME_MIN_WIDTH, DirectionSliders

    sliders = DirectionSliders()
    qtbot.addWidget(sliders)
    names = ["blob ↔ person", "yellow figure ↔ pink person"]
    sliders.set_count(3, names)
    sliders.show()
    long_field = sliders.names[1]
    assert long_field.width() >= long_field.fontMetrics().horizontalAdvance(names[1])
    assert all(field.cursorPosition() == 0 for field in sliders.names)
    sliders.set_count(2, [])  # short or no names: the compact width again
    assert sliders.names[0].width() == NAME_MIN_WIDTH
