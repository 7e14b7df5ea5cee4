"""Display pyramids: partial updates after edits match a full rebuild exactly; drawing them
through a fast format looks exactly the same."""

from __future__ import annotations

import numpy as np
import pytest
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


@pytest.mark.parametrize(("zoom", "converted"), [(None, True), (0.6, True), (0.3, True), (0.2, False)])
def test_fast_format_conversion_draws_the_same_pixels(
    qtbot, monkeypatch: pytest.MonkeyPatch, zoom: float | None, converted: bool
) -> None:
    """Zoomed out, the canvas converts the exposed part of each pyramid level to a format Qt
    scales fast (2-4x cheaper repaints); every view mode must look exactly as before, on noise:
    at the fit zoom (level 1 drawn at 0.73), at 0.6 (level 0) and 0.3 (level 1 at 0.6). At 0.2
    the coarsest level is drawn at 0.4, where the conversion would change pixels: not done."""
    from desktop_app.ui.editor import canvas_draw
    from desktop_app.ui.editor.canvas import ImageCanvas, ViewMode
    from desktop_app.ui.shared.qimage import qimage_to_array

    rng = np.random.default_rng(5)
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 500)
    canvas.set_photo(build_pyramid(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8)))
    canvas.set_mask(rng.integers(0, 256, (1200, 1600), dtype=np.uint8))
    if zoom is not None:
        canvas.zoom_to(zoom)
    conversions = []
    fast_source = canvas._fast_source

    def spy(image, *rects):
        out = fast_source(image, *rects)
        conversions.append(out[0] is not image)
        return out

    canvas._fast_source = spy
    for mode in ViewMode:
        canvas.set_view_mode(mode)
        fast = qimage_to_array(canvas.grab().toImage())
        with monkeypatch.context() as m:
            m.setattr(canvas_draw, "_FAST_FORMATS", {})
            plain = qimage_to_array(canvas.grab().toImage())
        np.testing.assert_array_equal(fast, plain, err_msg=str(mode))
    assert any(conversions) is converted
