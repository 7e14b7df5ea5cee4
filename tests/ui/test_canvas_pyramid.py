"""Display pyramids: partial updates after edits match a full rebuild exactly."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from desktop_app.ui.shared.qimage import MaskPyramid, build_pyramid


def test_partial_updates_match_full_rebuild() -> None:
    rng = np.random.default_rng(3)
    mask = rng.integers(0, 256, (1037, 2101), dtype=np.uint8)  # odd sizes on purpose
    pyr = MaskPyramid(mask, 3, QColor(255, 0, 0), 0.5)
    for x, y, w, h in [(0, 0, 1, 1), (1000, 500, 37, 91), (2090, 1030, 11, 7), (513, 3, 400, 2)]:
        mask[y : y + h, x : x + w] = rng.integers(0, 256, (h, w), dtype=np.uint8)
        pyr.update((x, y, w, h))
    fresh = MaskPyramid(mask.copy(), 3, QColor(255, 0, 0), 0.5)
    for a, b in zip(pyr.levels, fresh.levels, strict=True):
        np.testing.assert_array_equal(a, b)
    assert pyr.levels[0] is mask  # level 0 is the live mask, not a copy


def test_mask_levels_match_photo_levels() -> None:
    rgb = np.zeros((1500, 2300, 3), np.uint8)
    photo = build_pyramid(rgb)
    pyr = MaskPyramid(np.zeros((1500, 2300), np.uint8), len(photo), QColor(0, 0, 0), 1.0)
    assert [lv.shape[:2] for lv in photo] == [lv.shape for lv in pyr.levels]
