"""Undo history: region diffs, bit-exact undo/redo, byte budget, adjustment sessions."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop_app.core.history import (
    HistoryEntry,
    InvertChange,
    MaskDocument,
    UndoHistory,
    changed_bbox,
    diff_region,
    union_rect,
)


def test_changed_bbox_is_tight() -> None:
    a = np.zeros((50, 60), np.uint8)
    b = a.copy()
    b[10, 20] = 1
    b[30, 5] = 7
    assert changed_bbox(a, b) == (5, 10, 16, 21)
    assert changed_bbox(a, a) is None


def _reference_bbox(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(a != b)
    if ys.size == 0:
        return None
    return (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 600),
    st.integers(1, 600),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.floats(0, 1, exclude_max=True)), max_size=4),
    st.sampled_from(["plain", "view", "mirrored", "strided"]),
)
def test_changed_bbox_of_masks_matches_a_full_comparison(
    h: int, w: int, points: list[tuple[float, float]], layout: str
) -> None:
    """uint8 masks are compared in bands from the edges inwards; the box must still be exact,
    whether the change touches an edge, sits in the middle, is absent, or the arrays are views
    (a zoom box inside the document's mask)."""
    rng = np.random.default_rng(h * 1000 + w)
    a = rng.integers(0, 3, (h + 4, w + 4), dtype=np.uint8)
    b = a.copy()
    for fx, fy in points:
        b[2 + int(fy * h), 2 + int(fx * w)] += 1
    view = {
        "plain": lambda m: np.ascontiguousarray(m[2:-2, 2:-2]),
        "view": lambda m: m[2:-2, 2:-2],
        "mirrored": lambda m: m[2:-2, -3:1:-1],
        "strided": lambda m: m[::2, ::3],
    }[layout]
    assert changed_bbox(view(a), view(b)) == _reference_bbox(view(a), view(b))


def test_diff_region_stores_only_changed_crop() -> None:
    a = np.zeros((1000, 1000), np.uint8)
    b = a.copy()
    b[100:110, 200:205] = 255
    change = diff_region(a, b, x=3, y=4)
    assert change is not None
    assert change.rect == (203, 104, 5, 10)
    assert change.nbytes == 2 * 50


def test_union_rect() -> None:
    assert union_rect(None, (1, 2, 3, 4)) == (1, 2, 3, 4)
    assert union_rect((0, 0, 2, 2), (5, 5, 1, 1)) == (0, 0, 6, 6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 31), st.integers(0, 31), st.integers(1, 8), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_undo_redo_bit_exact(edits: list[tuple[int, int, int, int]]) -> None:
    rng = np.random.default_rng(0)
    doc = MaskDocument(rng.integers(0, 256, (32, 32), dtype=np.uint8))
    states = [doc.mask.copy()]
    for x, y, size, value in edits:
        new = doc.mask.copy()
        new[y : y + size, x : x + size] = value
        doc.replace("edit", new)
        states.append(doc.mask.copy())
    # states that did not change the mask produce no entry; compare distinct consecutive states
    distinct = [states[0]] + [s for p, s in itertools.pairwise(states) if not np.array_equal(p, s)]
    assert len(doc.history) == len(distinct) - 1
    for expected in reversed(distinct[:-1]):
        doc.undo()
        np.testing.assert_array_equal(doc.mask, expected)
    for expected in distinct[1:]:
        doc.redo()
        np.testing.assert_array_equal(doc.mask, expected)


def test_invert_change_stores_nothing_and_round_trips() -> None:
    m = np.arange(256, dtype=np.uint8).reshape(16, 16)
    doc = MaskDocument(m)
    doc.invert()
    assert doc.history.total_bytes == 0
    np.testing.assert_array_equal(doc.mask, 255 - m)
    doc.undo()
    np.testing.assert_array_equal(doc.mask, m)
    doc.redo()
    np.testing.assert_array_equal(doc.mask, 255 - m)


def test_byte_budget_drops_oldest_but_keeps_newest() -> None:
    hist = UndoHistory(max_bytes=1000)
    target = np.zeros((100, 100), np.uint8)
    for i in range(5):
        after = np.full((10, 20), i + 1, np.uint8)  # 400 bytes per entry (before + after)
        change = diff_region(target[:10, :20].copy(), after)
        hist.push(HistoryEntry(f"e{i}", (change,)))
    assert len(hist) == 2
    assert hist.total_bytes <= 1000
    big = diff_region(np.zeros((40, 40), np.uint8), np.ones((40, 40), np.uint8))
    hist.push(HistoryEntry("big", (big,)))
    assert len(hist) == 1 and hist.undo_label == "big"


def test_new_edit_clears_redo() -> None:
    doc = MaskDocument(np.zeros((8, 8), np.uint8))
    doc.invert()
    doc.undo()
    assert doc.history.can_redo
    doc.invert()
    assert not doc.history.can_redo


def test_adjust_session_amends_one_entry_and_closes_on_edit() -> None:
    doc = MaskDocument(np.full((10, 10), 100, np.uint8))
    closed: list[bool] = []
    doc.on_session_closed = lambda: closed.append(True)
    serial, src = doc.adjust_source()
    for value in (120, 140, 90):
        change = diff_region(src, np.full_like(src, value))
        ok, dirty = doc.apply_adjusted(serial, change, f"adj {value}")
        assert ok and dirty == (0, 0, 10, 10)
    assert len(doc.history) == 1 and doc.history.undo_label == "adj 90"
    assert (doc.mask == 90).all()
    doc.invert()
    assert closed == [True]
    # a late result from the closed session is refused
    ok, _ = doc.apply_adjusted(serial, diff_region(src, np.zeros_like(src)), "late")
    assert not ok
    doc.undo()
    doc.undo()
    assert (doc.mask == 100).all()


def test_adjust_back_to_identity_removes_entry() -> None:
    doc = MaskDocument(np.full((4, 4), 7, np.uint8))
    serial, src = doc.adjust_source()
    doc.apply_adjusted(serial, diff_region(src, src + 1), "up")
    ok, _ = doc.apply_adjusted(serial, None, "none")
    assert ok and len(doc.history) == 0 and (doc.mask == 7).all()


def test_reset_to_model_mask_is_undoable() -> None:
    model = np.zeros((6, 6), np.uint8)
    doc = MaskDocument(model)
    doc.push("x", InvertChange((6, 6)), already_applied=False)
    doc.reset()
    np.testing.assert_array_equal(doc.mask, model)
    doc.undo()
    assert (doc.mask == 255).all()


def test_paste_stores_only_the_changed_pixels_of_the_patch() -> None:
    """A click result is a patch at an offset: pixels outside it keep the document's values,
    only the changed part is stored, pasting the same patch again is no step, undo is exact."""
    doc = MaskDocument(np.zeros((40, 60), np.uint8))
    doc.mask[0:3, 0:3] = 7  # outside the patch: must survive
    before = doc.mask.copy()
    patch = np.zeros((20, 30), np.uint8)
    patch[5:15, 5:20] = 255  # image rows 10..19, columns 30..44
    rect = doc.paste("click", patch, 25, 5)
    assert rect == (30, 10, 15, 10)
    assert (doc.mask[10:20, 30:45] == 255).all() and (doc.mask[0:3, 0:3] == 7).all()
    assert doc.mask.sum() == before.sum() + 255 * 150
    assert doc.paste("same again", patch, 25, 5) is None
    doc.undo()
    np.testing.assert_array_equal(doc.mask, before)
