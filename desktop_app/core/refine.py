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


def guided_filter(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float = 1e-3, subsample: int = 1
) -> np.ndarray:
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


def refine_alpha(
    rgb: np.ndarray, alpha: np.ndarray, model_size: tuple[int, int] | None = None, eps: float = 1e-3
) -> np.ndarray:
    """Snap ``alpha`` (HxW float in [0,1]) to the edges of ``rgb`` (HxWx3 uint8).

    The radius follows how much the mask was upsampled (a 320 px mask on a 6000 px photo is
    ~19 px blurry, so the window must see that far); work is done on a grid of at most about
    1500 px per side. Returns float32 in [0, 1].
    """
    h, w = alpha.shape[:2]
    if model_size is not None:
        scale = max(h / max(1, model_size[0]), w / max(1, model_size[1]))
    else:
        scale = max(h, w) / 512.0
    radius = max(2, round(2.0 * scale))
    subsample = max(1, int(max(h, w) // 1500) + (1 if max(h, w) > 1500 else 0))
    subsample = min(subsample, max(1, radius // 2))
    out = guided_filter(rgb, alpha, radius=radius, eps=eps, subsample=subsample)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def hard_threshold(alpha: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Binary alpha (for sticker-style cut-outs or masks fed to tools that hate soft edges)."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return (alpha >= threshold).astype(np.float32)
