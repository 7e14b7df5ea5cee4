"""Keeping a click's effect local: a focus crop around the newest click and progressive merge.

Why: after a few clicks the zoom-in crop spans the whole object, so thin parts (a horse's
legs, a tail) are a few input pixels wide and the network fills the background between them.
FocalClick (Chen et al., CVPR 2022) answers with two ideas, both used here without its extra
refiner network:

- **focus crop**: the same network also runs on a smaller square around the newest click
  (``DEFAULT_FOCUS_FRACTION`` of the zoom box's side, so ~2.5x more input pixels per part)
  and its answer replaces the coarse one there, feathered into it at the square's edges. The
  two passes run side by side, one core each, in the time mirror averaging took.
- **progressive merge** (the editor's "Keep clicks local"): of the change a click makes
  outside its focus square, only the region connected to the click is applied; changes
  elsewhere are refused, so a click on one horse's leg never re-fills the grass an earlier
  click cleared on another.
  The standard NoC protocol rewards global changes, so ``clicks eval`` reports with and
  without it (docs/decisions.md).

Everything here works at the network's input resolution (S x S, cheap) and returns weights
that the engine applies to full-resolution patches only where they matter.
"""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.compose import alpha_to_u8

Box = tuple[int, int, int, int]

DEFAULT_FOCUS_FRACTION = 0.4  # focus side / zoom side; 0 turns the focus crop off
MIN_SIDE_OF_INPUT = 0.5  # focus side >= this x input side in image pixels: no > 2x upsampling
MAX_SIDE_OF_ZOOM = 0.85  # a focus square nearly as large as the zoom box adds nothing
FEATHER = 0.12  # share of the focus side over which it blends into the coarse answer


def focus_box(zoom: Box, x: float, y: float, fraction: float, input_size: int) -> Box | None:
    """Square around (x, y) inside the zoom box, or None when it would not zoom in further."""
    zx0, zy0, zx1, zy1 = zoom
    # the zoom box is square unless the photo clipped it (a whole landscape photo)
    side = round(max(fraction * max(zx1 - zx0, zy1 - zy0), MIN_SIDE_OF_INPUT * input_size))
    if fraction <= 0 or side > MAX_SIDE_OF_ZOOM * min(zx1 - zx0, zy1 - zy0):
        return None
    fx0 = round(min(max(x - side / 2, zx0), zx1 - side))
    fy0 = round(min(max(y - side / 2, zy0), zy1 - side))
    return fx0, fy0, fx0 + side, fy0 + side


def feather_weights(size: int, focus: Box, zoom: Box) -> np.ndarray:
    """(size, size) float32 weights of the focus answer: 1 inside, ramping to 0 at the edges
    that lie inside the zoom box (an edge on the zoom box's border has nothing to blend with)."""
    ramp = max(1.0, FEATHER * size)
    idx = np.arange(size, dtype=np.float32)
    rising, falling = (idx + 0.5) / ramp, (size - idx - 0.5) / ramp
    wy = np.minimum(rising if focus[1] > zoom[1] else 1, falling if focus[3] < zoom[3] else 1)
    wx = np.minimum(rising if focus[0] > zoom[0] else 1, falling if focus[2] < zoom[2] else 1)
    weights = np.minimum(np.broadcast_to(wy, (size,))[:, None], np.broadcast_to(wx, (size,))[None, :])
    return np.clip(weights, 0, 1).astype(np.float32)


def coarse_under(small: np.ndarray, near: Box, size: int) -> np.ndarray:
    """The coarse S x S answer's part under the focus box ``near`` (in its pixels), resized to
    size x size: what the focus answer is blended with."""
    x0, y0, x1, y1 = near
    part = small[max(y0, 0) : max(y1, y0 + 1), max(x0, 0) : max(x1, x0 + 1)]
    return cv2.resize(part, (size, size), interpolation=cv2.INTER_LINEAR)


def paste_small(small: np.ndarray, merged: np.ndarray, near: Box) -> np.ndarray:
    """``small`` (a copy) with the blended focus answer shrunk back into the box ``near``."""
    x0, y0, x1, y1 = near
    out = small.copy()
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = cv2.resize(merged, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return out


def blend(a: np.ndarray, b: np.ndarray, weight_a: np.ndarray) -> np.ndarray:
    """weight_a * a + (1 - weight_a) * b in a's dtype (uint8 or float32), one OpenCV pass."""
    return cv2.blendLinear(a, b, weight_a, 1 - weight_a)


def refused_changes(
    new: np.ndarray, old: np.ndarray, x: float, y: float, radius: float, near: Box | None = None
) -> np.ndarray:
    """Progressive merge at the network's resolution: float32 weights in [0, 1] of the OLD
    mask, 1 where the new answer flips object/background in a region connected neither to
    the click at (x, y) (within ``radius``) nor to the box ``near`` (the focus crop, whose
    answer is local by construction), softened by a pixel so old and new meet without a
    seam. All zeros: every change is the click's own."""
    changed = ((new > 0.5) != (old > 0.5)).astype(np.uint8)
    count, labels = cv2.connectedComponents(changed, connectivity=8)
    if count <= 1:
        return np.zeros(new.shape, np.float32)
    disk = np.zeros(new.shape, np.uint8)
    cv2.circle(disk, (round(x), round(y)), max(2, round(radius)), 1, -1)
    own = [labels[disk > 0]]
    if near is not None:
        own.append(labels[max(near[1], 0) : max(near[3], 0), max(near[0], 0) : max(near[2], 0)].ravel())
    accepted = np.unique(np.concatenate(own))
    refused = (changed.astype(bool) & ~np.isin(labels, accepted[accepted > 0])).astype(np.float32)
    if not refused.any():
        return refused
    return np.maximum(cv2.GaussianBlur(refused, (3, 3), 0), refused)


def shift_box(box, dx: int, dy: int) -> tuple[int, int, int, int]:
    return box[0] - dx, box[1] - dy, box[2] - dx, box[3] - dy


def scale_box(box, sx: float, sy: float) -> tuple[int, int, int, int]:
    return round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy)


def keep_old(new: np.ndarray, old: np.ndarray, refused_small: np.ndarray, tile: int = 32) -> np.ndarray:
    """``new`` (changed in place, and returned) with the old mask restored where progressive
    merge refused the change.

    ``refused_small`` (S x S, weight of the old mask) is upscaled tile by tile, only where a
    tile has a refused pixel: refusals are mostly slivers along a far boundary, so on a 24 MP
    photo this touches a band of pixels instead of the whole zoom box (28 ms per click when
    the whole box was upscaled). Each tile is sampled exactly where a full resize would."""
    h, w = new.shape
    s_h, s_w = refused_small.shape
    fx, fy = s_w / w, s_h / h
    for ty in range(0, s_h, tile):
        for tx in range(0, s_w, tile):
            if not refused_small[ty : ty + tile, tx : tx + tile].any():
                continue
            x0, x1 = int(tx / fx), min(w, int(np.ceil((tx + tile) / fx)))
            y0, y1 = int(ty / fy), min(h, int(np.ceil((ty + tile) / fy)))
            to_small = np.float32([[fx, 0, (x0 + 0.5) * fx - 0.5], [0, fy, (y0 + 0.5) * fy - 0.5]])
            weight = cv2.warpAffine(
                refused_small,
                to_small,
                (x1 - x0, y1 - y0),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
            part = old[y0:y1, x0:x1]
            if new.dtype == np.uint8 and part.dtype != np.uint8:
                part = alpha_to_u8(part)
            elif new.dtype != np.uint8 and part.dtype == np.uint8:
                part = part.astype(np.float32) / 255
            new[y0:y1, x0:x1] = blend(np.ascontiguousarray(part, dtype=new.dtype), new[y0:y1, x0:x1], weight)
    return new
