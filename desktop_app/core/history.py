"""Undo history for the mask editor, plus the editable mask document that uses it.

Why region diffs: a 24 MP mask is 24 MB, so snapshotting it per brush stroke would exhaust
memory after a few dozen strokes. Each history entry instead keeps only the bounding box of the
pixels that changed, before and after, so undo/redo are bit-exact and cost what the edit
touched. An optional byte budget drops the oldest entries first.

Everything here is plain numpy (no Qt) so the same logic is unit-testable and reusable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

Rect = tuple[int, int, int, int]  # x, y, width, height in image pixels

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def union_rect(a: Rect | None, b: Rect | None) -> Rect | None:
    """Smallest rectangle holding both (None is the empty rectangle)."""
    if a is None:
        return b
    if b is None:
        return a
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True)
class RegionChange:
    """The changed rectangle of a 2-D array: its pixels before and after the edit."""

    x: int
    y: int
    before: np.ndarray
    after: np.ndarray

    @property
    def rect(self) -> Rect:
        h, w = self.before.shape[:2]
        return (self.x, self.y, w, h)

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)

    def _view(self, target: np.ndarray) -> np.ndarray:
        h, w = self.before.shape[:2]
        return target[self.y : self.y + h, self.x : self.x + w]

    def undo(self, target: np.ndarray) -> Rect:
        self._view(target)[...] = self.before
        return self.rect

    def redo(self, target: np.ndarray) -> Rect:
        self._view(target)[...] = self.after
        return self.rect


@dataclass(frozen=True)
class InvertChange:
    """Inversion of a uint8 mask: its own inverse, so it stores no pixels at all."""

    shape: tuple[int, int]

    @property
    def rect(self) -> Rect:
        return (0, 0, self.shape[1], self.shape[0])

    @property
    def nbytes(self) -> int:
        return 0

    def undo(self, target: np.ndarray) -> Rect:
        np.subtract(255, target, out=target)
        return self.rect

    redo = undo


Change = RegionChange | InvertChange


def changed_bbox(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """Tight bounding box of the pixels that differ, or None when the arrays are equal.

    2-D uint8 arrays (every mask diff of the editor) are compared in bands from each edge
    inwards, stopping at the first band that differs: a click's 19 MP zoom box whose change
    reaches the box's edges costs a few bands instead of a whole comparison (5.8 -> 0.3 ms),
    and a change in the middle costs at most the one full pass the plain comparison makes.
    """
    if before.ndim == 2 and before.dtype == np.uint8 and after.dtype == np.uint8 and before.size:
        return _changed_bbox_u8(before, after)
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


Band = tuple[tuple[int, int], tuple[int, int]]  # (row start, stop), (column start, stop)


def _bands(lo: int, hi: int, from_end: bool) -> Iterator[tuple[int, int]]:
    """(start, stop) bands covering range(lo, hi) from one end, 16 wide then doubling up to
    256: thin first (a change at the edge is found after reading little), then wide enough
    that the per-band overhead stays small on a long scan."""
    size = 16
    while lo < hi:
        k = min(size, hi - lo)
        if from_end:
            yield hi - k, hi
            hi -= k
        else:
            yield lo, lo + k
            lo += k
        size = min(2 * size, 256)


def _first_box(before: np.ndarray, after: np.ndarray, bands: Iterable[Band]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the differing pixels in the first band that has any, or None."""
    for (r0, r1), (c0, c1) in bands:
        d = cv2.compare(before[r0:r1, c0:c1], after[r0:r1, c0:c1], cv2.CMP_NE)  # SIMD, 0/255
        x, y, w, h = cv2.boundingRect(d)
        if w:
            return c0 + x, r0 + y, c0 + x + w, r0 + y + h
    return None


def _changed_bbox_u8(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """changed_bbox for 2-D uint8: first and last differing rows, then columns in between."""
    h, w = before.shape
    top = _first_box(before, after, ((r, (0, w)) for r in _bands(0, h, False)))
    if top is None:
        return None
    bottom = _first_box(before, after, ((r, (0, w)) for r in _bands(top[1], h, True)))
    assert bottom is not None  # the top row differs at least
    rows = (top[1], bottom[3])
    x0, x1 = min(top[0], bottom[0]), max(top[2], bottom[2])  # columns known to differ
    left = _first_box(before, after, ((rows, c) for c in _bands(0, x0, False)))
    right = _first_box(before, after, ((rows, c) for c in _bands(x1, w, True)))
    x0, x1 = x0 if left is None else left[0], x1 if right is None else right[2]
    return (x0, rows[0], x1 - x0, rows[1] - rows[0])


def diff_region(before: np.ndarray, after: np.ndarray, x: int = 0, y: int = 0) -> RegionChange | None:
    """Region change between two same-shaped crops whose top-left sits at (x, y) in the image.

    The stored arrays are copies cropped to the changed pixels only, so the caller may reuse
    or free its buffers afterwards.
    """
    if before.shape != after.shape:
        raise ValueError(f"shape mismatch: {before.shape} vs {after.shape}")
    box = changed_bbox(before, after)
    if box is None:
        return None
    bx, by, bw, bh = box
    sl = (slice(by, by + bh), slice(bx, bx + bw))
    return RegionChange(x + bx, y + by, before[sl].copy(), after[sl].copy())


@dataclass(frozen=True)
class HistoryEntry:
    """One user action (a stroke, an adjustment, an invert...): undone and redone as a unit."""

    label: str
    changes: tuple[Change, ...]

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.changes)

    @property
    def rect(self) -> Rect | None:
        out: Rect | None = None
        for c in self.changes:
            out = union_rect(out, c.rect)
        return out


@dataclass
class UndoHistory:
    """Linear undo/redo stack with a byte budget (oldest entries are dropped first).

    The newest entry is always kept even when it alone exceeds the budget: losing the action
    the user just did would be more surprising than briefly exceeding the limit.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    _undo: deque[HistoryEntry] = field(default_factory=deque)
    _redo: list[HistoryEntry] = field(default_factory=list)
    _bytes: int = 0

    def push(self, entry: HistoryEntry) -> None:
        """Record a new action; any redo branch is discarded."""
        for e in self._redo:
            self._bytes -= e.nbytes
        self._redo.clear()
        self._undo.append(entry)
        self._bytes += entry.nbytes
        while self._bytes > self.max_bytes and len(self._undo) > 1:
            self._bytes -= self._undo.popleft().nbytes

    def pop_last(self) -> HistoryEntry | None:
        """Remove the newest undo entry without applying it (used to amend an adjustment)."""
        if not self._undo:
            return None
        entry = self._undo.pop()
        self._bytes -= entry.nbytes
        return entry

    def undo(self, target: np.ndarray) -> Rect | None:
        """Revert the newest entry on ``target``; returns the rectangle that changed."""
        if not self._undo:
            return None
        entry = self._undo.pop()
        rect: Rect | None = None
        for change in reversed(entry.changes):
            rect = union_rect(rect, change.undo(target))
        self._redo.append(entry)
        return rect

    def redo(self, target: np.ndarray) -> Rect | None:
        """Re-apply the most recently undone entry on ``target``."""
        if not self._redo:
            return None
        entry = self._redo.pop()
        rect: Rect | None = None
        for change in entry.changes:
            rect = union_rect(rect, change.redo(target))
        self._undo.append(entry)
        return rect

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._bytes = 0

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    @property
    def top(self) -> HistoryEntry | None:
        return self._undo[-1] if self._undo else None

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._undo)


class MaskDocument:
    """The mask being edited: the model's mask, the working mask and their undo history.

    The mask is uint8 (0 = background, 255 = subject) so undo is bit-exact and a 24 MP mask
    costs 24 MB. Every mutating method returns the rectangle that changed (or None) so the view
    can repaint only that part.

    Adjustments (threshold, feather, refine...) are computed off the GUI thread from a frozen
    *source* snapshot; successive slider moves amend one history entry instead of piling up,
    and any other edit closes that adjustment session.
    """

    def __init__(self, model_mask: np.ndarray, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if model_mask.dtype != np.uint8 or model_mask.ndim != 2:
            raise ValueError("mask must be a 2-D uint8 array")
        self.model_mask = model_mask.copy()
        self.mask = model_mask.copy()
        self.history = UndoHistory(max_bytes=max_bytes)
        self._adjust_source: np.ndarray | None = None
        self._adjust_entry: HistoryEntry | None = None
        self._adjust_serial = 0
        self.on_session_closed: Callable[[], None] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.mask.shape  # type: ignore[return-value]

    # -- generic edits ---------------------------------------------------------------------
    def push(self, label: str, *changes: Change | None, already_applied: bool = True) -> Rect | None:
        """Record changes made by the caller (or apply them first when ``already_applied``
        is False)."""
        self.close_adjust_session()
        real = tuple(c for c in changes if c is not None)
        if not real:
            return None
        if not already_applied:
            for c in real:
                c.redo(self.mask)
        entry = HistoryEntry(label, real)
        self.history.push(entry)
        return entry.rect

    def replace(self, label: str, new_mask: np.ndarray) -> Rect | None:
        """Replace the whole mask by ``new_mask``, storing only the pixels that changed."""
        if new_mask.shape != self.mask.shape:
            raise ValueError(f"shape mismatch: {self.mask.shape} vs {new_mask.shape}")
        return self.paste(label, new_mask, 0, 0)

    def paste(self, label: str, patch: np.ndarray, x: int, y: int) -> Rect | None:
        """Put ``patch`` into the mask with its top-left at (x, y), storing only the pixels
        that changed. For tools that know where their result can differ (a click's zoom box):
        comparing a 2 MP box costs a fraction of comparing two whole 24 MP masks."""
        self.close_adjust_session()
        h, w = patch.shape[:2]
        change = diff_region(self.mask[y : y + h, x : x + w], patch, x, y)
        if change is None:
            return None
        return self.push(label, change, already_applied=False)

    def invert(self) -> Rect | None:
        return self.push("Invert", InvertChange(self.shape), already_applied=False)

    def reset(self) -> Rect | None:
        """Back to the model's mask, as an undoable action."""
        return self.replace("Reset to model mask", self.model_mask)

    def undo(self) -> Rect | None:
        self.close_adjust_session()
        return self.history.undo(self.mask)

    def redo(self) -> Rect | None:
        self.close_adjust_session()
        return self.history.redo(self.mask)

    # -- adjustment sessions ---------------------------------------------------------------
    @property
    def adjust_session_active(self) -> bool:
        return self._adjust_source is not None

    def adjust_source(self) -> tuple[int, np.ndarray]:
        """The frozen mask that adjustments are computed from, with a session serial.

        The serial lets a late result from a closed session be recognised and dropped.
        """
        if self._adjust_source is None:
            self._adjust_source = self.mask.copy()
            self._adjust_entry = None
            self._adjust_serial += 1
        return self._adjust_serial, self._adjust_source

    def apply_adjusted(self, serial: int, change: RegionChange | None, label: str) -> tuple[bool, Rect | None]:
        """Apply an adjustment result computed from ``adjust_source()``.

        ``change`` is the diff between the source and the adjusted mask (None: identical).
        Returns (accepted, dirty rect); a result from a closed session is refused.
        """
        if self._adjust_source is None or serial != self._adjust_serial:
            return False, None
        dirty: Rect | None = None
        if self._adjust_entry is not None and self.history.top is self._adjust_entry:
            self.history.pop_last()
            for c in reversed(self._adjust_entry.changes):
                dirty = union_rect(dirty, c.undo(self.mask))
        self._adjust_entry = None
        if change is not None:
            dirty = union_rect(dirty, change.redo(self.mask))
            self._adjust_entry = HistoryEntry(label, (change,))
            self.history.push(self._adjust_entry)
        return True, dirty

    def close_adjust_session(self) -> None:
        """End the current adjustment session (the next adjustment starts from the new mask)."""
        if self._adjust_source is None:
            return
        self._adjust_source = None
        self._adjust_entry = None
        if self.on_session_closed is not None:
            self.on_session_closed()
