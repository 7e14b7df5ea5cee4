"""Click simulation, shared by click-model training and the NoC evaluation.

The evaluation protocol (see ../shared/datasets/README.md): the next click goes to the point
farthest from the boundary inside the largest error region; a false-negative region gets a
positive click, a false-positive region a negative one. Pixels marked "ignore" never count.
"""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.clicks.engine import Click


def _farthest_point(region: np.ndarray) -> tuple[int, int]:
    """(y, x) of the pixel farthest from the region's boundary (image border counts as boundary)."""
    padded = np.pad(region.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(y), int(x)


def largest_error_region(
    pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None
) -> tuple[np.ndarray, bool] | None:
    """The largest connected error component and whether it is a false negative."""
    valid = np.ones_like(gt, bool) if ignore is None else ~ignore
    best, best_area, best_positive = None, 0, True
    for positive, err in ((True, gt & ~pred & valid), (False, pred & ~gt & valid)):
        if not err.any():
            continue
        n, labels, stats, _ = cv2.connectedComponentsWithStats(err.astype(np.uint8), connectivity=8)
        if n <= 1:
            continue
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = int(stats[k, cv2.CC_STAT_AREA])
        if area > best_area:
            best, best_area, best_positive = labels == k, area, positive
    return None if best is None else (best, best_positive)


def next_click(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> Click | None:
    """The protocol's next click for boolean ``pred`` vs boolean ``gt``; None when perfect."""
    found = largest_error_region(pred, gt, ignore)
    if found is None:
        return None
    region, positive = found
    y, x = _farthest_point(region)
    return Click(float(x), float(y), positive)


def random_click_inside(region: np.ndarray, rng: np.random.Generator, min_rel_dist: float = 0.3) -> Click | None:
    """A random point well inside ``region`` (distance >= min_rel_dist * max distance)."""
    if not region.any():
        return None
    dist = cv2.distanceTransform(np.pad(region.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    ys, xs = np.nonzero(dist >= max(1.0, min_rel_dist * float(dist.max())))
    if len(ys) == 0:
        ys, xs = np.nonzero(region)
    i = int(rng.integers(len(ys)))
    return Click(float(xs[i]), float(ys[i]), True)


def split_components(mask: np.ndarray, min_fraction: float = 0.01) -> list[np.ndarray]:
    """Connected components of a binary mask that cover at least ``min_fraction`` of it."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    total = max(1, int(mask.sum()))
    return [labels == k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= min_fraction * total]


def perturb_mask(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible imperfect automatic mask, as the editor's clicks start from one.

    Half the time morphological drift (the whole outline grown or shrunk) with holes and
    spurious blobs; a quarter of the time an *opening* (thin parts lost, the body exact: the
    horses' legs and the tiger's tail the removal drops); a quarter a *closing* (the gaps
    between thin parts filled: the grass between legs). The last two teach what the editor
    needs: a click on a missing leg adds the leg, not the background beside it. Then blur.
    """
    h, w = gt.shape
    m = gt.astype(np.uint8)
    k = int(rng.integers(3, max(4, min(h, w) // 12)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mode = rng.random()
    if mode < 0.25:
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
    elif mode < 0.5:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
    else:
        m = cv2.dilate(m, kernel) if rng.random() < 0.5 else cv2.erode(m, kernel)
        for _ in range(int(rng.integers(0, 4))):
            cx, cy = int(rng.integers(w)), int(rng.integers(h))
            r = int(rng.integers(max(2, min(h, w) // 20), max(3, min(h, w) // 6)))
            cv2.circle(m, (cx, cy), r, int(rng.random() < 0.5), -1)
    soft = cv2.GaussianBlur(m.astype(np.float32), (0, 0), float(rng.uniform(0.5, 3.0)))
    return np.clip(soft, 0, 1)
