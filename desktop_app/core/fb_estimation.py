"""Foreground / background colour from photo + alpha, on numpy and OpenCV only.

Two estimators, both free of numba (whose import alone cost 1.5 s per process when we used
pymatting, and whose JIT kernels need warming):

* :func:`multilevel_fb`, the default: the multilevel estimator of Germer, Uelwer, Conrad &
  Harmeling, "Fast Multi-Level Foreground Estimation" (ICPR 2020), the method pymatting
  implements. Coarse to fine over ~log2(size) levels, each pixel solves the 2x2 system of the
  compositing equation I = aF + (1-a)B plus a smoothness pull towards its four neighbours
  (weighted by how little alpha changes between them). pymatting sweeps pixels one by one
  (Gauss-Seidel in scan order); here each sweep is vectorised as red-black Gauss-Seidel
  (the two checkerboard halves in turn), the same iteration on the same equations.
* :func:`blur_fusion_fb`: Forte & Pitié, "Approximate Fast Foreground Colour Estimation"
  (ICIP 2021), box filters only; faster still, but its colours sit further from the
  multilevel solution (``benchmarks/bench_foreground.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

REGULARIZATION = 1e-5
GRADIENT_WEIGHT = 1.0
SMALL_SIZE = 32  # levels up to this size are iterated more: they are cheap and set the colours
SMALL_ITERATIONS = 10
BIG_ITERATIONS = 2


def _resize_nearest(x: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(x, (w, h), interpolation=cv2.INTER_NEAREST)


def _mean_colour(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    count = int(np.count_nonzero(where))
    return image[where].sum(axis=0) / (count + 1e-5) if count else np.zeros(image.shape[2], np.float32)


def _neighbour_views(x: np.ndarray) -> list[np.ndarray]:
    """Left, right, up and down neighbours with the border replicated."""
    p = np.pad(x, ((1, 1), (1, 1)) + ((0, 0),) * (x.ndim - 2), mode="edge")
    return [p[1:-1, :-2], p[1:-1, 2:], p[:-2, 1:-1], p[2:, 1:-1]]


def _sweep(image, alpha, weights, total, fg, bg, parity_masks) -> None:
    """One red-black Gauss-Seidel sweep, in place on ``fg`` and ``bg``."""
    a = alpha[..., None]
    a1 = 1.0 - a
    a00 = a * a + total
    a11 = a1 * a1 + total
    a01 = a * a1
    inv_det = 1.0 / (a00 * a11 - a01 * a01)
    for mask in parity_masks:
        sum_f = sum(w * n for w, n in zip(weights, _neighbour_views(fg), strict=True))
        sum_b = sum(w * n for w, n in zip(weights, _neighbour_views(bg), strict=True))
        b0 = a * image + sum_f
        b1 = a1 * image + sum_b
        new_f = np.clip((a11 * b0 - a01 * b1) * inv_det, 0.0, 1.0)
        new_b = np.clip((a00 * b1 - a01 * b0) * inv_det, 0.0, 1.0)
        np.copyto(fg, new_f, where=mask)
        np.copyto(bg, new_b, where=mask)


def multilevel_fb(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colour (HxWx3 float32 in [0, 1]) of ``image`` (HxWx3 float in
    [0, 1]) under ``alpha`` (HxW float in [0, 1]); see the module docstring."""
    image = np.ascontiguousarray(image, np.float32)
    alpha = np.ascontiguousarray(alpha, np.float32)
    h0, w0 = alpha.shape
    fg = _mean_colour(image, alpha > 0.9).astype(np.float32).reshape(1, 1, -1)
    bg = _mean_colour(image, alpha < 0.1).astype(np.float32).reshape(1, 1, -1)
    n_levels = max(1, int(np.ceil(np.log2(max(w0, h0)))))
    for level in range(n_levels + 1):
        w, h = round(w0 ** (level / n_levels)), round(h0 ** (level / n_levels))
        img = _resize_nearest(image, w, h).reshape(h, w, -1)
        a = _resize_nearest(alpha, w, h).reshape(h, w)
        fg = _resize_nearest(fg, w, h).reshape(h, w, -1)
        bg = _resize_nearest(bg, w, h).reshape(h, w, -1)
        weights = [
            (REGULARIZATION + GRADIENT_WEIGHT * np.abs(a - n))[..., None].astype(np.float32)
            for n in _neighbour_views(a)
        ]
        total = sum(weights)
        yy, xx = np.mgrid[0:h, 0:w]
        even = ((yy + xx) % 2 == 0)[..., None]
        iterations = SMALL_ITERATIONS if w <= SMALL_SIZE and h <= SMALL_SIZE else BIG_ITERATIONS
        for _ in range(iterations):
            _sweep(img, a, weights, total, fg, bg, (even, ~even))
    return fg, bg


EPS = 1e-5
WIDE_RADIUS_FRACTION = 0.09  # first pass: 9 % of the longest side (the paper's 90 px at ~1 MP)
NARROW_RADIUS = 6  # second pass, as in the paper


def _box(x: np.ndarray, r: int) -> np.ndarray:
    k = 2 * r + 1
    return cv2.blur(x, (k, k), borderType=cv2.BORDER_REFLECT)


def _fuse(
    image: np.ndarray, alpha: np.ndarray, fg: np.ndarray, bg: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """One blur-fusion step: alpha-weighted local means, then the compositing correction."""
    a = alpha[..., None]
    blurred_a = _box(alpha, r)[..., None]
    blurred_f = _box(fg * a, r) / (blurred_a + EPS)
    blurred_b = _box(bg * (1.0 - a), r) / ((1.0 - blurred_a) + EPS)
    new_fg = blurred_f + a * (image - a * blurred_f - (1.0 - a) * blurred_b)
    return np.clip(new_fg, 0.0, 1.0, out=new_fg), blurred_b


def blur_fusion_fb(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ "Blur-Fusion x2" of Forte & Pitié: a wide pass for colour, a narrow one to sharpen."""
    image = np.ascontiguousarray(image, np.float32)
    alpha = np.ascontiguousarray(alpha, np.float32)
    wide = max(NARROW_RADIUS + 1, round(WIDE_RADIUS_FRACTION * max(alpha.shape)))
    fg, bg = _fuse(image, alpha, image, image, wide)
    return _fuse(image, alpha, fg, bg, NARROW_RADIUS)
