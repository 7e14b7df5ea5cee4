"""Keeping a click local: the focus crop's geometry and blending, and progressive merge,
through the click predictor with a transparent stand-in network."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.clicks.engine import Click, ClickModelSpec, ClickPredictor
from desktop_app.core.clicks.focus import feather_weights, focus_box, refused_changes

S = 32


def dark_things(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A 'network' that calls every dark pixel of its input the object, plus the previous mask
    and the positive-click disks: on a photo with two dark blobs, one click grows both."""
    dark = (x.mean(axis=1, keepdims=True) < 0.3).astype(np.float32)
    return np.maximum(np.maximum(dark, g[:, 2:3]), g[:, 0:1])


def two_blobs() -> tuple[np.ndarray, np.ndarray]:
    """A light 200 x 200 photo with dark squares at the left and the right, and a previous mask
    that holds a body between them (so the zoom box spans both squares)."""
    rgb = np.full((200, 200, 3), 230, np.uint8)
    rgb[90:110, 20:40] = 10
    rgb[90:110, 160:180] = 10
    prev = np.zeros((200, 200), np.uint8)
    prev[60:140, 45:155] = 255
    return rgb, prev


def predictor(fraction: float = 0.4, calls: list | None = None) -> ClickPredictor:
    spec = ClickModelSpec(input_size=S, mean=(0, 0, 0), std=(1, 1, 1), radius=1.0, focus_fraction=fraction)

    def run(x, g):
        if calls is not None:
            calls.append(x.shape[0])
        return dark_things(x, g)

    return ClickPredictor(spec, run)


def test_focus_box_sits_on_the_click_inside_the_zoom_box():
    box = focus_box((0, 0, 400, 400), 390.0, 200.0, 0.4, input_size=32)
    assert box == (240, 120, 400, 280)  # 0.4 x 400, pushed left to stay inside the zoom box
    assert focus_box((100, 100, 140, 140), 120.0, 120.0, 0.4, input_size=320) is None  # would zoom out
    assert focus_box((0, 0, 400, 400), 200.0, 200.0, 0.0, input_size=32) is None  # turned off


def test_feather_weights_ramp_only_where_there_is_a_coarse_answer_to_meet():
    w = feather_weights(50, (0, 100, 50, 150), (0, 0, 200, 200))  # left edge on the zoom border
    assert w[25, 25] == 1.0 and w[25, 0] == 1.0  # centre, and the border-side edge: no ramp
    assert w[0, 25] < 0.2 and w[49, 25] < 0.2 and w[25, 49] < 0.2  # inner edges fade out
    assert np.all(np.diff(w[:25, 25]) >= 0)


def test_refused_changes_keep_the_clicks_region_and_refuse_the_rest():
    old = np.zeros((40, 40), np.float32)
    new = old.copy()
    new[5:10, 5:10] = 1  # grown under the click
    new[25:35, 25:35] = 1  # grown far away
    refused = refused_changes(new, old, 7, 7, radius=1)
    assert refused[30, 30] == 1.0 and refused[7, 7] == 0.0
    assert not refused_changes(new, old, 7, 7, radius=1, near=(20, 20, 40, 40)).any()  # inside focus: its own


def test_a_positive_click_grows_only_the_region_under_it_when_local():
    rgb, prev = two_blobs()
    click = [Click(30, 100, True)]  # on the left square
    _, everywhere = predictor(fraction=0).predict_patch(rgb, click, prev)
    box, local = predictor(fraction=0).predict_patch(rgb, click, prev, local=True)
    x0, y0 = box[:2]
    assert everywhere[100 - y0, 170 - x0] > 200  # the plain answer also took the far square
    assert local[100 - y0, 30 - x0] > 200 and local[100 - y0, 170 - x0] < 50  # local: only the clicked one
    assert local[100 - y0, 100 - x0] == 255  # the body the mask already held is untouched
    prob = predictor(fraction=0).predict(rgb, click, prev.astype(np.float32) / 255, local=True)
    assert prob[100, 30] > 0.8 and prob[100, 170] < 0.2  # the float path (clicks eval) agrees


def test_the_focus_pass_runs_beside_the_coarse_one_and_is_blended_in():
    rgb, prev = two_blobs()
    calls: list[int] = []
    box, patch = predictor(fraction=0.3, calls=calls).predict_patch(rgb, [Click(30, 100, True)], prev)
    assert calls == [2]  # coarse and focus crop: one batch of two here (side by side in the app)
    x0, y0 = box[:2]
    assert patch[100 - y0, 30 - x0] > 200
    calls.clear()
    predictor(fraction=0.3, calls=calls).predict_patch(rgb, [Click(30, 100, True)], None)
    assert calls == [1]  # the first click of a fresh mask sees the whole photo only


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_local_merge_restores_the_old_mask_exactly_where_it_refuses(dtype):
    rgb, prev = two_blobs()
    prev = prev.copy()
    prev[95:105, 165:175] = 255  # the far square is half in the mask already
    old = prev if dtype == np.uint8 else prev.astype(np.float32) / 255
    box, patch = predictor(fraction=0).predict_region(rgb, [Click(30, 100, True)], old, local=True)
    x0, y0 = box[:2]
    assert patch[100 - y0, 170 - x0] == pytest.approx(1.0, abs=1e-3)  # object before and after
    assert patch[92 - y0, 162 - x0] < 0.2  # the far square's rest was refused: background as before
