"""The app's click engine (zoom-in, guidance encoding, paste-back) with a revealing tiny model."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tiny_models import make_click_model, make_seg_model

from desktop_app.core.clicks.engine import Click, ClickSegmenter, encode_guidance, zoom_box
from desktop_app.core.errors import ModelError


@pytest.fixture
def engine(tmp_path):
    return ClickSegmenter(make_click_model(tmp_path / "clicks.onnx", size=32, radius=2.0))


def test_first_click_uses_whole_image_and_marks_the_click(engine):
    rgb = np.zeros((64, 64, 3), np.uint8)
    prob = engine.predict(rgb, [Click(40, 20, True)], None)
    assert prob.shape == (64, 64)
    ys, xs = np.nonzero(prob > 0.5)
    assert abs(xs.mean() - 40) <= 1.5 and abs(ys.mean() - 20) <= 1.5  # the disk sits on the click
    assert prob[60, 5] == 0


def test_negative_click_removes_from_previous_mask_inside_zoom_box(engine):
    rgb = np.zeros((100, 100, 3), np.uint8)
    prev = np.zeros((100, 100), np.uint8)
    prev[30:70, 30:70] = 255
    prob = engine.predict(rgb, [Click(50, 50, False)], prev)
    assert prob[50, 50] < 0.5  # the negative click carved a hole
    assert prob[35, 35] > 0.9  # the rest of the prior survived the round trip
    assert prob[5, 5] == 0.0  # outside the zoom box: the previous mask (0) as it was


def test_zoom_box_hugs_the_object_and_clicks():
    prev = np.zeros((200, 300), bool)
    prev[80:120, 100:140] = True
    x0, y0, x1, y1 = zoom_box(prev, [Click(150, 100)], (200, 300))
    assert x0 <= 100 and x1 >= 150 and y0 <= 80 and y1 >= 120
    assert (x1 - x0) < 300  # zoomed in, not the whole photo
    assert zoom_box(None, [Click(1, 1)], (200, 300)) == (0, 0, 300, 200)


def test_zoom_box_reads_uint8_float_and_bool_masks_alike():
    """uint8 masks count as object from 128, float ones from 0.5; an empty mask means the
    whole photo, whatever its dtype."""
    u8 = np.zeros((200, 300), np.uint8)
    u8[80:120, 100:140] = 200
    u8[10:20, 10:20] = 127  # below the uint8 threshold: not part of the object
    as_bool = u8 >= 128
    clicks = [Click(150, 100)]
    expected = zoom_box(as_bool, clicks, (200, 300))
    assert zoom_box(u8, clicks, (200, 300)) == expected
    assert zoom_box(u8.astype(np.float32) / 255, clicks, (200, 300)) == expected
    for empty in (np.zeros((200, 300), np.uint8), np.zeros((200, 300), np.float32), np.zeros((200, 300), bool)):
        assert zoom_box(empty, clicks, (200, 300)) == (0, 0, 300, 200)


def test_predict_patch_agrees_with_predict_region(engine):
    """The editor's path (a uint8 patch for the zoom box, pasted by the editor) gives what
    predict_region gives, to a grey level, and never writes into the caller's mask."""
    rgb = np.zeros((120, 160, 3), np.uint8)
    prev = np.zeros((120, 160), np.uint8)
    prev[40:80, 60:100] = 255
    original = prev.copy()
    clicks = [Click(80, 60, False)]
    (x0, y0, x1, y1), prob = engine.predict_region(rgb, clicks, prev)
    box, patch = engine.predict_patch(rgb, clicks, prev)
    assert box == (x0, y0, x1, y1) and (x1 - x0) < 160  # zoomed in
    assert patch.dtype == np.uint8 and patch.shape == (y1 - y0, x1 - x0)
    assert np.abs(patch.astype(int) - np.round(prob * 255)).max() <= 1
    assert np.array_equal(prev, original)
    assert patch[60 - y0, 80 - x0] < 128 and patch[45 - y0, 65 - x0] > 200  # the click carved a hole


def test_encode_guidance_channels():
    g = encode_guidance([Click(5, 5, True), Click(20, 20, False)], 32, 2, np.full((32, 32), 0.25, np.float32))
    assert g.shape == (3, 32, 32)
    assert g[0, 5, 5] == 1 and g[1, 20, 20] == 1 and g[0, 20, 20] == 0
    assert np.allclose(g[2], 0.25)


def test_segmentation_model_is_refused_as_click_model(tmp_path):
    path = make_seg_model(tmp_path / "seg.onnx")
    with pytest.raises(ModelError, match="click"):
        ClickSegmenter(path)


def test_flip_average_runs_one_batch_of_two_and_averages_the_mirror():
    """With flip averaging the network sees [crop, mirrored crop] in one call, and the mirrored
    answer is flipped back before averaging: a left-biased network becomes symmetric."""
    from desktop_app.core.clicks.engine import ClickModelSpec, ClickPredictor

    calls = []

    def left_biased(x, g):
        calls.append((x.copy(), g.copy()))
        out = np.zeros((x.shape[0], 1, 16, 16), np.float32)
        out[..., :8] = 1.0  # "object" = left half of whatever it is shown
        out[..., 8:] = g[:, :1, :, 8:]  # right half echoes the positive-click map
        return out

    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, :4] = 200  # something asymmetric to mirror
    spec = ClickModelSpec(input_size=16, mean=(0, 0, 0), std=(1, 1, 1), radius=1.0, flip_average=True)
    prob = ClickPredictor(spec, left_biased).predict(rgb, [Click(13, 8, True)], None)
    ((x, g),) = calls
    assert x.shape[0] == 2 and np.array_equal(x[1], x[0][..., ::-1]) and np.array_equal(g[1], g[0][..., ::-1])
    # left half: 1 from the plain pass, the mirrored pass's right-half echo of a (mirrored) click map
    assert np.allclose(prob[:, :8], (1.0 + g[0, 0, :, :8]) / 2)
    assert np.allclose(prob[:, 8:], (g[0, 0, :, 8:] + 1.0) / 2)  # right: the echo, and the mirror's 1
    assert prob[8, 13] == pytest.approx(1.0) and prob[0, 0] == pytest.approx(0.5)
    spec.flip_average = False
    calls.clear()
    plain = ClickPredictor(spec, left_biased).predict(rgb, [Click(13, 8, True)], None)
    assert calls[0][0].shape[0] == 1 and plain[0, 15] == 0.0 and plain[0, 0] == 1.0


def test_flip_average_setting_comes_from_metadata_and_can_be_overridden(tmp_path):
    path = make_click_model(tmp_path / "clicks.onnx", size=32, radius=2.0)
    assert ClickSegmenter(path).spec.flip_average is False  # files without the key: one pass
    flipped = ClickSegmenter(path, flip_average=True)
    rgb = np.zeros((64, 64, 3), np.uint8)
    a = flipped.predict(rgb, [Click(40, 20, True)], None)
    b = ClickSegmenter(path).predict(rgb, [Click(40, 20, True)], None)
    assert np.abs(a - b).max() < 0.05  # the tiny model is mirror-equivariant: same answer


def test_mirror_pass_runs_beside_the_plain_one_and_gives_the_batch_answer(tmp_path, monkeypatch):
    """On a multi-core machine the mirrored pass runs on the persistent helper thread while the
    plain one runs on the caller's: same probabilities as one batch of two, no thread per click."""
    import threading

    from desktop_app.core.clicks import engine as engine_module

    monkeypatch.setattr(engine_module, "physical_cores", lambda: 2)
    path = make_click_model(tmp_path / "clicks.onnx", size=32, radius=2.0)
    side_by_side = ClickSegmenter(path, flip_average=True)
    batched = ClickSegmenter(path, threads=2, flip_average=True)  # an explicit thread count: one batch
    seen: list[tuple[str, int]] = []
    run = side_by_side._run

    def recording_run(x, g):
        seen.append((threading.current_thread().name, x.shape[0]))
        return run(x, g)

    side_by_side._run = recording_run
    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    prev = np.zeros((48, 64), np.float32)
    prev[10:30, 20:50] = 1.0
    clicks = [Click(40, 20, True), Click(25, 15, False)]
    for _ in range(3):
        np.testing.assert_allclose(
            side_by_side.predict(rgb, clicks, prev), batched.predict(rgb, clicks, prev), atol=1e-6
        )
    assert sorted({name.split("_")[0] for name, _ in seen}) == sorted({threading.current_thread().name, "click-side"})
    assert all(batch == 1 for _, batch in seen) and len(seen) == 6
    assert len({t.name for t in threading.enumerate() if t.name.startswith("click-side")}) == 1
    # a single pass (no mirror, no focus crop) uses all the cores in one run instead
    single = ClickSegmenter(path, flip_average=False, focus=False)
    assert not single._side_by_side and single.session is not side_by_side.session
