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

import threading

import cv2
import numpy as np

REGULARIZATION = 1e-5
GRADIENT_WEIGHT = 1.0
SMALL_SIZE = 32  # levels up to this size are iterated more: they are cheap and set the colours
SMALL_ITERATIONS = 10
BIG_ITERATIONS = 2
THIN_SIZE = 8  # levels this narrow clamp their borders exactly like pymatting
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
    """pymatting's initial colour: sum / (count + 1e-5) over ``where`` (cv2: ~10x numpy's gather)."""
    mask = where.view(np.uint8)
    count = cv2.countNonZero(mask)
    if not count:
        return np.zeros(image.shape[2], np.float32)
    return np.asarray(cv2.mean(image, mask=mask)[: image.shape[2]], np.float32) * (count / (count + 1e-5))


def _nearest_maps(h: int, w: int, h_src: int, w_src: int) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps for pymatting's nearest-neighbour sampling (x * src // dst), exactly:
    cv2.resize's own nearest mode rounds differently for some sizes."""
    xs = np.minimum(w_src - 1, (np.arange(w) * w_src) // w).astype(np.float32)
    ys = np.minimum(h_src - 1, (np.arange(h) * h_src) // h).astype(np.float32)
    return np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(ys[:, None], (h, w)).copy()


def _resize_nearest(x: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(h_src, w_src[, C]) -> (h, w[, C]) into scratch memory."""
    out = _arena.take(maps[0].shape + x.shape[2:])
    cv2.remap(x, maps[0], maps[1], cv2.INTER_NEAREST, dst=out)
    return out


class _Arena(threading.local):
    """Per-thread scratch memory for one estimate, reused by the next one.

    An estimate needs ~1.3x its finest level in fresh arrays (a few MB at the usual 256 px);
    allocated anew each time, that memory comes straight from the OS and every page faults on
    first touch, which measured a third of the whole run. Arrays are carved out of one buffer
    instead (a bump allocator reset per estimate); the buffer is kept between estimates unless
    it grew past ``KEEP_BYTES``.
    """

    KEEP_BYTES = 32 << 20

    def __init__(self) -> None:
        self.buffer = np.empty(0, np.float32)
        self.used = 0
        self.wanted = 0

    def reset(self) -> None:
        self.used = self.wanted = 0

    def take(self, shape: tuple[int, ...], zero: bool = False) -> np.ndarray:
        n = int(np.prod(shape))
        self.wanted += n
        if self.used + n <= self.buffer.size:
            out = self.buffer[self.used : self.used + n].reshape(shape)
            self.used += n
            if zero:
                out.fill(0.0)
            return out
        return np.zeros(shape, np.float32) if zero else np.empty(shape, np.float32)

    def settle(self) -> None:
        """After an estimate: size the buffer for the next one like it (or let it go)."""
        if self.wanted * 4 > self.KEEP_BYTES:
            self.buffer = np.empty(0, np.float32)
        elif self.wanted > self.buffer.size:
            self.buffer = np.empty(self.wanted, np.float32)


_arena = _Arena()


def _colour_stacks(x: np.ndarray, hh: int, ww: int, border: int, planar: bool) -> list[np.ndarray]:
    """(C, h, w) if ``planar`` else (h, w, C) -> [red, black], each (2, C, hh + 2*border,
    ww + 2*border), zero outside the image."""
    x = x if planar else x.transpose(2, 0, 1)
    stacks = []
    for members in (_RED, _BLACK):
        stack = _arena.take((2, x.shape[0], hh + 2 * border, ww + 2 * border))
        small = stack.size < 65536  # one fill beats four border fills
        if small:
            stack.fill(0.0)
        for m, (p, q) in enumerate(members):
            part = x[:, p::2, q::2]
            rows, cols = part.shape[1:]
            stack[m, :, border : border + rows, border : border + cols] = part
            if not small:  # the zero border, and the row/column an odd size leaves empty
                stack[m, :, :border] = 0.0
                stack[m, :, border + rows :] = 0.0
                stack[m, :, :, :border] = 0.0
                stack[m, :, :, border + cols :] = 0.0
        stacks.append(stack)
    return stacks


def _neighbour_view(stack: np.ndarray, where: tuple[tuple[int, int, int], ...], hh: int, ww: int) -> np.ndarray:
    """A (2, C, hh, ww) read-only view of a padded (2, C, hh+2, ww+2) stack whose member m is
    that stack's member where[m][0] shifted by where[m][1:] (both in one strided view, so one
    operation updates both phases of a colour)."""
    (m0, r0, c0), (m1, r1, c1) = where
    s0, s1, s2, s3 = stack.strides
    step = (m1 - m0) * s0 + (r1 - r0) * s2 + (c1 - c0) * s3
    offset = m0 * s0 + r0 * s2 + c0 * s3
    # np.ndarray over the stack's buffer (bounds-checked by numpy; 5x cheaper than as_strided)
    view = np.ndarray((2, stack.shape[1], hh, ww), stack.dtype, stack, offset, (step, s1, s2, s3))
    view.flags.writeable = False
    return view


_K, _P, _Q, _W = slice(0, 6), slice(6, 8), 8, 9  # rows of a level's constant table


def _level_table(image: np.ndarray, alpha: np.ndarray, clamp_borders: bool) -> np.ndarray:
    """Per-pixel constants of a level, planar (9 + terms, h, w): K (6), P (2), Q, then the
    weights of the left, right, up and down neighbours [and of the pixel itself]."""
    h, w = alpha.shape
    reg = np.float32(REGULARIZATION)
    table = _arena.take((_W + (5 if clamp_borders else 4), h, w))
    weights = table[_W:]
    weights[0, :, 0] = weights[1, :, -1] = weights[2, 0] = weights[3, -1] = 0.0  # outside the image
    dx = np.abs(alpha[:, 1:] - alpha[:, :-1])
    dx *= np.float32(GRADIENT_WEIGHT)
    dx += reg
    dy = np.abs(alpha[1:] - alpha[:-1])
    dy *= np.float32(GRADIENT_WEIGHT)
    dy += reg
    weights[0, :, 1:] = dx  # neighbours outside the image keep weight 0
    weights[1, :, :-1] = dx
    weights[2, 1:] = dy
    weights[3, :-1] = dy
    if clamp_borders:  # each missing neighbour: the pixel itself, with weight REGULARIZATION
        weights[4] = (weights[:4] == 0).sum(axis=0, dtype=np.float32) * reg
    total = weights.sum(axis=0)
    a1 = 1.0 - alpha
    a00 = alpha * alpha + total
    a11 = a1 * a1 + total
    a01 = alpha * a1
    inv_det = 1.0 / (a00 * a11 - a01 * a01)
    planar = image.transpose(2, 0, 1)
    np.multiply((a11 * alpha - a01 * a1) * inv_det, planar, out=table[0:3])
    np.multiply((a00 * a1 - a01 * alpha) * inv_det, planar, out=table[3:6])
    np.multiply(a11, inv_det, out=table[6])
    np.multiply(a00, inv_det, out=table[7])
    np.multiply(a01, inv_det, out=table[_Q])
    return table


def _solve_level(
    image: np.ndarray, alpha: np.ndarray, fb: np.ndarray, iterations: int, clamp_borders: bool, last: bool = False
) -> list[np.ndarray]:
    """``iterations`` red-black Gauss-Seidel sweeps of one level; returns the new [(h, w, 6) F|B]
    in scratch memory, or for the ``last`` level [F, B] as new (h, w, 3) arrays.

    ``image`` is (h, w, 3), ``alpha`` (h, w), ``fb`` (h, w, 6): F's channels then B's.
    Each pixel's update, the closed-form solution of its 2x2 system, is
    ``[F; B] = K + P * S - Q * swap(S)`` with ``S`` the neighbour-weighted sum of [F; B] and
    K, P, Q per-pixel constants of the level, so a half-sweep is a dozen whole-array
    operations on half the pixels (one colour: both of its phases at once).
    A neighbour outside the image has weight 0 (its view reads the zero border); pymatting
    clamps it to the pixel itself with weight ``REGULARIZATION``, which ``clamp_borders``
    reproduces on thin levels (the 1x1 level, where a pixel has no neighbour at all, and any
    level a few pixels across, where most pixels are border pixels and the extra weight damps
    flat regions). On other levels it changes no colour by a 1/255 step on SOD photos and
    would cost two more operations per half-sweep.
    Padding pixels (odd sizes) have all-zero constants: they stay 0 and weigh 0.
    """
    h, w = alpha.shape
    hh, ww = (h + 1) // 2, (w + 1) // 2
    states = _colour_stacks(fb, hh, ww, 1, planar=False)
    tables = _colour_stacks(_level_table(image, alpha, clamp_borders), hh, ww, 0, planar=True)
    s5, t5, u5 = (_arena.take((2, 2, 3, hh, ww)) for _ in range(3))  # (member, F|B, channel, i, j)
    s, t, u = (x.reshape(2, 6, hh, ww) for x in (s5, t5, u5))
    plans = []
    for colour, table in enumerate(tables):
        own = states[colour][:, :, 1:-1, 1:-1]
        views = [_neighbour_view(states[1 - colour], where, hh, ww) for where in _NEIGHBOURS[colour]]
        if clamp_borders:
            views.append(own)
        terms = [(table[:, _W + i, None], view) for i, view in enumerate(views)]
        plans.append((terms[0], terms[1:], table[:, _K], table[:, _P, None], table[:, _Q, None, None], own))
    swapped = s5[:, ::-1]  # s with F and B exchanged
    for _ in range(iterations):
        for (w0, v0), rest, k, p, q, own in plans:
            np.multiply(w0, v0, out=s)
            for wk, vk in rest:
                np.multiply(wk, vk, out=t)
                s += t
            np.multiply(p, s5, out=t5)
            t += k
            np.multiply(q, swapped, out=u5)
            t -= u
            np.clip(t, 0.0, 1.0, out=own)
    outs = [np.empty((h, w, 3), np.float32), np.empty((h, w, 3), np.float32)] if last else [_arena.take((h, w, 6))]
    for state, members in zip(states, (_RED, _BLACK), strict=True):
        for m, (p_, q_) in enumerate(members):
            planes = state[m, :, 1:-1, 1:-1].transpose(1, 2, 0)  # (hh, ww, 6)
            for i, out in enumerate(outs):
                part = out[p_::2, q_::2]
                part[...] = planes[: part.shape[0], : part.shape[1], 3 * i : 3 * i + out.shape[2]]
    return outs


TINY_PIXELS = 256  # levels up to this many pixels run as small dense matrix products


def _solve_tiny_level(
    image: np.ndarray, alpha: np.ndarray, fb: np.ndarray, iterations: int, clamp_borders: bool
) -> np.ndarray:
    """:func:`_solve_level` for the coarsest levels (up to TINY_PIXELS), same sweeps and result.

    These levels get 10 sweeps each and their arrays are tiny, so the cost is the number of
    numpy calls (each holds the GIL, which the batch's decoding and inference threads need).
    Here the neighbour sums of one colour are one matrix product with a (pixels of that
    colour x all pixels) weight matrix, halving the calls per half-sweep.
    """
    h, w = alpha.shape
    n = h * w
    flat = _level_table(image, alpha, clamp_borders).reshape(-1, n)
    idx = np.arange(n)
    yy, xx = np.divmod(idx, w)
    order = np.concatenate([idx[(yy + xx) % 2 == 0], idx[(yy + xx) % 2 == 1]])  # red, then black
    weights = np.zeros((n, n), np.float32)  # [pixel, neighbour] in pixel order
    for k, step in enumerate((-1, 1, -w, w)):  # left, right, up, down; outside: weight 0
        weights[idx, np.clip(idx + step, 0, n - 1)] += flat[_W + k]
    if clamp_borders:
        weights[idx, idx] += flat[_W + 4]
    weights = weights[order][:, order]
    state = np.ascontiguousarray(fb.reshape(n, 6)[order])
    n_red = (n + 1) // 2
    plans = []
    for rows in (slice(0, n_red), slice(n_red, n)):
        pixels = order[rows]
        m = len(pixels)
        k = flat[_K][:, pixels].T.reshape(m, 2, 3)
        p = flat[_P][:, pixels].T.reshape(m, 2, 1)
        q = flat[_Q][pixels].reshape(m, 1, 1)
        s = np.empty((m, 6), np.float32)
        t, u = np.empty((m, 2, 3), np.float32), np.empty((m, 2, 3), np.float32)
        plans.append((np.ascontiguousarray(weights[rows]), k, p, q, state[rows].reshape(m, 2, 3), s, t, u))
    for _ in range(iterations):
        for a, k, p, q, own, s, t, u in plans:
            np.matmul(a, state, out=s)
            s3 = s.reshape(-1, 2, 3)
            np.multiply(p, s3, out=t)
            t += k
            np.multiply(q, s3[:, ::-1], out=u)  # [:, ::-1] swaps F and B
            t -= u
            np.clip(t, 0.0, 1.0, out=own)
    out = np.empty((n, 6), np.float32)
    out[order] = state
    return out.reshape(h, w, 6)


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
    _arena.reset()
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
        last = level == n_levels
        thin = min(h, w) <= THIN_SIZE  # mostly border pixels: clamp them as pymatting does
        if h * w <= TINY_PIXELS and not last:
            fb = _solve_tiny_level(level_image, level_alpha, fb, iterations, clamp_borders=thin)
            continue
        outs = _solve_level(level_image, level_alpha, fb, iterations, clamp_borders=thin, last=last)
        fb = outs[0]
    _arena.settle()
    return outs[0], outs[1]


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
