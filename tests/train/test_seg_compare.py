"""``seg compare``: one row per photo, one cut-out column per model, through the app's path."""

from __future__ import annotations

import cv2
import numpy as np
from helpers.tiny_models import make_seg_model

from training.__main__ import main as training_main
from training.seg.compare import LABEL_H, checkerboard, on_checkerboard


def test_compare_grid_has_a_row_per_photo_and_a_cut_out_per_model(tiny_dataset, tmp_path):
    red = make_seg_model(tmp_path / "red.onnx", (32, 32), fn="red")
    mean = make_seg_model(tmp_path / "mean.onnx", (32, 32), fn="mean")
    out = tmp_path / "grid.png"
    stems = ["s000", "s001", "s002"]
    args = ["seg", "compare", "--models", str(red), str(mean), "--names", "red", "mean"]
    args += ["--photos", *stems, "--data", str(tiny_dataset), "--height", "64", "--out", str(out)]
    assert training_main(args) == 0
    grid = cv2.imread(str(out))
    cell = 64 + LABEL_H
    assert grid.shape[0] == len(stems) * (cell + 4)
    assert grid.shape[1] == 4 * (96 + 4)  # photo, truth, two models; cells are 1.5 x as wide as high
    # the two models' columns differ: each shows its own mask, not a copy of the photo
    red_col = grid[LABEL_H:cell, 2 * 100 + 16 : 2 * 100 + 80].astype(int)
    green_col = grid[LABEL_H:cell, 3 * 100 + 16 : 3 * 100 + 80].astype(int)
    assert np.abs(red_col - green_col).mean() > 5


def test_transparent_pixels_show_the_checkerboard_and_opaque_ones_the_photo():
    rgb = np.full((24, 24, 3), 77, np.uint8)
    alpha = np.zeros((24, 24), np.float32)
    alpha[:, :12] = 1.0
    shown = on_checkerboard(rgb, alpha)
    assert (shown[:, :12] == 77).all()
    assert np.array_equal(shown[:, 12:], checkerboard(24, 24)[:, 12:])
