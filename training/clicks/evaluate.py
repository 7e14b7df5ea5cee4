"""NoC evaluation of click models, exactly as the interactive-segmentation papers report it.

For each image: start with no clicks and no mask; up to 20 times, put the next click at the
point farthest from the boundary of the largest error region (positive in a false negative,
negative in a false positive), predict, and record IoU (pixels valued 128 in the mask are
ignored). NoC@k = clicks needed to reach IoU >= k (20 when never reached). The same loop runs
a GrabCut baseline seeded by the same kind of clicks, so the learned model's gain is visible.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from desktop_app.core.clicks.engine import Click

from ..data.click_sim import next_click
from ..data.folder import list_pairs, read_mask, read_rgb

MAX_CLICKS = 20
WORST_COUNT = 6  # images in the --worst grid
Predict = Callable[[np.ndarray, list[Click], np.ndarray | None], np.ndarray]


def masked_iou(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> float:
    valid = ~ignore
    union = ((pred | gt) & valid).sum()
    return 1.0 if union == 0 else float(((pred & gt) & valid).sum() / union)


def load_gt(path) -> tuple[np.ndarray, np.ndarray]:
    """Boolean object mask and ignore mask (value 128, as in the RITM Berkeley files)."""
    m = read_mask(path)
    return m > 128, m == 128


@dataclass
class ClickTrace:
    """One image's clicking session: IoU after each click, the clicks, the final mask."""

    ious: list[float]
    seconds_per_click: float
    clicks: list[Click]
    pred: np.ndarray


def click_trace(
    predict: Predict,
    rgb: np.ndarray,
    gt: np.ndarray,
    ignore: np.ndarray,
    max_clicks: int = MAX_CLICKS,
    stop_at: float = 1.01,
    min_clicks: int = 5,
) -> ClickTrace:
    """Click like the protocol does, up to ``max_clicks`` times (see :func:`iou_curve`)."""
    clicks: list[Click] = []
    prob = None
    pred = np.zeros_like(gt)
    ious, spent = [], 0.0
    for _ in range(max_clicks):
        click = next_click(pred, gt, ignore)
        if click is None:  # perfect already: further clicks keep the result
            ious.append(ious[-1] if ious else 1.0)
            continue
        clicks.append(click)
        t = time.perf_counter()
        prob = predict(rgb, clicks, prob)
        spent += time.perf_counter() - t
        pred = prob > 0.5
        ious.append(masked_iou(pred, gt, ignore))
        if ious[-1] >= stop_at and len(ious) >= min_clicks:
            ious += [ious[-1]] * (max_clicks - len(ious))
            break
    return ClickTrace(ious, spent / max(1, len(clicks)), clicks, pred)


def iou_curve(
    predict: Predict,
    rgb: np.ndarray,
    gt: np.ndarray,
    ignore: np.ndarray,
    max_clicks: int = MAX_CLICKS,
    stop_at: float = 1.01,
    min_clicks: int = 5,
) -> tuple[list[float], float]:
    """IoU after each click (1..max_clicks) and the mean seconds per click.

    With ``stop_at`` <= 1, clicking stops once IoU >= stop_at and at least ``min_clicks`` were
    made; the rest of the curve repeats the last IoU. NoC at thresholds <= stop_at and the
    IoU after 1..min_clicks clicks are unaffected; only the tail of the curve is estimated.
    """
    trace = click_trace(predict, rgb, gt, ignore, max_clicks, stop_at, min_clicks)
    return trace.ious, trace.seconds_per_click


def noc(ious: list[float], threshold: float, max_clicks: int = MAX_CLICKS) -> int:
    for i, v in enumerate(ious):
        if v >= threshold:
            return i + 1
    return max_clicks


@dataclass
class NocResult:
    curves: list[list[float]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        c = np.asarray(self.curves)
        return {
            "n": len(self.curves),
            "noc85": float(np.mean([noc(r, 0.85) for r in self.curves])),
            "noc90": float(np.mean([noc(r, 0.90) for r in self.curves])),
            "iou_at_1": float(c[:, 0].mean()),
            "iou_at_3": float(c[:, 2].mean()),
            "iou_at_5": float(c[:, 4].mean()),
            "ms_per_click": float(np.mean(self.seconds) * 1000),
            "failed_at_20_90": int(sum(noc(r, 0.90) == MAX_CLICKS and max(r) < 0.90 for r in self.curves)),
        }


def evaluate_clicks(
    predict: Predict, data: str, limit: int = 0, stop_at: float = 0.90, worst_png: str | None = None
) -> dict[str, float]:
    """NoC@85/90, IoU@1/3/5 and ms per click over a folder (early stop, see ``iou_curve``).

    ``worst_png``: also save a grid of the images that needed the most clicks (see
    :func:`save_worst_clicks`), to see where the clicks go, not only how many."""
    result = NocResult()
    hardest: list[tuple[tuple[int, float], object, ClickTrace]] = []
    for img_path, mask_path in list_pairs(data)[: limit or None]:
        rgb = read_rgb(img_path)
        gt, ignore = load_gt(mask_path)
        trace = click_trace(predict, rgb, gt, ignore, stop_at=stop_at)
        result.curves.append(trace.ious)
        result.seconds.append(trace.seconds_per_click)
        if worst_png:
            hardest.append(((noc(trace.ious, 0.90), -trace.ious[-1]), (img_path, mask_path), trace))
            hardest = sorted(hardest, key=lambda r: r[0], reverse=True)[:WORST_COUNT]  # keep memory flat
    if worst_png:
        save_worst_clicks([(paths, trace) for _, paths, trace in hardest], worst_png)
    return result.summary()


def save_worst_clicks(items: list, path: str, cell: int = 200) -> None:
    """Grid, one row per image: photo with its clicks (green positive, red negative, the
    first one ringed), the ground truth, and our final mask with its IoU and click count
    (white where right, red where the object was missed, blue where background was taken)."""
    rows = []
    for (img_path, mask_path), trace in items:
        rgb = read_rgb(img_path)
        gt, ignore = load_gt(mask_path)
        h, w = gt.shape
        s = cell / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        photo = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        for i, c in enumerate(trace.clicks):
            centre = (round((c.x + 0.5) * s - 0.5), round((c.y + 0.5) * s - 0.5))
            colour = (40, 200, 80) if c.positive else (230, 50, 50)
            cv2.circle(photo, centre, 4, colour, -1, cv2.LINE_AA)
            cv2.circle(photo, centre, 6 if i == 0 else 4, (255, 255, 255), 1, cv2.LINE_AA)
        truth = np.where(ignore, 128, gt.astype(np.uint8) * 255).astype(np.uint8)
        ours = np.zeros((h, w, 3), np.uint8)  # white: right, red: missed, blue: extra
        ours[trace.pred & gt] = (255, 255, 255)
        ours[gt & ~trace.pred] = (230, 50, 50)
        ours[trace.pred & ~gt] = (60, 120, 255)
        ours[ignore] = (90, 90, 90)
        label = f"{len(trace.clicks)} clicks, IoU {trace.ious[-1]:.2f}"
        cells = [
            photo,
            cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST),
            cv2.resize(ours, size, interpolation=cv2.INTER_NEAREST),
        ]
        cells = [_pad(np.dstack([c] * 3) if c.ndim == 2 else c, cell) for c in cells]
        cv2.putText(cells[2], label, (4, cell - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
        cv2.putText(
            cells[0], img_path.stem[:24], (4, cell - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA
        )
        rows.append(np.hstack(cells))
    if rows:
        cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def _pad(img: np.ndarray, cell: int) -> np.ndarray:
    """Centre ``img`` on a dark square of side ``cell``."""
    out = np.full((cell, cell, 3), 30, np.uint8)
    h, w = img.shape[:2]
    y, x = (cell - h) // 2, (cell - w) // 2
    out[y : y + h, x : x + w] = img
    return out


def grabcut_predict(
    rgb: np.ndarray, clicks: list[Click], prev: np.ndarray | None, radius: int = 5, max_side: int = 320
) -> np.ndarray:
    """GrabCut seeded by clicks: disks are hard labels, the area near positives is probable FG."""
    h, w = rgb.shape[:2]
    s = min(1.0, max_side / max(h, w))
    small = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else rgb
    sh, sw = small.shape[:2]
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    if prev is not None:
        prev_small = cv2.resize(prev, (sw, sh), interpolation=cv2.INTER_AREA)
        mask[prev_small > 0.5] = cv2.GC_PR_FGD
    reach = int(0.15 * np.hypot(sh, sw))
    for c in clicks:
        if c.positive and prev is None:
            cv2.circle(mask, (int(c.x * s), int(c.y * s)), reach, cv2.GC_PR_FGD, -1)
    for c in clicks:
        cv2.circle(mask, (int(c.x * s), int(c.y * s)), radius, cv2.GC_FGD if c.positive else cv2.GC_BGD, -1)
    if not (mask == cv2.GC_PR_BGD).any() and not (mask == cv2.GC_BGD).any():
        mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    with contextlib.suppress(cv2.error):
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR) if s < 1 else fg
