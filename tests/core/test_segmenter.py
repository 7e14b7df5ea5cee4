"""Segmenter pipeline checked exactly against numpy twins of tiny models, one per convention."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.tiny_models import make_seg_model, reference_z

from desktop_app.core import model_meta as mm
from desktop_app.core.models import IMAGENET_MEAN, IMAGENET_STD
from desktop_app.core.segment import Segmenter

CASES = {
    # convention: (file name, mean, std, scale, sigmoid applied by app, in-graph sigmoid, minmax)
    "seed": ("seed.onnx", (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), "unit", True, False, False),
    "u2net": ("u2net.onnx", IMAGENET_MEAN, IMAGENET_STD, "image-max", False, True, True),
    "isnet": ("isnet-general-use.onnx", (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), "unit", False, True, True),
    "birefnet": ("birefnet-general.onnx", IMAGENET_MEAN, IMAGENET_STD, "unit", True, False, False),
}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def expected_alpha(rgb: np.ndarray, convention: str, fn: str) -> np.ndarray:
    _, mean, std, scale, app_sigmoid, graph_sigmoid, minmax = CASES[convention]
    z = reference_z(rgb, fn, mean, std, scale)
    a = sigmoid(z) if (app_sigmoid or graph_sigmoid) else z
    if minmax:
        a = (a - a.min()) / (a.max() - a.min())
    return np.clip(a, 0, 1)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    d = tmp_path_factory.mktemp("seg")
    return {
        (conv, fn): make_seg_model(d / fn / CASES[conv][0], convention=conv, fn=fn)
        for conv in CASES
        for fn in ("red", "mean")
    }


def random_rgb(h: int, w: int, seed: int = 0, top: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, top, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("convention", list(CASES))
@pytest.mark.parametrize("fn", ["red", "mean"])
def test_exact_at_model_resolution(models, convention: str, fn: str) -> None:
    seg = Segmenter(models[(convention, fn)])
    assert seg.spec.convention == convention
    h, w = seg.spec.input_size
    rgb = random_rgb(h, w, top=200)  # max 199: "image-max" scaling differs from /255 here
    alpha = seg.predict(rgb)
    assert alpha.dtype == np.float32 and alpha.shape == (h, w)
    np.testing.assert_allclose(alpha, expected_alpha(rgb, convention, fn), atol=2e-5)


def test_preprocess_layout_and_normalisation(models) -> None:
    seg = Segmenter(models[("u2net", "red")])
    rgb = random_rgb(320, 320, top=128)
    x = seg.preprocess(rgb)
    assert x.shape == (1, 3, 320, 320) and x.dtype == np.float32 and x.flags.c_contiguous
    ref = (rgb / rgb.max() - np.asarray(IMAGENET_MEAN)) / np.asarray(IMAGENET_STD)
    np.testing.assert_allclose(x[0].transpose(1, 2, 0), ref, atol=1e-5)


def test_resizing_down_and_up(models) -> None:
    seg = Segmenter(models[("seed", "mean")])  # 32x32
    big = random_rgb(96, 150, seed=3)
    small = cv2.resize(big, (32, 32), interpolation=cv2.INTER_AREA)
    at_model = expected_alpha(small, "seed", "mean").astype(np.float32)
    expected = np.clip(cv2.resize(at_model, (150, 96), interpolation=cv2.INTER_LINEAR), 0, 1)
    np.testing.assert_allclose(seg.predict(big), expected, atol=1e-4)
    tiny = random_rgb(8, 12, seed=4)  # smaller than the model: enlarged in, shrunk out
    assert seg.predict(tiny).shape == (8, 12)


def test_red_subject_is_found_at_any_size(models) -> None:
    seg = Segmenter(models[("seed", "red")])
    img = np.zeros((400, 600, 3), np.uint8)
    img[100:300, 200:400, 0] = 255
    alpha = seg.predict(img)
    assert alpha[200, 300] > 0.99 and alpha[20, 20] < 0.01
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0


def test_bgr_channel_order_from_metadata(tmp_path: Path) -> None:
    path = make_seg_model(tmp_path / "bgr.onnx", channel_order="BGR")
    seg = Segmenter(path)
    blue = np.zeros((32, 32, 3), np.uint8)
    blue[..., 2] = 255
    assert seg.spec.channel_order == "BGR" and seg.predict(blue).mean() > 0.99


def test_batch_equals_single_and_uses_dynamic_batch(models) -> None:
    seg = Segmenter(models[("seed", "red")])
    assert seg.spec.dynamic_batch
    images = [random_rgb(40 + 7 * i, 50 + 3 * i, seed=i) for i in range(3)]
    batch = seg.predict_batch(images)
    for img, a in zip(images, batch, strict=True):
        np.testing.assert_allclose(a, seg.predict(img), atol=1e-6)
    fixed = Segmenter(make_seg_model(models[("seed", "red")].parent / "fixed.onnx", dynamic_batch=False))
    assert not fixed.spec.dynamic_batch and len(fixed.predict_batch(images)) == 3


def test_output_index_from_metadata_picks_that_output(tmp_path: Path) -> None:
    # u2net-style graph (7 outputs; outputs 1.. are sigmoid(-z)) described by our metadata
    path = make_seg_model(
        tmp_path / "m.onnx",
        convention="u2net",
        with_metadata=True,
        metadata={mm.KEY_OUTPUT_INDEX: "2", mm.KEY_ACTIVATION: "none"},
    )
    seg = Segmenter(path)
    rgb = random_rgb(320, 320, seed=9)
    z = reference_z(rgb, "red", IMAGENET_MEAN, IMAGENET_STD)
    np.testing.assert_allclose(seg.predict(rgb), sigmoid(-z), atol=2e-5)


def test_refine_and_threshold_options(models) -> None:
    seg = Segmenter(models[("seed", "red")])
    img = np.zeros((256, 256, 3), np.uint8)
    cv2.circle(img, (128, 128), 70, (255, 0, 0), -1)
    hard = seg.predict(img, threshold=0.5)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    refined = seg.predict(img, refine=True)
    assert refined.shape == (256, 256) and refined.min() >= 0 and refined.max() <= 1
    # describe() names the provider that actually runs the graph (the session's first one)
    assert seg.provider == seg.session.get_providers()[0] and seg.provider.endswith("ExecutionProvider")
    assert seg.describe() == f"tiny-seed (seed, {seg.spec.describe_size()}, {seg.provider})"


def test_float16_model(tmp_path: Path) -> None:
    seg = Segmenter(make_seg_model(tmp_path / "half.onnx", fp16=True))
    rgb = random_rgb(32, 32, seed=5)
    np.testing.assert_allclose(seg.predict(rgb), expected_alpha(rgb, "seed", "red"), atol=3e-3)


def _keep_aspect_model(tmp_path: Path, static: bool = False) -> Path:
    meta = {mm.KEY_RESIZE: mm.RESIZE_KEEP_ASPECT, mm.KEY_SIZE_MULTIPLE: "16", mm.KEY_MAX_ASPECT: "2.0"}
    return make_seg_model(tmp_path / "ka.onnx", size=(32, 32), dynamic_hw=not static, metadata=meta)


def test_keep_aspect_model_sees_the_photo_undistorted(tmp_path: Path) -> None:
    seg = Segmenter(_keep_aspect_model(tmp_path))
    assert seg.spec.resize == mm.RESIZE_KEEP_ASPECT
    assert seg.preprocess(np.zeros((200, 300, 3), np.uint8)).shape == (1, 3, 32, 48)  # 3:2 stays 3:2
    assert seg.preprocess(np.zeros((300, 200, 3), np.uint8)).shape == (1, 3, 48, 32)
    assert seg.preprocess(np.zeros((100, 1000, 3), np.uint8)).shape == (1, 3, 32, 64)  # aspect capped at 2
    assert seg.preprocess(np.zeros((50, 50, 3), np.uint8)).shape == (1, 3, 32, 32)
    # A red disc on a 3:2 photo stays a disc for the network, so the mask follows it exactly.
    rgb = np.zeros((120, 180, 3), np.uint8)
    cv2.circle(rgb, (90, 60), 40, (255, 0, 0), -1)
    alpha = seg.predict(rgb)
    assert alpha.shape == (120, 180)
    assert alpha[60, 90] > 0.99 and alpha[5, 5] < 0.01 and alpha[60, 20] < 0.01


def test_keep_aspect_batch_of_mixed_orientations_equals_single_calls(tmp_path: Path) -> None:
    seg = Segmenter(_keep_aspect_model(tmp_path))
    rng = np.random.default_rng(4)
    photos = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(60, 90, 3), (90, 60, 3), (64, 96, 3)]]
    for got, photo in zip(seg.predict_batch(photos), photos, strict=True):
        np.testing.assert_allclose(got, seg.predict(photo), atol=1e-6)


def test_keep_aspect_on_a_fixed_size_graph_falls_back_to_stretch(tmp_path: Path) -> None:
    seg = Segmenter(_keep_aspect_model(tmp_path, static=True))
    assert seg.spec.resize == mm.RESIZE_STRETCH
    assert any("stretched" in note for note in seg.spec.notes)
    assert seg.preprocess(np.zeros((200, 300, 3), np.uint8)).shape == (1, 3, 32, 32)


def test_mirror_averaging_averages_the_map_with_the_mirrored_inputs(tmp_path):
    """A file that records "test_time_flip" gets the mean of the map for the input and the
    mirrored map for the mirrored input, in one call when the batch is dynamic."""
    extra = {mm.KEY_EXTRA: '{"test_time_flip": true}'}
    path = make_seg_model(tmp_path / "seed.onnx", size=(8, 8), metadata=extra)
    segmenter = Segmenter(path)
    assert segmenter.flip_average and not Segmenter(path, flip_average=False).flip_average
    calls = []

    def position_dependent(batch):  # output = column index, whatever the input: not symmetric
        calls.append(batch.copy())
        return np.broadcast_to(np.arange(batch.shape[-1], dtype=np.float32), (len(batch), 1, *batch.shape[-2:]))

    segmenter.run = position_dependent
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    out = segmenter.run_averaged(x)
    assert len(calls) == 1 and len(calls[0]) == 4  # one call: the batch and its mirror image
    np.testing.assert_array_equal(calls[0][2:], x[..., ::-1])
    np.testing.assert_allclose(out, np.full((2, 1, 8, 8), 3.5))  # (j + (7 - j)) / 2
    segmenter.flip_average = False
    np.testing.assert_array_equal(segmenter.run_averaged(x)[0, 0, 0], np.arange(8))
