"""Augmentations for cut-out training, applied jointly to an image and its mask.

Everything geometric happens in one ``cv2.warpAffine`` per array (crop, scale, rotation and
flip folded into a single matrix), so the mask can never drift from the image and the cost
stays tiny next to the network. Randomness comes from a ``numpy.random.Generator`` that the
dataset seeds per (seed, epoch, index), which makes a run reproducible and resumable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class AugmentConfig:
    """Strength of each augmentation; zeros disable it."""

    min_scale: float = 0.35  # smallest crop area as a fraction of the image
    max_aspect: float = 4 / 3  # crop aspect ratio range [1/max_aspect, max_aspect]
    max_rotate_deg: float = 12.0
    flip_prob: float = 0.5
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.3
    hue_deg: float = 8.0
    composite_prob: float = 0.2  # paste the foreground onto another photo
    grey_prob: float = 0.03
    blur_prob: float = 0.1
    object_crop_prob: float = 0.0  # crop around the object instead (click model's zoom-in)


Size = int | tuple[int, int]  # a square side, or (height, width)


def _hw(out: Size) -> tuple[int, int]:
    return (out, out) if isinstance(out, int) else (int(out[0]), int(out[1]))


def random_affine(rng: np.random.Generator, h: int, w: int, out: Size, cfg: AugmentConfig) -> np.ndarray:
    """A 2x3 matrix mapping source pixels to a random resized crop of shape ``out``.

    The crop's aspect is the output's aspect times a random factor in
    [1/``max_aspect``, ``max_aspect``]: a square output gets the classic squashed crop, a
    rectangular one (keep-aspect training) keeps subjects near their true shape.
    """
    out_h, out_w = _hw(out)
    area = h * w * rng.uniform(cfg.min_scale, 1.0)
    log_ratio = math.log(cfg.max_aspect)
    aspect = out_w / out_h * math.exp(rng.uniform(-log_ratio, log_ratio))
    cw = min(w, math.sqrt(area * aspect))
    ch = min(h, math.sqrt(area / aspect))
    cx = rng.uniform(cw / 2, w - cw / 2) if w > cw else w / 2
    cy = rng.uniform(ch / 2, h - ch / 2) if h > ch else h / 2
    return _crop_matrix(rng, cx, cy, cw, ch, out, cfg)


def object_affine(
    rng: np.random.Generator,
    mask: np.ndarray,
    out: int,
    cfg: AugmentConfig,
    expansion: tuple[float, float] = (1.2, 1.8),
) -> np.ndarray | None:
    """A 2x3 matrix for a square crop around the object (mask >= 128), as the app's zoom-in sees it.

    After the first click the click model only ever sees the object's box grown by ~1.4 and
    resized to its input, so training on such crops (side = box side x ``expansion``, centre
    jittered) puts the object at the scale it is evaluated at. None when the mask is empty.
    """
    ys, xs = np.nonzero(mask >= 128)
    if len(ys) == 0:
        return None
    side = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) * rng.uniform(*expansion)
    jitter = 0.1 * side
    cx = (xs.min() + xs.max() + 1) / 2 + rng.uniform(-jitter, jitter)
    cy = (ys.min() + ys.max() + 1) / 2 + rng.uniform(-jitter, jitter)
    h, w = mask.shape[:2]  # keep the crop inside the photo where it fits, as the app's zoom box does
    cx = min(max(cx, side / 2), w - side / 2) if side <= w else w / 2
    cy = min(max(cy, side / 2), h - side / 2) if side <= h else h / 2
    return _crop_matrix(rng, cx, cy, side, side, out, cfg)


def _crop_matrix(
    rng: np.random.Generator, cx: float, cy: float, cw: float, ch: float, out: Size, cfg: AugmentConfig
) -> np.ndarray:
    """Crop (centre, size) -> ``out`` with a random flip and rotation folded in."""
    out_h, out_w = _hw(out)
    angle = rng.uniform(-cfg.max_rotate_deg, cfg.max_rotate_deg)
    sx, sy = out_w / cw, out_h / ch
    flip = -1.0 if rng.random() < cfg.flip_prob else 1.0
    rot = math.radians(angle)
    cos, sin = math.cos(rot), math.sin(rot)
    # M = T(out centre) * Flip * S * R * T(-c), in pixel-index coordinates (centre of a
    # W-pixel row is (W-1)/2), so a flip maps column x to W-1-x exactly.
    a = np.array([[cos, -sin], [sin, cos]]) * np.array([[sx * flip], [sy]])
    t = np.array([(out_w - 1) / 2, (out_h - 1) / 2]) - a @ np.array([cx - 0.5, cy - 0.5])
    return np.hstack([a, t[:, None]]).astype(np.float32)


def warp_pair(image: np.ndarray, mask: np.ndarray, matrix: np.ndarray, out: Size):
    """Apply one affine matrix to image and mask (reflect borders keep statistics natural)."""
    out_h, out_w = _hw(out)
    size = (out_w, out_h)
    img = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    msk = cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return img, msk


def colour_jitter(rng: np.random.Generator, image: np.ndarray, cfg: AugmentConfig) -> np.ndarray:
    """Brightness, contrast, saturation and hue jitter on a uint8 RGB image."""
    img = image.astype(np.float32)
    if cfg.brightness:
        img *= rng.uniform(1 - cfg.brightness, 1 + cfg.brightness)
    if cfg.contrast:
        mean = img.mean()
        img = (img - mean) * rng.uniform(1 - cfg.contrast, 1 + cfg.contrast) + mean
    if cfg.saturation:
        grey = img.mean(axis=2, keepdims=True)
        img = (img - grey) * rng.uniform(1 - cfg.saturation, 1 + cfg.saturation) + grey
    img = np.clip(img, 0, 255).astype(np.uint8)
    if cfg.hue_deg:
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        shift = round(rng.uniform(-cfg.hue_deg, cfg.hue_deg) / 2)  # OpenCV hue is 0..179
        hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + shift) % 180).astype(np.uint8)
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if cfg.grey_prob and rng.random() < cfg.grey_prob:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if cfg.blur_prob and rng.random() < cfg.blur_prob:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    return img


def composite(image: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Paste the masked foreground of ``image`` onto ``background`` (same size)."""
    alpha = mask.astype(np.float32)[..., None] / 255.0
    out = image.astype(np.float32) * alpha + background.astype(np.float32) * (1 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def augment_pair(
    rng: np.random.Generator,
    image: np.ndarray,
    mask: np.ndarray,
    out: Size,
    cfg: AugmentConfig,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full augmentation: geometric crop/rotate/flip, optional composite, colour jitter.

    ``out`` is a square side or an (height, width) pair; the object crop stays square.
    """
    matrix = None
    if cfg.object_crop_prob and rng.random() < cfg.object_crop_prob:
        matrix = object_affine(rng, mask, out, cfg) if isinstance(out, int) else None
    if matrix is None:
        matrix = random_affine(rng, image.shape[0], image.shape[1], out, cfg)
    img, msk = warp_pair(image, mask, matrix, out)
    if background is not None:
        out_h, out_w = _hw(out)
        bg = cv2.resize(background, (out_w, out_h), interpolation=cv2.INTER_AREA)
        img = composite(img, msk, bg)
    return colour_jitter(rng, img, cfg), msk
