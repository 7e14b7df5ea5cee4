"""Click simulation, NoC bookkeeping, and the click model's train -> export -> app path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from desktop_app.core.clicks.engine import Click, ClickSegmenter
from training.__main__ import main as training_main
from training.clicks.evaluate import (
    WORST_COUNT,
    click_trace,
    evaluate_clicks,
    grabcut_predict,
    iou_curve,
    load_gt,
    masked_iou,
    noc,
)
from training.data.click_sim import largest_error_region, next_click, perturb_mask, split_components
from training.data.folder import list_pairs, read_rgb


def _square(size=20, y0=5, y1=15, x0=5, x1=15):
    m = np.zeros((size, size), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_first_click_goes_to_object_centre():
    gt = _square()
    click = next_click(np.zeros_like(gt), gt)
    assert click.positive
    assert (click.y, click.x) in {(9.0, 9.0), (9.0, 10.0), (10.0, 9.0), (10.0, 10.0)}


def test_largest_error_region_picks_false_positive_when_bigger():
    gt = _square(30, 5, 15, 5, 15)
    pred = gt.copy()
    pred[5:7, 5:15] = False  # 20 px false negative
    pred[20:28, 18:28] = True  # 80 px false positive
    region, positive = largest_error_region(pred, gt)
    assert not positive and region.sum() == 80
    click = next_click(pred, gt)
    assert not click.positive and 20 <= click.y < 28 and 18 <= click.x < 28


def test_perfect_prediction_needs_no_click_and_ignore_is_ignored():
    gt = _square()
    assert next_click(gt.copy(), gt) is None
    pred = gt.copy()
    pred[0:3, 0:3] = True
    ignore = np.zeros_like(gt)
    ignore[0:3, 0:3] = True
    assert next_click(pred, gt, ignore) is None
    assert masked_iou(pred, gt, ignore) == 1.0


def test_noc_counts_clicks_to_threshold():
    curve = [0.5, 0.8, 0.86, 0.91] + [0.95] * 16
    assert noc(curve, 0.85) == 3
    assert noc(curve, 0.90) == 4
    assert noc([0.5] * 20, 0.9) == 20


def test_iou_curve_with_an_oracle_reaches_one_in_one_click():
    gt = _square(40, 10, 30, 8, 25)
    rgb = np.zeros((40, 40, 3), np.uint8)
    ious, _ = iou_curve(lambda im, clicks, prev: gt.astype(np.float32), rgb, gt, np.zeros_like(gt))
    assert ious == [1.0] * 20


def test_worst_grid_shows_the_images_that_needed_most_clicks(tiny_dataset, tmp_path):
    """A predictor that only marks small disks at positive clicks needs many clicks for big
    ellipses and few for small ones; the grid keeps the hardest six, drawn with their clicks."""
    import cv2

    def disks(rgb, clicks, prev):
        out = np.zeros(rgb.shape[:2], np.uint8)
        for c in clicks:
            if c.positive:
                cv2.circle(out, (round(c.x), round(c.y)), 4, 1, -1)
        return out.astype(np.float32)

    png = tmp_path / "worst.png"
    metrics = evaluate_clicks(disks, str(tiny_dataset), worst_png=str(png))
    grid = cv2.imread(str(png))
    assert grid.shape == (WORST_COUNT * 200, 3 * 200, 3)  # 6 of the 12 images, 3 columns
    assert metrics["failed_at_20_90"] >= 1
    photos = grid[:, :200].astype(int)
    greens = (photos[..., 1] > 150) & (photos[..., 2] < 120) & (photos[..., 0] < 140)  # BGR
    assert greens.sum() > 20  # positive clicks are drawn on the photos


def test_split_components():
    m = _square(40, 2, 10, 2, 10) | _square(40, 20, 35, 20, 35)
    parts = split_components(m)
    assert sorted(int(p.sum()) for p in parts) == [64, 225]


def test_grabcut_baseline_finds_a_clear_object():
    rgb = np.full((60, 60, 3), 30, np.uint8)
    rgb[15:45, 15:45] = (220, 40, 40)
    rgb = (rgb.astype(int) + np.random.default_rng(0).integers(-10, 10, rgb.shape)).clip(0, 255).astype(np.uint8)
    prob = grabcut_predict(rgb, [Click(30, 30, True)], None)
    gt = _square(60, 15, 45, 15, 45)
    assert masked_iou(prob > 0.5, gt, np.zeros_like(gt)) > 0.8


def click_train_args(data, out, *extra: str) -> list[str]:
    """``clicks train`` on the tiny dataset at CI size (64 px, one epoch, one thread)."""
    tiny = "--size 64 --eval-size 64 --epochs 1 --batch-size 4 --workers 0 --val-limit 2 --threads 1"
    return ["clicks", "train", "--data", str(data), "--val", str(data), "--out", str(out), *tiny.split(), *extra]


def test_click_training_export_and_app_engine(tiny_dataset, cache_dir, tmp_path):
    run = tmp_path / "clicks"
    assert training_main(click_train_args(tiny_dataset, run, "--preset", "xs")) == 0
    out = tmp_path / "click.onnx"
    assert training_main(["clicks", "export", "--ckpt", str(run / "best.pt"), "--out", str(out)]) == 0
    engine = ClickSegmenter(out)
    assert engine.spec.input_size == 64
    assert engine.spec.flip_average  # exports ask for mirror averaging unless --no-flip
    rgb = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    prev = np.zeros((50, 70), np.float32)
    prob = engine.predict(rgb, [Click(35, 25, True)], prev)
    assert prob.shape == (50, 70) and prob.min() >= 0 and prob.max() <= 1
    metrics = evaluate_clicks(engine.predict, str(tiny_dataset), limit=2)
    assert set(metrics) >= {"noc85", "noc90", "iou_at_1", "iou_at_3", "iou_at_5", "ms_per_click"}
    # The summary is the protocol applied to this model's own click traces (recomputed here),
    # not just some number in NoC's range: a wrong threshold, curve or image count shows.
    traces = [click_trace(engine.predict, read_rgb(i), *load_gt(m), stop_at=0.90) for i, m in
              list_pairs(str(tiny_dataset))[:2]]  # fmt: skip
    assert metrics["n"] == 2
    assert metrics["noc90"] == pytest.approx(np.mean([noc(t.ious, 0.90) for t in traces]))
    assert metrics["noc85"] == pytest.approx(np.mean([noc(t.ious, 0.85) for t in traces]))
    assert metrics["iou_at_1"] == pytest.approx(np.mean([t.ious[0] for t in traces]))
    assert metrics["noc85"] <= metrics["noc90"] and metrics["ms_per_click"] > 0

    # float16 weight storage: a smaller file, the same masks up to rounding, metadata kept
    half = tmp_path / "click16.onnx"
    argv = ["clicks", "export", "--ckpt", str(run / "best.pt"), "--out", str(half), "--fp16-weights"]
    assert training_main(argv) == 0
    assert half.stat().st_size < 0.7 * out.stat().st_size
    engine16 = ClickSegmenter(half)
    assert engine16.spec.input_size == 64 and engine16.spec.flip_average
    prob16 = engine16.predict(rgb, [Click(35, 25, True)], prev)
    assert prob16.dtype == np.float32 and np.abs(prob16 - prob).max() < 2e-2

    # A new phase (--init) starts from the EMA weights of the earlier run, on a fresh schedule.
    phase = tmp_path / "phase2"
    argv = click_train_args(tiny_dataset, phase, "--init", str(run / "last.pt"), "--max-steps", "1")
    argv += ["--gap-weight", "3"]
    assert training_main(argv) == 0
    before = torch.load(run / "last.pt", weights_only=False)["ema"]
    after = torch.load(phase / "last.pt", weights_only=False)
    assert after["step"] == 1 and after["task_config"]["init"] == str(run / "last.pt")
    assert after["task_config"]["gap_weight"] == 3.0
    key = "net.stem.0.weight"
    assert torch.allclose(after["model"][key], before[key], atol=1e-2)  # one small step away
    assert not torch.equal(after["model"][key], before[key])


def test_berkeley_masks_read_with_ignore_label():
    from training.clicks.evaluate import load_gt
    from training.data.folder import list_pairs

    from .conftest import shared_dataset

    folder = shared_dataset("berkeley")
    pairs = list_pairs(folder)
    assert len(pairs) == 100
    gt, ignore = load_gt(pairs[0][1])
    assert gt.any() and gt.shape == ignore.shape


@pytest.mark.parametrize("name", ["duts-tr", "sod"])
def test_shared_segmentation_sets_pair_up(name):
    from training.data.folder import list_pairs

    from .conftest import shared_dataset

    pairs = list_pairs(shared_dataset(name))
    assert len(pairs) == {"duts-tr": 10553, "sod": 300}[name]


def test_perturbed_masks_include_lost_legs_and_filled_gaps():
    """The imperfect starting masks cover the removal's typical failures on animals: thin legs
    lost with the body intact, and the gap between legs filled; a click then lands on a leg
    (or, for a filled gap, is a negative click)."""
    gt = np.zeros((240, 240), bool)
    gt[40:120, 40:200] = True  # body
    gt[120:220, 60:72] = True  # two legs, 12 px wide, 12 px apart
    gt[120:220, 84:96] = True
    body, legs, gap = (
        (slice(42, 118), slice(42, 198)),
        (slice(140, 200), slice(62, 70)),
        (slice(140, 200), slice(74, 82)),
    )
    lost_legs = filled_gap = 0
    for seed in range(80):
        m = perturb_mask(gt, np.random.default_rng(seed)) > 0.5
        intact_body = m[body].mean() > 0.98  # the outline kept (drift shrinks or grows it)
        if intact_body and m[legs].mean() < 0.1 and not m[gap].any():
            lost_legs += 1
            click = next_click(m, gt)
            assert click.positive and (60 <= click.x < 72 or 84 <= click.x < 96) and click.y >= 120
        if intact_body and m[gap].mean() > 0.9 and m[legs].all() and not m[:, 100:200][140:].any():
            filled_gap += 1
            click = next_click(m, gt)
            assert not click.positive and 72 <= click.x < 84  # the fix: a negative click in the gap
    assert lost_legs >= 5 and filled_gap >= 5


def test_focus_samples_zoom_in_on_the_click_at_an_error(tmp_path, cache_dir):
    """A focus sample is what the editor's focus pass sees: the object larger than in a whole
    crop, one click at the imperfect mask's largest error (positive on missed object, negative
    on spurious background), and the previous mask cut from the same window."""
    from training.data.click_dataset import ClickTrainSet
    from training.data.folder import load_decoded

    from .conftest import make_folder_dataset

    data = load_decoded(make_folder_dataset(tmp_path / "d", n=6, size=96))
    plain = ClickTrainSet(data, 64, seed=1, radius=2)
    focus = ClickTrainSet(data, 64, seed=1, radius=2, focus_prob=1.0)
    zoomed = 0
    for i in range(len(data)):
        for epoch in range(4):
            plain.set_epoch(epoch)
            focus.set_epoch(epoch)
            x, gt, g = focus[i]
            assert x.shape == (3, 64, 64) and gt.shape == (1, 64, 64) and g.shape == (3, 64, 64)
            pos, neg, prev = g[0].numpy() > 0.5, g[1].numpy() > 0.5, g[2].numpy() > 0.5
            truth = gt[0].numpy() > 0.5
            if pos.sum() + neg.sum() == 0:
                continue  # the perturbation was perfect: a plain sample was drawn instead
            assert (pos.sum() > 0) != (neg.sum() > 0)  # exactly one click
            disk = pos if pos.any() else neg
            # the click marks a pixel that the previous mask got wrong
            assert ((prev != truth) & disk).any()
            # positive clicks fall on missed object, negative ones on spurious mask
            assert (truth & ~prev & disk).any() if pos.any() else (~truth & prev & disk).any()
            zoomed += int(truth.mean() > plain[i][1][0].numpy().mean() or truth.all())
    assert zoomed >= 8  # the window shows the object larger (or all object) than a whole crop does
