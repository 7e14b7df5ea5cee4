"""Salient-object and interactive-segmentation metrics, following the published protocols.

- MAE: mean |pred - gt| with both in [0, 1], averaged per image.
- max F-beta (beta² = 0.3): precision/recall at 256 thresholds of the prediction, F computed
  per image per threshold, averaged over images per threshold, maximum over thresholds.
- mean IoU: IoU of the prediction thresholded at 0.5 against gt > 0.5, averaged per image.
- boundary F: F-measure of boundary pixels with a tolerance of ``tol`` px (as in the DAVIS
  boundary measure), at threshold 0.5, averaged per image.
Ground truth is binarised at 0.5 for F, IoU and boundary F (soft values only matter for MAE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

BETA2 = 0.3
N_THRESHOLDS = 256


def mae(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.abs(pred.astype(np.float64) - gt.astype(np.float64)).mean())


def f_curve(pred: np.ndarray, gt: np.ndarray, beta2: float = BETA2) -> np.ndarray:
    """F-beta at thresholds t/255 for t in 0..255 (prediction >= threshold counts positive)."""
    gt_bin = gt > 0.5
    levels = np.clip(np.round(pred * 255), 0, 255).astype(np.int64)
    pos_hist = np.bincount(levels[gt_bin], minlength=256)
    all_hist = np.bincount(levels.ravel(), minlength=256)
    # predicted positive at threshold t: levels >= t -> reverse cumulative sums
    tp = np.cumsum(pos_hist[::-1])[::-1].astype(np.float64)
    pp = np.cumsum(all_hist[::-1])[::-1].astype(np.float64)
    n_pos = float(gt_bin.sum())
    precision = np.divide(tp, pp, out=np.zeros_like(tp), where=pp > 0)
    recall = tp / n_pos if n_pos > 0 else np.zeros_like(tp)
    denom = beta2 * precision + recall
    return np.divide((1 + beta2) * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)


def iou(pred_bin: np.ndarray, gt_bin: np.ndarray) -> float:
    union = np.logical_or(pred_bin, gt_bin).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred_bin, gt_bin).sum() / union)


def _boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))) > 0


def boundary_f(pred_bin: np.ndarray, gt_bin: np.ndarray, tol: int = 3) -> float:
    pb, gb = _boundary(pred_bin), _boundary(gt_bin)
    if pb.sum() == 0 and gb.sum() == 0:
        return 1.0
    if pb.sum() == 0 or gb.sum() == 0:
        return 0.0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tol + 1, 2 * tol + 1))
    gb_d = cv2.dilate(gb.astype(np.uint8), kernel) > 0
    pb_d = cv2.dilate(pb.astype(np.uint8), kernel) > 0
    precision = (pb & gb_d).sum() / pb.sum()
    recall = (gb & pb_d).sum() / gb.sum()
    return float(2 * precision * recall / (precision + recall)) if precision + recall > 0 else 0.0


@dataclass
class SalientMetrics:
    """Accumulates per-image results; ``summary()`` gives the dataset figures."""

    maes: list[float] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    bfs: list[float] = field(default_factory=list)
    f_sum: np.ndarray = field(default_factory=lambda: np.zeros(N_THRESHOLDS))

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """pred, gt: float arrays in [0, 1] of the same (original) size."""
        if pred.shape != gt.shape:
            raise ValueError(f"prediction {pred.shape} and mask {gt.shape} differ in size")
        self.maes.append(mae(pred, gt))
        self.f_sum += f_curve(pred, gt)
        pb, gb = pred >= 0.5, gt > 0.5
        self.ious.append(iou(pb, gb))
        self.bfs.append(boundary_f(pb, gb))

    def summary(self) -> dict[str, float]:
        n = len(self.maes)
        if n == 0:
            return {"n": 0}
        return {
            "n": n,
            "mae": float(np.mean(self.maes)),
            "max_f": float((self.f_sum / n).max()),
            "mean_iou": float(np.mean(self.ious)),
            "boundary_f": float(np.mean(self.bfs)),
        }
