"""Foreground colour estimation, backgrounds, crops, edge refinement and the render step."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from desktop_app.core import compose
from desktop_app.core.options import RemoveOptions, parse_background, parse_colour
from desktop_app.core.pipeline import render
from desktop_app.core.refine import guided_filter, guided_upsample, hard_threshold, refine_alpha

RED = np.array([200, 40, 30], np.float64)
GREEN = np.array([20, 190, 40], np.float64)


def blended_scene(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Red subject (left) over a green background (right) with a soft ramp between."""
    ramp = np.clip((np.arange(w) - 0.4 * w) / (0.2 * w), 0, 1)
    alpha = np.tile(1.0 - ramp, (h, 1)).astype(np.float32)
    rgb = alpha[..., None] * RED + (1 - alpha[..., None]) * GREEN
    return np.round(rgb).astype(np.uint8), alpha


@pytest.mark.parametrize("size", [(60, 100), (900, 1500)])  # full-res and the bounded-resolution path
def test_foreground_estimation_removes_background_fringe(size) -> None:
    rgb, alpha = blended_scene(*size)
    fg = compose.estimate_foreground(rgb, alpha, max_side=400).astype(np.float64)
    band = (alpha > 0.1) & (alpha < 0.9)
    err_est = np.abs(fg[band] - RED).mean()
    err_naive = np.abs(rgb[band].astype(np.float64) - RED).mean()
    assert err_est < 12 and err_est < err_naive / 4
    solid = alpha >= compose.SOFT_HI
    assert np.array_equal(fg[solid], rgb[solid].astype(np.float64))  # opaque pixels keep the photo


def test_default_resolution_removes_fringe_and_strip_path_matches_dense(monkeypatch) -> None:
    """The default pymatting resolution (half the band box) still removes the fringe, and the
    strip-wise upsampling used for huge crops gives the same colours as the one-shot resize."""
    rgb, alpha = blended_scene(300, 500)
    assert compose.fb_resolution(500) == 256 and compose.fb_resolution(4000) == 768
    dense = compose.estimate_foreground(rgb, alpha)
    band = (alpha > 0.1) & (alpha < 0.9)
    err_est = np.abs(dense[band].astype(np.float64) - RED).mean()
    assert err_est < np.abs(rgb[band].astype(np.float64) - RED).mean() / 4
    monkeypatch.setattr(compose, "DENSE_PIXELS", 0)
    strips = compose.estimate_foreground(rgb, alpha, strip=64)
    assert np.abs(strips.astype(np.int16) - dense.astype(np.int16)).max() <= 1


def test_straight_alpha_cutout_and_composite() -> None:
    rgb, alpha = blended_scene(20, 40)
    rgba = compose.cutout_rgba(rgb, alpha)
    assert rgba.shape == (20, 40, 4) and rgba[0, 0, 3] == 255 and rgba[0, -1, 3] == 0
    visible = rgba[..., 3] > 0
    assert np.array_equal(rgba[..., :3][visible], rgb[visible])  # straight, not premultiplied
    assert not rgba[..., :3][~visible].any()  # the removed background is not kept under alpha 0
    white = compose.solid((20, 40), (255, 255, 255))
    out = compose.composite(rgb, alpha, white)
    assert tuple(out[0, -1]) == (255, 255, 255) and tuple(out[0, 0]) == tuple(rgb[0, 0])


def test_cover_fit_fills_and_centres() -> None:
    src = np.zeros((100, 300, 3), np.uint8)
    src[:, 100:200] = 255  # white centre third
    out = compose.cover_fit(src, (200, 200))
    assert out.shape == (200, 200, 3) and out[100, 100, 0] == 255


def test_blurred_background_has_no_subject_halo() -> None:
    rgb = np.full((200, 200, 3), 30, np.uint8)
    alpha = np.zeros((200, 200), np.float32)
    cv2.circle(rgb, (100, 100), 50, (250, 250, 250), -1)
    cv2.circle(alpha, (100, 100), 50, 1.0, -1)
    bg = compose.blurred_background(rgb, alpha, strength=0.05)
    naive = cv2.GaussianBlur(rgb, (0, 0), 10)
    assert bg.shape == rgb.shape
    assert bg[100, 165, 0] < 60 < naive[100, 155, 0]  # just outside the subject stays dark


def test_subject_bbox_with_margin() -> None:
    alpha = np.zeros((100, 200), np.float32)
    alpha[20:60, 50:150] = 1.0
    assert compose.subject_bbox(alpha, margin=0.0) == (50, 20, 150, 60)
    assert compose.subject_bbox(alpha, margin=0.1) == (40, 10, 160, 70)
    assert compose.subject_bbox(np.zeros((5, 5), np.float32)) is None


def test_refinement_snaps_blurry_mask_to_photo_edges() -> None:
    h, w = 600, 800
    truth = np.zeros((h, w), np.float32)
    cv2.circle(truth, (400, 300), 200, 1.0, -1, lineType=cv2.LINE_AA)
    rgb = np.dstack([truth * 200 + 30, truth * 50 + 60, 90 - truth * 60]).astype(np.uint8)
    low = cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)
    blurry = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    refined = refine_alpha(rgb, blurry, model_size=(64, 64))
    assert np.abs(refined - truth).mean() < 0.75 * np.abs(blurry - truth).mean()
    direct = guided_upsample(rgb, low)
    assert np.abs(direct - truth).mean() < 0.2 * np.abs(blurry - truth).mean()
    assert refined.min() >= 0 and refined.max() <= 1
    # guided_filter keeps a constant mask constant, with or without subsampling
    flat = np.full((h, w), 0.7, np.float32)
    for s in (1, 4):
        np.testing.assert_allclose(guided_filter(rgb, flat, 8, subsample=s), 0.7, atol=1e-3)


def test_hard_threshold() -> None:
    a = np.array([[0.2, 0.5, 0.9]], np.float32)
    assert hard_threshold(a, 0.5).tolist() == [[0.0, 1.0, 1.0]]
    with pytest.raises(ValueError):
        hard_threshold(a, 1.5)


def test_options_parsing(tmp_path: Path) -> None:
    assert parse_colour("#fff") == (255, 255, 255) and parse_colour("00ff80") == (0, 255, 128)
    assert parse_background("blur").kind == "blur" and parse_background("transparent").kind == "transparent"
    img = tmp_path / "bg.png"
    Image.new("RGB", (10, 10), "blue").save(img)
    assert parse_background(str(img)).kind == "image"
    with pytest.raises(ValueError, match="neither"):
        parse_background("no-such-file.png")
    with pytest.raises(ValueError, match="unsupported output format"):
        RemoveOptions(format="gif")
    with pytest.raises(ValueError, match="name pattern"):
        RemoveOptions(name_pattern="{nope}.png")
    assert RemoveOptions(format="JPEG").format == "jpg"


def test_render_variants(tmp_path: Path) -> None:
    rgb, alpha = blended_scene(40, 80)
    src_alpha = np.full((40, 80), 255, np.uint8)
    src_alpha[:, :10] = 0  # transparent in the source stays transparent
    out = render(rgb, alpha, RemoveOptions(), source_alpha=src_alpha)
    assert out.image.shape == (40, 80, 4) and out.image[0, 5, 3] == 0 and out.image[0, 20, 3] == 255
    mask = render(rgb, alpha, RemoveOptions(mask_only=True)).image
    assert mask.shape == (40, 80) and mask.dtype == np.uint8
    jpg = render(rgb, alpha, RemoveOptions(format="jpg")).image
    assert jpg.shape == (40, 80, 3) and tuple(jpg[0, -1]) == (255, 255, 255)
    coloured = render(rgb, alpha, RemoveOptions(background="#0000ff")).image
    assert tuple(coloured[0, -1]) == (0, 0, 255)
    Image.new("RGB", (30, 30), (1, 2, 3)).save(tmp_path / "bg.png")
    pictured = render(rgb, alpha, RemoveOptions(background=str(tmp_path / "bg.png"))).image
    assert tuple(pictured[0, -1]) == (1, 2, 3)
    assert render(rgb, alpha, RemoveOptions(background="blur")).image.shape == (40, 80, 3)
    cropped = render(rgb, alpha, RemoveOptions(crop=True, crop_margin=0.0))
    assert cropped.bbox is not None and cropped.image.shape[1] < 80
    empty = render(rgb, np.zeros_like(alpha), RemoveOptions(crop=True))
    assert empty.bbox is None and empty.warnings
