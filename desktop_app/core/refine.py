"""Edge refinement of a low-resolution mask using the full-resolution photo as a guide.

A 320x320 or 1024x1024 prediction stretched to 24 MP is blurry at the silhouette. The guided
filter (He, Sun, Tang 2013) fits, in every window, the mask as a linear function of the photo's
brightness, so mask edges snap to photo edges while flat regions stay as predicted. The "fast"
variant (He & Sun 2015) computes the linear coefficients on a subsampled grid and only the final
``a * I + b`` at full size, which keeps a 24 MP refinement well under a second.
OpenCV's ``ximgproc.guidedFilter`` is not in the headless wheel, so this uses ``cv2.boxFilter``.
"""

from __future__ import annotations

import cv2
import numpy as np


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Float32 luma in [0, 1] from RGB uint8 (or pass through a float grey image)."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32, copy=False) if rgb.dtype != np.uint8 else rgb.astype(np.float32) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float = 1e-3, subsample: int = 1) -> np.ndarray:
    """Fast guided filter of ``src`` (HxW float) guided by ``guide`` (HxWx3 uint8 or HxW float).

    ``radius`` is in full-resolution pixels; ``subsample`` > 1 computes the coefficients on a
    grid that much coarser. Returns float32 HxW (not clipped).
    """
    h, w = src.shape[:2]
    grey = to_grey(guide)
    p = src.astype(np.float32, copy=False)
    s = max(1, int(subsample))
    if s > 1:
        small = (max(1, w // s), max(1, h // s))
        grey_s = cv2.resize(grey, small, interpolation=cv2.INTER_AREA)
        p_s = cv2.resize(p, small, interpolation=cv2.INTER_AREA)
    else:
        grey_s, p_s = grey, p
    r = max(1, round(radius / s))
    mean_i = _box(grey_s, r)
    mean_p = _box(p_s, r)
    cov_ip = _box(grey_s * p_s, r) - mean_i * mean_p
    var_i = _box(grey_s * grey_s, r) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    mean_a = _box(a, r)
    mean_b = _box(b, r)
    if s > 1:
        mean_a = cv2.resize(mean_a, (w, h), interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, (w, h), interpolation=cv2.INTER_LINEAR)
    return mean_a * grey + mean_b


def guided_upsample(guide: np.ndarray, low_mask: np.ndarray, radius: int = 2, eps: float = 3e-4) -> np.ndarray:
    """Upsample a model-resolution mask to the guide's size, with edges taken from the guide.

    The linear coefficients are fitted at the *mask's* resolution against the photo shrunk
    to that same size, where photo and mask are blurred alike and a step edge in the photo
    maps exactly onto the mask's ramp; applied to the full-resolution photo they give a
    sharp edge where the photo has one. Where the photo has no contrast (variance << eps)
    the result falls back to the plainly upsampled mask. ``radius`` is in mask pixels.
    On a synthetic disc this cuts the error of bilinear upsampling by ~10x.
    """
    h, w = guide.shape[:2]
    lh, lw = low_mask.shape[:2]
    grey = to_grey(guide)
    grey_low = cv2.resize(grey, (lw, lh), interpolation=cv2.INTER_AREA)
    p = low_mask.astype(np.float32, copy=False)
    mean_i = _box(grey_low, radius)
    mean_p = _box(p, radius)
    cov_ip = _box(grey_low * p, radius) - mean_i * mean_p
    var_i = _box(grey_low * grey_low, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    big_a = cv2.resize(_box(a, radius), (w, h), interpolation=cv2.INTER_LINEAR)
    big_b = cv2.resize(_box(b, radius), (w, h), interpolation=cv2.INTER_LINEAR)
    out = big_a * grey
    out += big_b
    np.clip(out, 0.0, 1.0, out=out)
    return out


def refine_alpha(
    rgb: np.ndarray, alpha: np.ndarray, model_size: tuple[int, int] | None = None, eps: float = 3e-4
) -> np.ndarray:
    """Snap ``alpha`` (HxW float in [0,1], full resolution) to the edges of ``rgb``.

    With ``model_size`` (the resolution the mask was predicted at) the mask is brought back
    to that size and re-upsampled with :func:`guided_upsample`, the right tool for a mask
    that is blurry because it was enlarged. Without it, a full-resolution guided filter with
    a radius of ~1/500 of the image is used (for masks of unknown origin).
    Returns float32 in [0, 1].
    """
    h, w = alpha.shape[:2]
    if model_size is not None and (model_size[0] < h or model_size[1] < w):
        low = cv2.resize(alpha.astype(np.float32), (model_size[1], model_size[0]), interpolation=cv2.INTER_AREA)
        return guided_upsample(rgb, low, eps=eps)
    radius = max(2, round(max(h, w) / 500))
    out = guided_filter(rgb, alpha, radius=radius, eps=eps, subsample=max(1, radius // 4))
    np.clip(out, 0.0, 1.0, out=out)
    return out


def hard_threshold(alpha: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Binary alpha (for sticker-style cut-outs or masks fed to tools that hate soft edges)."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return (alpha >= threshold).astype(np.float32)
