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
# Red-black layout: pixel (2i+p, 2j+q) is element [i, j] of phase (p, q). Red = phases (0, 0)
# and (1, 1), black = (0, 1) and (1, 0); each colour is stored as a stack of its two phases,
# every phase with a one-pixel zero border. _NEIGHBOURS[colour][k] gives, for stack members 0
# and 1, where neighbour k (left, right, up, down) lives in the other colour's stack:
# (member of that stack, row offset, column offset) in padded coordinates.
_RED, _BLACK = ((0, 0), (1, 1)), ((0, 1), (1, 0))
_NEIGHBOURS = (
    (((0, 1, 0), (1, 1, 1)), ((0, 1, 1), (1, 1, 2)), ((1, 0, 1), (0, 1, 1)), ((1, 1, 1), (0, 2, 1))),  # red
    (((0, 1, 1), (1, 1, 0)), ((0, 1, 2), (1, 1, 1)), ((1, 0, 1), (0, 1, 1)), ((1, 1, 1), (0, 2, 1))),  # black
)


def _mean_colour(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    count = int(np.count_nonzero(where))
    return image[where].sum(axis=0) / (count + 1e-5) if count else np.zeros(image.shape[2], np.float32)


def _nearest_maps(h: int, w: int, h_src: int, w_src: int) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps for pymatting's nearest-neighbour sampling (x * src // dst), exactly:
    cv2.resize's own nearest mode rounds differently for some sizes."""
    xs = np.minimum(w_src - 1, (np.arange(w) * w_src) // w).astype(np.float32)
    ys = np.minimum(h_src - 1, (np.arange(h) * h_src) // h).astype(np.float32)
    return np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(ys[:, None], (h, w)).copy()


def _resize_nearest(x: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    out = cv2.remap(x, maps[0], maps[1], cv2.INTER_NEAREST)
    return out if out.ndim == x.ndim else out[..., None]


def _colour_stacks(x: np.ndarray, hh: int, ww: int, border: int) -> list[np.ndarray]:
    """(h, w, C) -> [red, black], each (2, C, hh + 2*border, ww + 2*border), zero outside the image."""
    stacks = []
    for members in (_RED, _BLACK):
        stack = np.zeros((2, x.shape[2], hh + 2 * border, ww + 2 * border), np.float32)
        for m, (p, q) in enumerate(members):
            part = x[p::2, q::2]
            stack[m, :, border : border + part.shape[0], border : border + part.shape[1]] = part.transpose(2, 0, 1)
        stacks.append(stack)
    return stacks


def _neighbour_view(stack: np.ndarray, where: tuple[tuple[int, int, int], ...], hh: int, ww: int) -> np.ndarray:
    """A (2, C, hh, ww) read-only view of a padded (2, C, hh+2, ww+2) stack whose member m is
    that stack's member where[m][0] shifted by where[m][1:] (both in one strided view, so one
    operation updates both phases of a colour)."""
    (m0, r0, c0), (m1, r1, c1) = where
    s0, s1, s2, s3 = stack.strides
    step = (m1 - m0) * s0 + (r1 - r0) * s2 + (c1 - c0) * s3
    base = stack[m0, :, r0:, c0:]
    return np.lib.stride_tricks.as_strided(
        base, shape=(2, stack.shape[1], hh, ww), strides=(step, s1, s2, s3), writeable=False
    )


def _colour_constants(
    image: np.ndarray, alpha: list[np.ndarray], inside: list[np.ndarray], colour: int, clamp_borders: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """K (2, 6, hh, ww), P (2, 2, 1, hh, ww), Q (2, 1, 1, hh, ww) and the neighbour weights
    (2, 1, hh, ww each) of one colour's pixels, from padded alpha and in-image stacks."""
    hh, ww = image.shape[2:]
    reg = np.float32(REGULARIZATION)
    a = alpha[colour][:, :, 1:-1, 1:-1]
    here = inside[colour][:, :, 1:-1, 1:-1]
    weights = []
    for where in _NEIGHBOURS[colour]:
        there = _neighbour_view(inside[1 - colour], where, hh, ww)
        wk = np.abs(a - _neighbour_view(alpha[1 - colour], where, hh, ww))
        wk *= np.float32(GRADIENT_WEIGHT)
        wk += reg
        wk *= there
        wk *= here
        weights.append(wk)
    total = sum(weights)
    if clamp_borders:  # each missing neighbour: the pixel itself, with weight REGULARIZATION
        missing = (4.0 - sum(wk > 0 for wk in weights)) * reg * here
        weights.append(missing.astype(np.float32))
        total += missing
    total += 1.0 - here  # padding pixels: weigh 0 and are never read, but must stay finite
    a1 = 1.0 - a
    a00 = a * a + total
    a11 = a1 * a1 + total
    a01 = a * a1
    inv_det = 1.0 / (a00 * a11 - a01 * a01)
    k = np.empty((2, 6, hh, ww), np.float32)
    np.multiply((a11 * a - a01 * a1) * inv_det, image, out=k[:, 0:3])
    np.multiply((a00 * a1 - a01 * a) * inv_det, image, out=k[:, 3:6])
    p = np.stack([a11 * inv_det, a00 * inv_det], axis=1)[:, :, None, 0]
    q = (a01 * inv_det)[:, None]
    return k, p.reshape(2, 2, 1, hh, ww), q.reshape(2, 1, 1, hh, ww), weights


CHUNK_ELEMENTS = 24_576  # elements per operand of one operation: keeps a sweep's operands in cache


def _solve_level(
    image: np.ndarray, alpha: np.ndarray, fb: np.ndarray, iterations: int, clamp_borders: bool
) -> np.ndarray:
    """``iterations`` red-black Gauss-Seidel sweeps of one level; returns the new (h, w, 6) F|B.

    ``image`` is (h, w, 3), ``alpha`` (h, w), ``fb`` (h, w, 6): F's channels then B's.
    Each pixel's update, the closed-form solution of its 2x2 system, is
    ``[F; B] = K + P * S - Q * swap(S)`` with ``S`` the neighbour-weighted sum of [F; B] and
    K, P, Q per-pixel constants of the level, so a half-sweep is a dozen whole-array
    operations on half the pixels, done in bands of rows small enough to stay in the CPU
    cache (pixels of one colour do not depend on each other, so any split is exact).
    A neighbour outside the image has weight 0 (its view reads the zero border); pymatting
    clamps it to the pixel itself with weight ``REGULARIZATION``, which ``clamp_borders``
    reproduces (needed on the 1x1 level, where a pixel has no neighbour at all; on big levels
    the difference is ~1e-5 and would cost two more operations per half-sweep).
    """
    h, w = alpha.shape
    hh, ww = (h + 1) // 2, (w + 1) // 2
    states = _colour_stacks(fb, hh, ww, 1)
    alphas = _colour_stacks(alpha[..., None], hh, ww, 1)
    inside = _colour_stacks(np.ones((h, w, 1), np.float32), hh, ww, 1)
    images = _colour_stacks(image, hh, ww, 0)
    rows = max(1, min(hh, CHUNK_ELEMENTS // (12 * ww)))
    s = np.empty((2, 6, rows, ww), np.float32)
    t, u = np.empty_like(s), np.empty_like(s)
    plans = []
    for colour in (0, 1):
        k, p, q, weights = _colour_constants(images[colour], alphas, inside, colour, clamp_borders)
        own = states[colour][:, :, 1:-1, 1:-1]
        views = [_neighbour_view(states[1 - colour], where, hh, ww) for where in _NEIGHBOURS[colour]]
        if clamp_borders:
            views.append(own)
        for r0 in range(0, hh, rows):
            r1 = min(hh, r0 + rows)
            n = r1 - r0
            terms = [(wk[..., r0:r1, :], view[..., r0:r1, :]) for wk, view in zip(weights, views, strict=True)]
            bufs = (s[..., :n, :], t[..., :n, :], u[..., :n, :])
            plans.append((terms, k[..., r0:r1, :], p[..., r0:r1, :], q[..., r0:r1, :], own[..., r0:r1, :], bufs))
    for _ in range(iterations):
        for terms, k, p, q, own, (s_, t_, u_) in plans:
            (w0, v0), *rest = terms
            np.multiply(w0, v0, out=s_)
            for wk, vk in rest:
                np.multiply(wk, vk, out=t_)
                s_ += t_
            shape5 = (2, 2, 3, *s_.shape[2:])
            s5, t5, u5 = s_.reshape(shape5), t_.reshape(shape5), u_.reshape(shape5)
            np.multiply(p, s5, out=t5)
            t_ += k
            np.multiply(q, s5[:, ::-1], out=u5)  # [:, ::-1] swaps F and B
            t_ -= u_
            np.clip(t_, 0.0, 1.0, out=own)
    out = np.empty((h, w, 6), np.float32)
    for state, members in zip(states, (_RED, _BLACK), strict=True):
        for m, (p_, q_) in enumerate(members):
            part = out[p_::2, q_::2]
            part[...] = state[m, :, 1 : 1 + part.shape[0], 1 : 1 + part.shape[1]].transpose(1, 2, 0)
    return out


def multilevel_fb(
    image: np.ndarray,
    alpha: np.ndarray,
    small_iterations: int = SMALL_ITERATIONS,
    big_iterations: int = BIG_ITERATIONS,
    small_size: int = SMALL_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colour (HxWx3 float32 in [0, 1]) of ``image`` (HxWx3 float in
    [0, 1]) under ``alpha`` (HxW float in [0, 1]); see the module docstring."""
    image = np.ascontiguousarray(image, np.float32)
    alpha = np.ascontiguousarray(alpha, np.float32)
    h0, w0 = alpha.shape
    fb = np.concatenate([_mean_colour(image, alpha > 0.9), _mean_colour(image, alpha < 0.1)])
    fb = fb.astype(np.float32).reshape(1, 1, 6)
    n_levels = max(1, int(np.ceil(np.log2(max(w0, h0)))))
    for level in range(n_levels + 1):
        w, h = round(w0 ** (level / n_levels)), round(h0 ** (level / n_levels))
        small = w <= small_size and h <= small_size
        if (h, w) == (h0, w0):
            level_image, level_alpha = image, alpha
        else:
            maps = _nearest_maps(h, w, h0, w0)
            level_image, level_alpha = _resize_nearest(image, maps), _resize_nearest(alpha, maps)
        fb = _resize_nearest(fb, _nearest_maps(h, w, *fb.shape[:2]))
        iterations = small_iterations if small else big_iterations
        fb = _solve_level(level_image, level_alpha, fb, iterations, clamp_borders=small)
    return np.ascontiguousarray(fb[..., :3]), np.ascontiguousarray(fb[..., 3:])


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
