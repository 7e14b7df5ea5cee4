"""Mask editing logic for the editor: brush strokes and whole-mask operations (no Qt).

Masks are 2-D uint8 arrays (0 = background, 255 = subject). Keeping the editor on integers
makes undo bit-exact and halves memory compared with float masks.

Brush strokes are rasterised as *continuous* dabs: each mouse-move segment is drawn as the set
of pixels whose centre lies within the brush radius of the segment (a capsule). That is the
limit of stamping infinitely many dabs along the path in image coordinates, so strokes have no
gaps or beads at any zoom level, however fast the pointer moves. Within a stroke coverage is
combined with max(), so going over the same spot twice does not darken soft edges; the mask is
then blended from its pre-stroke state towards 255 (brush) or 0 (eraser).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_app.core.history import Rect, RegionChange, diff_region, union_rect
from desktop_app.core.refine import guided_filter

# A long pointer jump is rasterised in chunks of this many radii, so each chunk's bounding box
# stays small (a diagonal drag across a 24 MP image must not allocate a full-size temp array).
_CHUNK_RADII = 2.0


@dataclass(frozen=True)
class Brush:
    """Brush settings in image pixels. ``hardness`` 1 gives a crisp disc, 0 a cone."""

    radius: float = 20.0
    hardness: float = 0.8
    erase: bool = False
    strength: float = 1.0


def coverage(dist: np.ndarray, radius: float, hardness: float) -> np.ndarray:
    """Brush coverage in [0, 1] at the given distances from the stroke centre line.

    Hardness h keeps the inner h*radius fully covered and ramps to 0 at the radius with a
    smoothstep (no visible ring where the ramp starts). h = 1 gives a binary disc, which the
    tests use to predict exactly which pixels change.
    """
    radius = max(float(radius), 0.5)
    hardness = min(max(float(hardness), 0.0), 1.0)
    if hardness >= 1.0:
        return (dist <= radius).astype(np.float32)
    inner = radius * hardness
    t = np.clip((radius - dist) / (radius - inner), 0.0, 1.0).astype(np.float32)
    return t * t * (3.0 - 2.0 * t)


def segment_distance(xs: np.ndarray, ys: np.ndarray, p0: tuple[float, float], p1: tuple[float, float]) -> np.ndarray:
    """Distance from points (xs, ys) (broadcastable) to the segment p0-p1."""
    (ax, ay), (bx, by) = p0, p1
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 <= 1e-12:
        return np.hypot(xs - ax, ys - ay)
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))


def segment_coverage(
    p0: tuple[float, float], p1: tuple[float, float], brush: Brush, shape: tuple[int, int]
) -> tuple[Rect, np.ndarray] | None:
    """Coverage (uint8 0..255) of one stroke segment inside its clipped bounding box.

    Pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5); with hardness 1 a
    pixel is covered exactly when that centre lies within the radius of the segment.
    """
    h, w = shape
    r = max(float(brush.radius), 0.5)
    x0 = max(math.floor(min(p0[0], p1[0]) - r), 0)
    y0 = max(math.floor(min(p0[1], p1[1]) - r), 0)
    x1 = min(math.ceil(max(p0[0], p1[0]) + r) + 1, w)
    y1 = min(math.ceil(max(p0[1], p1[1]) + r) + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    cov = coverage(segment_distance(xs, ys, p0, p1), r, brush.hardness)
    cov_u8 = np.rint(cov * (255.0 * min(max(brush.strength, 0.0), 1.0))).astype(np.uint8)
    return (x0, y0, x1 - x0, y1 - y0), cov_u8


class Stroke:
    """One brush or eraser stroke on ``mask`` (edited in place), from press to release.

    The pre-stroke mask is kept only for the stroke's lifetime; ``finish`` turns it into a
    RegionChange cropped to the changed pixels, which is what the history stores.
    """

    def __init__(self, mask: np.ndarray, brush: Brush) -> None:
        if mask.dtype != np.uint8 or mask.ndim != 2:
            raise ValueError("mask must be a 2-D uint8 array")
        self.mask = mask
        self.brush = brush
        self.before = mask.copy()
        # np.zeros is lazily mapped, so untouched parts of a 24 MP image cost no memory.
        self.cov = np.zeros(mask.shape, np.uint8)
        self.bbox: Rect | None = None
        self._last: tuple[float, float] | None = None

    def add_point(self, x: float, y: float) -> Rect | None:
        """Extend the stroke to (x, y) in image coordinates; returns the dirty rectangle."""
        p = (float(x), float(y))
        start = self._last if self._last is not None else p
        self._last = p
        dist = math.hypot(p[0] - start[0], p[1] - start[1])
        step = max(self.brush.radius * _CHUNK_RADII, 1.0)
        n = max(1, math.ceil(dist / step))
        dirty: Rect | None = None
        prev = start
        for k in range(1, n + 1):
            t = k / n
            cur = (start[0] + (p[0] - start[0]) * t, start[1] + (p[1] - start[1]) * t)
            dirty = union_rect(dirty, self._paint_segment(prev, cur))
            prev = cur
        return dirty

    def _paint_segment(self, p0: tuple[float, float], p1: tuple[float, float]) -> Rect | None:
        seg = segment_coverage(p0, p1, self.brush, self.mask.shape)  # type: ignore[arg-type]
        if seg is None:
            return None
        rect, cov_new = seg
        x, y, w, h = rect
        sl = (slice(y, y + h), slice(x, x + w))
        cov = np.maximum(self.cov[sl], cov_new)
        self.cov[sl] = cov
        before = self.before[sl].astype(np.uint16)
        if self.brush.erase:  # erasing is painting the inverted mask towards 255
            before = 255 - before
        out = before + ((255 - before) * cov.astype(np.uint16) + 127) // 255
        if self.brush.erase:
            out = 255 - out
        self.mask[sl] = out.astype(np.uint8)
        self.bbox = union_rect(self.bbox, rect)
        return rect

    def finish(self) -> RegionChange | None:
        """End the stroke; returns the change to record (None if nothing changed)."""
        change = None
        if self.bbox is not None:
            x, y, w, h = self.bbox
            sl = (slice(y, y + h), slice(x, x + w))
            change = diff_region(self.before[sl], self.mask[sl], x, y)
        self.before = np.empty((0, 0), np.uint8)
        self.cov = np.empty((0, 0), np.uint8)
        return change


# -- whole-mask operations -----------------------------------------------------------------


@dataclass(frozen=True)
class Adjustments:
    """Soft-mask adjustments, applied in order levels -> edge refinement -> feather.

    Neutral values leave the mask bit-identical, so an untouched panel never alters a mask.
    """

    threshold: float = 0.5  # level mapped to 50 % (moves the soft edge in or out)
    contrast: float = 1.0  # slope around the threshold; large values give a hard mask
    refine_radius: int = 0  # guided-filter radius in pixels, 0 = off
    feather: float = 0.0  # Gaussian feather radius in pixels, 0 = off

    @property
    def neutral(self) -> bool:
        return self == Adjustments()

    def label(self) -> str:
        parts = []
        if (self.threshold, self.contrast) != (0.5, 1.0):
            parts.append(f"threshold {self.threshold:.2f} contrast {self.contrast:.1f}")
        if self.refine_radius:
            parts.append(f"refine {self.refine_radius}px")
        if self.feather:
            parts.append(f"feather {self.feather:g}px")
        return "Adjust " + (", ".join(parts) if parts else "(none)")


def levels(mask: np.ndarray, threshold: float = 0.5, contrast: float = 1.0) -> np.ndarray:
    """Map value v in [0,1] to clip((v - threshold) * contrast + 0.5) via a 256-entry LUT."""
    v = np.arange(256, dtype=np.float64) / 255.0
    lut = np.rint(np.clip((v - threshold) * contrast + 0.5, 0.0, 1.0) * 255.0).astype(np.uint8)
    return cv2.LUT(mask, lut)


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Soften the mask edge with a Gaussian whose 3-sigma reach is ``radius`` pixels."""
    if radius <= 0:
        return mask.copy()
    sigma = max(radius / 3.0, 0.3)
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)


def refine_edges(mask: np.ndarray, image: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """Snap the soft edge to image edges with a guided filter, only within ``radius`` of it.

    Restricting the filter to a band around the edge keeps the solid interior and the clean
    background exactly as they were.
    """
    if radius <= 0:
        return mask.copy()
    src = mask.astype(np.float32) * (1.0 / 255.0)
    # Coefficients on a coarser grid for big photos: same result to the eye, a fraction of the time.
    subsample = max(1, min(int(radius) // 2, max(mask.shape) // 2000))
    filtered = guided_filter(image[..., :3] if image.ndim == 3 else image, src, int(radius), eps, subsample)
    # The band: pixels within ``radius`` of the 50 % contour. Distance transforms cost the same
    # for any radius (a large elliptical erosion would not).
    fg = (mask >= 128).astype(np.uint8)
    to_bg = cv2.distanceTransform(fg, cv2.DIST_L2, 3)
    to_fg = cv2.distanceTransform(1 - fg, cv2.DIST_L2, 3)
    band = np.where(fg > 0, to_bg <= radius, to_fg <= radius)
    out = mask.copy()
    out[band] = np.rint(np.clip(filtered[band], 0.0, 1.0) * 255.0).astype(np.uint8)
    return out


def apply_adjustments(mask: np.ndarray, image: np.ndarray | None, adj: Adjustments) -> np.ndarray:
    """All adjustments in their fixed order; the input is never modified."""
    out = mask
    if (adj.threshold, adj.contrast) != (0.5, 1.0):
        out = levels(out, adj.threshold, adj.contrast)
    if adj.refine_radius > 0 and image is not None:
        out = refine_edges(out, image, adj.refine_radius)
    if adj.feather > 0:
        out = feather(out, adj.feather)
    return out.copy() if out is mask else out


def adjustment_change(source: np.ndarray, image: np.ndarray | None, adj: Adjustments) -> RegionChange | None:
    """The RegionChange turning ``source`` into its adjusted version (safe off the GUI thread)."""
    return diff_region(source, apply_adjustments(source, image, adj))


def invert(mask: np.ndarray) -> np.ndarray:
    return 255 - mask


def fill_holes(mask: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Set to 255 every background region not connected (4-connectivity) to the image border.

    Pixels of a hole become fully opaque; soft pixels at the hole's rim keep their value.
    """
    h, w = mask.shape
    bg = np.zeros((h + 2, w + 2), np.uint8)
    bg[1:-1, 1:-1] = mask < threshold
    bg[0, :] = bg[-1, :] = 1
    bg[:, 0] = bg[:, -1] = 1
    cv2.floodFill(bg, None, (0, 0), 2, flags=4)
    holes = bg[1:-1, 1:-1] == 1
    out = mask.copy()
    out[holes] = 255
    return out


def subject_bbox(mask: np.ndarray, threshold: int = 8, margin: int = 0) -> Rect | None:
    """Bounding box of pixels at or above ``threshold``, grown by ``margin`` and clipped."""
    rows = np.flatnonzero((mask >= threshold).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((mask[rows[0] : rows[-1] + 1] >= threshold).any(axis=0))
    h, w = mask.shape
    x0, y0 = max(int(cols[0]) - margin, 0), max(int(rows[0]) - margin, 0)
    x1, y1 = min(int(cols[-1]) + 1 + margin, w), min(int(rows[-1]) + 1 + margin, h)
    return (x0, y0, x1 - x0, y1 - y0)


def to_uint8_mask(prob: np.ndarray) -> np.ndarray:
    """Model output (float in [0, 1], or already uint8) to the editor's uint8 mask."""
    if prob.dtype == np.uint8:
        return np.ascontiguousarray(prob)
    return np.rint(np.clip(prob, 0.0, 1.0) * 255.0).astype(np.uint8)
