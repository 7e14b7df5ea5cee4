"""The app's click engine (zoom-in, guidance encoding, paste-back) with a revealing tiny model."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tiny_models import make_click_model, make_seg_model

from desktop_app.core.clicks import Click, ClickSegmenter, encode_guidance, zoom_box
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


def test_encode_guidance_channels():
    g = encode_guidance([Click(5, 5, True), Click(20, 20, False)], 32, 2, np.full((32, 32), 0.25, np.float32))
    assert g.shape == (3, 32, 32)
    assert g[0, 5, 5] == 1 and g[1, 20, 20] == 1 and g[0, 20, 20] == 0
    assert np.allclose(g[2], 0.25)


def test_segmentation_model_is_refused_as_click_model(tmp_path):
    path = make_seg_model(tmp_path / "seg.onnx")
    with pytest.raises(ModelError, match="click"):
        ClickSegmenter(path)
