"""Brush rasterisation and mask operations of the editor."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.history import MaskDocument
from desktop_app.core.mask_edit import (
    Adjustments,
    Brush,
    Stroke,
    adjustment_change,
    apply_adjustments,
    feather,
    fill_holes,
    levels,
    refine_edges,
    subject_bbox,
    to_uint8_mask,
)


def capsule(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], r: float) -> np.ndarray:
    """Pixels whose centre lies within r of segment p0-p1 (brute force reference)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    (ax, ay), (bx, by) = p0, p1
    d = np.array([bx - ax, by - ay])
    ll = d @ d
    t = np.clip(((xs - ax) * d[0] + (ys - ay) * d[1]) / ll, 0, 1) if ll else np.zeros_like(xs)
    return np.hypot(xs - (ax + t * d[0]), ys - (ay + t * d[1])) <= r


def test_hard_stroke_changes_exactly_the_capsule() -> None:
    mask = np.zeros((64, 80), np.uint8)
    stroke = Stroke(mask, Brush(radius=5, hardness=1.0))
    for x in np.linspace(10, 60, 7):  # several segments along one line
        stroke.add_point(x, 30.0 + (x - 10) * 0.2)
    change = stroke.finish()
    expected = capsule(mask.shape, (10, 30), (60, 40), 5)
    np.testing.assert_array_equal(mask == 255, expected)
    assert set(np.unique(mask)) <= {0, 255}
    assert change is not None
    x, y, w, h = change.rect
    ys, xs = np.nonzero(expected)
    assert (x, y, w, h) == (xs.min(), ys.min(), np.ptp(xs) + 1, np.ptp(ys) + 1)


def test_fast_long_jump_has_no_gaps() -> None:
    mask = np.zeros((300, 3000), np.uint8)
    stroke = Stroke(mask, Brush(radius=3, hardness=1.0))
    stroke.add_point(5, 150)
    stroke.add_point(2990, 150)  # one huge pointer jump
    stroke.finish()
    assert (mask[150, 5:2990] == 255).all()
    np.testing.assert_array_equal(mask == 255, capsule(mask.shape, (5, 150), (2990, 150), 3))


def test_eraser_and_soft_brush_do_not_accumulate_within_stroke() -> None:
    mask = np.full((40, 40), 255, np.uint8)
    brush = Brush(radius=10, hardness=0.0, erase=True)
    stroke = Stroke(mask, brush)
    stroke.add_point(20, 20)
    once = mask.copy()
    for _ in range(5):  # scrub back and forth over the same spot
        stroke.add_point(20.0, 20.0)
    np.testing.assert_array_equal(mask, once)
    assert mask[19, 19] < 40 and mask[0, 0] == 255
    assert 0 < mask[20, 27] < 255  # soft falloff


def test_stroke_outside_image_is_clipped() -> None:
    mask = np.zeros((10, 10), np.uint8)
    stroke = Stroke(mask, Brush(radius=3, hardness=1.0))
    assert stroke.add_point(-50, -50) is None
    stroke.add_point(-1, 5)
    assert stroke.finish() is not None
    assert mask[5, 0] == 255


def test_stroke_undo_is_bit_exact() -> None:
    rng = np.random.default_rng(1)
    doc = MaskDocument(rng.integers(0, 256, (50, 50), dtype=np.uint8))
    original = doc.mask.copy()
    stroke = Stroke(doc.mask, Brush(radius=7, hardness=0.3, strength=0.7))
    for p in [(5, 5), (20, 30), (45, 10)]:
        stroke.add_point(*p)
    doc.push("Brush", stroke.finish())
    painted = doc.mask.copy()
    doc.undo()
    np.testing.assert_array_equal(doc.mask, original)
    doc.redo()
    np.testing.assert_array_equal(doc.mask, painted)


def test_levels_neutral_is_identity_and_high_contrast_binarises() -> None:
    m = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(levels(m), m)
    hard = levels(m, 0.5, 1000.0)
    assert set(np.unique(hard)) == {0, 255}
    assert hard.flat[127] == 0 and hard.flat[128] == 255


def test_neutral_adjustments_change_nothing() -> None:
    m = np.random.default_rng(2).integers(0, 256, (20, 20), dtype=np.uint8)
    assert Adjustments().neutral
    np.testing.assert_array_equal(apply_adjustments(m, None, Adjustments()), m)
    assert adjustment_change(m, None, Adjustments()) is None


def test_feather_softens_edges_only() -> None:
    m = np.zeros((60, 60), np.uint8)
    m[:, 30:] = 255
    f = feather(m, 6)
    assert f[30, 0] == 0 and f[30, 59] == 255
    assert 0 < f[30, 29] < 255


def test_refine_keeps_interior_and_background() -> None:
    img = np.zeros((60, 60, 3), np.uint8)
    img[:, 33:] = 200  # the real edge is at x = 33, the mask's at x = 30
    m = np.zeros((60, 60), np.uint8)
    m[:, 30:] = 255
    out = refine_edges(m, img, 6)
    assert (out[:, :20] == 0).all() and (out[:, 45:] == 255).all()
    assert out[30, 31] < 128 < out[30, 34]


def test_fill_holes_fills_enclosed_only() -> None:
    m = np.zeros((30, 30), np.uint8)
    m[5:25, 5:25] = 255
    m[10:15, 10:15] = 0  # enclosed hole
    m[20:25, 0:8] = 0  # notch open to the border region
    out = fill_holes(m)
    assert (out[10:15, 10:15] == 255).all()
    assert (out[0:5, :] == 0).all()


def test_subject_bbox_with_margin() -> None:
    m = np.zeros((40, 50), np.uint8)
    m[10:20, 5:15] = 200
    assert subject_bbox(m) == (5, 10, 10, 10)
    assert subject_bbox(m, margin=10) == (0, 0, 25, 30)
    assert subject_bbox(np.zeros((3, 3), np.uint8)) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_uint8_mask(dtype: type) -> None:
    p = np.array([[0.0, 0.5, 1.0, 2.0]], dtype)
    np.testing.assert_array_equal(to_uint8_mask(p), [[0, 128, 255, 255]])
