"""Salient-object metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import SalientMetrics, boundary_f, f_curve, iou, mae


def test_mae_hand_computed():
    pred = np.array([[0.0, 0.5], [1.0, 1.0]])
    gt = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert mae(pred, gt) == pytest.approx((0 + 0.5 + 0 + 1) / 4)


def test_f_curve_hand_computed():
    # 4 pixels, gt positives: first two. prediction levels 255, 128, 128, 0
    pred = np.array([[1.0, 128 / 255], [128 / 255, 0.0]])
    gt = np.array([[1.0, 1.0], [0.0, 0.0]])
    f = f_curve(pred, gt)
    # threshold 200: predicted {0}: P=1, R=0.5 -> F = 1.3*0.5/(0.3+0.5)
    assert f[200] == pytest.approx(1.3 * 1 * 0.5 / (0.3 * 1 + 0.5))
    # threshold 100: predicted {0,1,2}: P=2/3, R=1
    assert f[100] == pytest.approx(1.3 * (2 / 3) / (0.3 * (2 / 3) + 1))
    # threshold 0: everything predicted: P=0.5, R=1
    assert f[0] == pytest.approx(1.3 * 0.5 / (0.15 + 1))


def test_iou_and_boundary():
    a = np.zeros((20, 20), bool)
    a[5:15, 5:15] = True
    b = np.zeros_like(a)
    b[5:15, 10:20] = True
    assert iou(a, b) == pytest.approx(50 / 150)
    assert iou(a, a) == 1.0
    assert boundary_f(a, a) == 1.0
    assert boundary_f(a, np.zeros_like(a)) == 0.0


def test_summary_max_f_is_max_of_mean_curve():
    rng = np.random.default_rng(0)
    m = SalientMetrics()
    curves = []
    for _ in range(3):
        gt = (rng.random((16, 16)) > 0.5).astype(float)
        pred = np.clip(gt * 0.7 + rng.random((16, 16)) * 0.3, 0, 1)
        m.add(pred, gt)
        curves.append(f_curve(pred, gt))
    s = m.summary()
    assert s["n"] == 3
    assert s["max_f"] == pytest.approx(np.mean(curves, axis=0).max())
    with pytest.raises(ValueError):
        m.add(np.zeros((2, 2)), np.zeros((3, 3)))


def test_exported_metrics_belong_to_the_exported_weights():
    """A file's metadata must carry the evaluation of its own weights, not the run's best epoch."""
    from training.export import checkpoint_metrics

    history = [
        {"epoch": 1, "step": 10, "mae": 0.20},
        {"epoch": 2, "step": 20, "mae": 0.15},
        {"epoch": 3, "step": 30, "mae": 0.18},
    ]
    assert checkpoint_metrics({"step": 30, "history": history})["mae"] == 0.18  # last, not best
    mid = checkpoint_metrics({"step": 25, "history": history})  # saved between evaluations
    assert mid["mae"] == 0.15 and mid["measured_at_step"] == 20
    assert checkpoint_metrics({"step": 5, "history": history}) == {}
    assert "measured_at_step" not in checkpoint_metrics({"step": 20, "history": history})
