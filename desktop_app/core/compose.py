"""Turning photo + alpha into deliverables: cut-outs, new backgrounds, masks, crops.

Cut-outs use STRAIGHT (un-premultiplied) alpha, as PNG and WebP define it. The colour stored
in a soft-edge pixel must be the *subject's* colour: the photo's pixel there is a mix of
subject and old background, and keeping it paints a dark/coloured fringe on any new background
(rembg issue #474). :func:`estimate_foreground` solves for the subject colour with the
multilevel estimator of Germer et al. (2020) in :mod:`.fb_estimation` (numpy and OpenCV: no
numba, whose import cost pymatting 1.5 s per process), at bounded resolution so a 24 MP photo
stays fast. ``method="blur"`` swaps in blur fusion (Forte & Pitié 2021) and ``"pymatting"``
the original numba implementation (not a dependency: install it to compare);
``benchmarks/bench_foreground.py`` compares them.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import fb_estimation

SOFT_LO = 1.0 / 255.0  # below: invisible once quantised
SOFT_HI = 254.0 / 255.0  # above: the photo pixel is the subject's colour


def alpha_to_u8(alpha: np.ndarray) -> np.ndarray:
    """Float values in [0,1] -> uint8, rounded and saturated (cv2: threaded, ~5x numpy)."""
    a = np.asarray(alpha)
    if a.dtype not in (np.float32, np.float64) or a.ndim > 3 or (a.ndim == 3 and a.shape[2] > 4):
        return np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.convertScaleAbs(np.maximum(a, 0.0), alpha=255.0)


DENSE_PIXELS = 4_000_000  # crops up to this size are upsampled in one go (~100 MB of float maps)
DENSE_FRACTION = 0.15  # ... if at least this fraction of them is in the band, else band pixels only


def fb_resolution(longest_side: int, lo: int = 256, hi: int = 768) -> int:
    """Longest side of the F/B estimator's pass for a band box this long: half of it, within [lo, hi].

    The estimator's cost is linear in pixels and its F/B only matter where the full-resolution
    solve below cannot be used (alpha < 0.5); at half resolution the alpha-weighted colour
    differs from a full-resolution run by ~1/255 on SOD photos (against ~4/255 for no
    estimation) at a third of the time.
    """
    return int(min(hi, max(lo, longest_side // 2)))


def estimate_foreground(
    rgb: np.ndarray, alpha: np.ndarray, max_side: int | None = None, strip: int = 256, method: str = "multilevel"
) -> np.ndarray:
    """Subject colour (HxWx3 uint8) for every pixel of the soft band of ``alpha``.

    The F/B estimator (``method``: "multilevel", "blur" fusion or "pymatting", see
    :func:`low_res_fb`) runs on the band's bounding box shrunk to at most ``max_side`` pixels
    (default :func:`fb_resolution`), returning low-res foreground F and background B. Back at
    full resolution, only band pixels change: where alpha is high the compositing equation
    I = aF + (1-a)B is solved for F with the full-res photo I and the (smooth) upsampled B,
    which keeps the subject's fine texture; where alpha is low that solve is ill-conditioned
    and the upsampled F is used. Pixels outside the band keep the photo's colour. The
    full-resolution pass walks strips of ``strip`` rows, gathering band pixels where they are
    sparse and working densely where they are not, so memory stays bounded and a 24 MP photo
    costs well under a second.
    """
    band = (alpha > SOFT_LO) & (alpha < SOFT_HI)
    rows = np.flatnonzero(band.any(axis=1))
    if rows.size == 0:
        return rgb
    cols = np.flatnonzero(band.any(axis=0))
    h, w = alpha.shape
    pad = 8
    y0, y1 = max(0, int(rows[0]) - pad), min(h, int(rows[-1]) + pad + 1)
    x0, x1 = max(0, int(cols[0]) - pad), min(w, int(cols[-1]) + pad + 1)
    crop_rgb = rgb[y0:y1, x0:x1]
    crop_a = alpha[y0:y1, x0:x1]
    crop_band = band[y0:y1, x0:x1]
    ch, cw = crop_a.shape
    if max_side is None:
        max_side = fb_resolution(max(ch, cw))
    scale = min(1.0, max_side / max(ch, cw))
    if scale < 1.0:
        sw, sh = max(2, round(cw * scale)), max(2, round(ch * scale))
        small_rgb = cv2.resize(crop_rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        small_a = cv2.resize(crop_a, (sw, sh), interpolation=cv2.INTER_AREA)
    else:
        sw, sh, small_rgb, small_a = cw, ch, crop_rgb, crop_a
    f_s, b_s = low_res_fb(small_rgb.astype(np.float32) * (1.0 / 255.0), small_a.astype(np.float32), method)
    out = rgb.copy()
    out_crop = out[y0:y1, x0:x1]
    if scale == 1.0:
        cv2.copyTo(alpha_to_u8(f_s), crop_band.view(np.uint8), out_crop)  # in place (a view)
        return out
    n_band = int(np.count_nonzero(crop_band))
    # one resize (same sampling grid as the strips' remap) when the band fills much of the crop;
    # a thin band (the outline of a crisp mask) is gathered and solved pixel by pixel instead
    if ch * cw <= DENSE_PIXELS and n_band > DENSE_FRACTION * ch * cw:
        f_up = cv2.resize(f_s, (cw, ch), interpolation=cv2.INTER_LINEAR)
        b_up = cv2.resize(b_s, (cw, ch), interpolation=cv2.INTER_LINEAR)
        cv2.copyTo(_solve(crop_rgb, crop_a, f_up, b_up), crop_band.view(np.uint8), out_crop)
        return out
    map_x = ((np.arange(cw) + 0.5) * (sw / cw) - 0.5).astype(np.float32)
    dense_ok = cw < 32000  # cv2.remap's map size limit
    for r0 in range(0, ch, strip):
        r1 = min(ch, r0 + strip)
        b = crop_band[r0:r1]
        n = int(np.count_nonzero(b))
        if n == 0:
            continue
        if dense_ok and n > DENSE_FRACTION * b.size:
            my = ((np.arange(r0, r1) + 0.5) * (sh / ch) - 0.5).astype(np.float32)
            gx = np.ascontiguousarray(np.broadcast_to(map_x, (r1 - r0, cw)))
            gy = np.ascontiguousarray(np.broadcast_to(my[:, None], (r1 - r0, cw)))
            f_up = cv2.remap(f_s, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            b_up = cv2.remap(b_s, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            f = _solve(crop_rgb[r0:r1], crop_a[r0:r1, :, None], f_up, b_up)
            cv2.copyTo(f, b.view(np.uint8), out_crop[r0:r1])
        else:
            yy, xx = np.nonzero(b)
            my = ((yy + r0 + 0.5) * (sh / ch) - 0.5).astype(np.float32)
            f_up = _sample(f_s, map_x[xx], my)
            b_up = _sample(b_s, map_x[xx], my)
            a = crop_a[r0:r1][yy, xx][:, None]
            out_crop[r0 + yy, xx] = _solve(crop_rgb[r0:r1][yy, xx], a, f_up, b_up)
    return out


def _solve(i_u8: np.ndarray, a: np.ndarray, f_up: np.ndarray, b_up: np.ndarray) -> np.ndarray:
    """F from I = aF + (1-a)B where a is large enough, blended to the smooth F estimate below.

    ``a`` is HxW (or N) float; ``i_u8``, ``f_up``, ``b_up`` carry 3 channels. In-place float32
    arithmetic: this runs on every soft-band pixel of every photo in a batch.
    """
    a = a.astype(np.float32, copy=False)
    if a.ndim == i_u8.ndim:
        a = a[..., 0]
    a3 = a[..., None]
    solved = i_u8.astype(np.float32)
    solved *= np.float32(1.0 / 255.0)
    solved -= (1.0 - a3) * b_up
    solved /= np.maximum(a3, np.float32(1e-3))
    t = np.clip((a - np.float32(0.15)) * np.float32(1.0 / 0.35), 0.0, 1.0)[..., None]
    solved -= f_up
    solved *= t
    solved += f_up
    return alpha_to_u8(solved)


def low_res_fb(image: np.ndarray, alpha: np.ndarray, method: str = "multilevel") -> tuple[np.ndarray, np.ndarray]:
    """F and B (float32 in [0, 1]) by the chosen estimator.

    "multilevel" (default) is Germer et al.'s estimator on numpy; "pymatting" runs the same
    method through pymatting's numba kernels, kept only for comparison (benchmarks, parity
    tests): it is not a dependency, and importing it costs ~1.5 s per process.
    """
    if method == "multilevel":
        return fb_estimation.multilevel_fb(image, alpha)
    if method == "blur":
        return fb_estimation.blur_fusion_fb(image, alpha)
    if method == "pymatting":
        return _pymatting_fb(image, alpha)
    raise ValueError(f"unknown foreground estimator {method!r} (multilevel, blur or pymatting)")


def _pymatting_fb(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pymatting's multilevel F/B estimate, single-threaded.

    numba's thread pool measured 6x slower than one thread next to onnxruntime and our reader
    and writer threads (the batch engine gets its parallelism from pipelining), and
    ``numba.set_num_threads`` is per calling thread, so this is safe.
    """
    import numba
    from pymatting import estimate_foreground_ml

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        f, b = estimate_foreground_ml(image, alpha, return_background=True)
        return np.ascontiguousarray(f, np.float32), np.ascontiguousarray(b, np.float32)
    finally:
        numba.set_num_threads(previous)


def _sample(image: np.ndarray, mx: np.ndarray, my: np.ndarray, width: int = 4096) -> np.ndarray:
    """Bilinear samples of ``image`` at N points (cv2.remap limits maps to < 32767 rows)."""
    n = mx.shape[0]
    rows = -(-n // width)
    pad = rows * width - n
    gx = np.pad(mx.ravel(), (0, pad)).reshape(rows, width)
    gy = np.pad(my.ravel(), (0, pad)).reshape(rows, width)
    out = cv2.remap(image.astype(np.float32, copy=False), gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * width, -1)[:n]


def cutout_rgba(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA uint8 from a colour image and float alpha.

    Fully transparent pixels get colour 0: the removed background must not survive hidden
    under alpha 0 (anyone can strip the alpha channel), and runs of zeros make the PNG
    several times smaller and faster to encode.
    """
    a8 = alpha_to_u8(alpha)
    visible = cv2.compare(a8, 0, cv2.CMP_GT)
    c = cv2.bitwise_and(colour, colour, mask=visible)
    return cv2.merge([c[:, :, 0], c[:, :, 1], c[:, :, 2], a8])


def composite(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``fg * a + background * (1 - a)`` for uint8 images (cv2.blendLinear: fast, threaded)."""
    a = np.ascontiguousarray(alpha, dtype=np.float32)
    return cv2.blendLinear(np.ascontiguousarray(fg), np.ascontiguousarray(background), a, 1.0 - a)


def solid(shape_hw: tuple[int, int], colour: tuple[int, int, int]) -> np.ndarray:
    """An HxWx3 uint8 image of one colour."""
    out = np.empty((*shape_hw, 3), np.uint8)
    out[:] = np.asarray(colour, np.uint8)
    return out


def cover_fit(image: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to cover ``shape_hw`` and centre-crop (CSS ``object-fit: cover``)."""
    h, w = shape_hw
    ih, iw = image.shape[:2]
    scale = max(h / ih, w / iw)
    nw, nh = max(w, round(iw * scale)), max(h, round(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp) if (nw, nh) != (iw, ih) else image
    top, left = (nh - h) // 2, (nw - w) // 2
    return np.ascontiguousarray(resized[top : top + h, left : left + w])


def blurred_background(rgb: np.ndarray, alpha: np.ndarray | None = None, strength: float = 0.02) -> np.ndarray:
    """A blurred copy of the photo for "portrait mode" backgrounds.

    The subject is removed before blurring (normalised convolution with weight 1 - alpha),
    so it does not leave a smeared halo of itself behind the sharp cut-out. Blurring is done
    on a copy at most 640 px wide since the result has no fine detail anyway.
    ``strength`` is the Gaussian sigma as a fraction of the longer side.
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, 640.0 / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
    sigma = max(1.0, strength * max(sw, sh))
    if alpha is not None:
        weight = 1.0 - cv2.resize(alpha.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
        num = cv2.GaussianBlur(small * weight[:, :, None], (0, 0), sigma)
        den = cv2.GaussianBlur(weight, (0, 0), sigma)[:, :, None]
        plain = cv2.GaussianBlur(small, (0, 0), sigma)
        blurred = np.where(den > 0.05, num / np.maximum(den, 1e-6), plain)
    else:
        blurred = cv2.GaussianBlur(small, (0, 0), sigma)
    blurred = np.clip(blurred + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)


def subject_bbox(alpha: np.ndarray, margin: float = 0.03, threshold: float = 0.05) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of pixels with alpha >= threshold, grown by ``margin`` x the bbox's longer side.

    None when there is no subject. Clamped to the image.
    """
    mask = alpha >= threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    pad = round(margin * max(y1 - y0, x1 - x0))
    h, w = alpha.shape
    return max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)


def crop(image: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
    """View of ``image`` inside ``bbox`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = bbox
    return image[y0:y1, x0:x1]
