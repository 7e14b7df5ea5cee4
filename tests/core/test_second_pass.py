"""The click model's second pass for automatic removal: where it clicks, what it keeps, how it is wired."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers.corpus import photo
from helpers.tiny_models import make_click_model, make_seg_model
from PIL import Image

from desktop_app.cli import main as cli_main
from desktop_app.core.clicks.engine import ClickSegmenter
from desktop_app.core.errors import ModelError
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import predict_alpha
from desktop_app.core.second_pass import (
    default_clicker,
    interior_click,
    second_pass,
    second_pass_alpha,
    shrink_long_side,
)
from desktop_app.core.segment import Segmenter


def test_interior_click_is_the_point_deepest_inside_the_subject():
    mask = np.zeros((200, 200), np.float32)
    mask[10:30, 0:200] = 1.0  # a long thin bar (its middle has the most pixels around it) ...
    cv2.circle(mask, (100, 130), 50, 1.0, -1)  # ... and a disc: the deepest point is its centre
    click = interior_click(mask)
    assert click is not None and click.positive
    assert abs(click.x - 100) <= 1.5 and abs(click.y - 130) <= 1.5
    assert interior_click(np.zeros((50, 50), np.float32)) is None
    assert interior_click((mask * 255).astype(np.uint8)) == click  # uint8 masks mean the same


def test_interior_click_on_a_large_mask_lands_in_full_resolution_coordinates():
    mask = np.zeros((3000, 4000), np.uint8)
    cv2.circle(mask, (3000, 1000), 500, 255, -1)
    click = interior_click(mask)
    assert abs(click.x - 3000) <= 10 and abs(click.y - 1000) <= 10  # 512 px search grid: ~8 px cells


def test_subject_cut_by_the_frame_is_clicked_inside_it():
    mask = np.zeros((100, 100), np.float32)
    mask[:, :30] = 1.0  # the subject runs off the left edge: the edge counts as a boundary
    click = interior_click(mask)
    assert 10 <= click.x <= 20


def test_second_pass_feeds_mask_and_click_to_the_click_model(tmp_path):
    # the revealing tiny model answers max(positive-click disk, previous mask) in its zoom box
    clicker = ClickSegmenter(make_click_model(tmp_path / "clicks.onnx", size=32, radius=2.0))
    rgb = np.zeros((100, 100, 3), np.uint8)
    alpha = np.zeros((100, 100), np.float32)
    alpha[40:80, 20:60] = 0.6  # a soft subject, centre (39.5, 59.5)
    alpha[0:3, 97:100] = 0.2  # a faint speck far outside the subject's zoom box
    out = second_pass(clicker, rgb, alpha)
    assert out.dtype == np.float32 and out.shape == alpha.shape
    ys, xs = np.nonzero(out > 0.9)  # the click's disk: only the click model puts it there
    assert len(ys) and abs(xs.mean() - 39.5) <= 2 and abs(ys.mean() - 59.5) <= 2
    assert abs(out[45, 25] - 0.6) < 0.02  # the prior came through the model
    assert out[1, 98] == pytest.approx(0.2)  # outside the zoom box: untouched
    assert alpha.max() == pytest.approx(0.6)  # the caller's mask was not written to
    empty = np.zeros((20, 20), np.float32)
    np.testing.assert_array_equal(second_pass(clicker, rgb[:20, :20], empty), empty)


def test_large_photos_take_the_second_pass_on_a_working_copy_with_the_same_answer(tmp_path):
    """A photo over the working side is shrunk for both models and the mask upscaled once:
    the answer matches the full-resolution path to within the resampling's blur."""
    segmenter = Segmenter(make_seg_model(tmp_path / "seg.onnx", size=(32, 32)))
    clicker = ClickSegmenter(make_click_model(tmp_path / "clicks.onnx", size=32, radius=2.0))
    rgb = np.zeros((300, 400, 3), np.uint8)
    cv2.circle(rgb, (250, 140), 70, (255, 0, 0), -1)  # the tiny model's subject is the red channel
    full = second_pass_alpha(segmenter, clicker, rgb, work_side=400)  # fits: no working copy
    np.testing.assert_array_equal(full, second_pass(clicker, rgb, segmenter.predict(rgb)))
    assert shrink_long_side(rgb, 100).shape == (75, 100, 3) and shrink_long_side(rgb, 400) is rgb
    small = second_pass_alpha(segmenter, clicker, rgb, work_side=100)
    assert small.shape == full.shape and small.dtype == np.float32
    assert not np.array_equal(small, full)  # it really took the working-copy path ...
    assert np.abs(small - full).mean() < 0.02  # ... and gives the same subject
    assert small[140, 250] > 0.9 and small[10, 10] < 0.1
    refined = second_pass_alpha(segmenter, clicker, rgb, refine=True, work_side=100)
    assert refined.shape == full.shape and refined.min() >= 0.0 and refined.max() <= 1.0
    assert np.abs(refined - full).mean() < 0.02


def test_pipeline_runs_the_second_pass_and_thresholds_last(tmp_path, models_env):
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=2.0)
    segmenter = Segmenter(make_seg_model(tmp_path / "seg.onnx"))
    rgb = photo(64, 64)
    plain = predict_alpha(segmenter, rgb, RemoveOptions())
    twice = predict_alpha(segmenter, rgb, RemoveOptions(second_pass=True))
    assert twice.shape == plain.shape
    assert twice.max() > plain.max() - 1e-6 and not np.array_equal(plain, twice)
    hard = predict_alpha(segmenter, rgb, RemoveOptions(second_pass=True, threshold=0.5))
    assert set(np.unique(hard)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard, (twice >= 0.5).astype(np.float32))


def test_cli_second_pass_writes_output_and_fails_clearly_without_a_click_model(tmp_path, models_env, capsys):
    seg = make_seg_model(tmp_path / "seg.onnx")
    src = tmp_path / "in.png"
    Image.fromarray(photo()).save(src)
    args = ["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg), "--second-pass"]
    with pytest.raises(ModelError, match="needs a click model"):
        default_clicker()
    assert cli_main(args) == 2
    assert "needs a click model" in capsys.readouterr().err
    assert not (tmp_path / "out" / "in.png").exists()
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=2.0)
    assert cli_main(args) == 0
    assert Image.open(tmp_path / "out" / "in.png").mode == "RGBA"


def test_second_pass_option_is_off_by_default():
    assert RemoveOptions().second_pass is False
    assert RemoveOptions(second_pass=True).to_dict()["second_pass"] is True
