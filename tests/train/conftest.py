"""Fixtures for training tests: a tiny generated folder dataset and the shared datasets."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "datasets"


def make_folder_dataset(root: Path, n: int = 12, size: int = 64, seed: int = 0) -> Path:
    """images/*.png + masks/*.png: a coloured ellipse (the subject) on a noisy gradient."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        bg = (np.stack([xx, yy, xx + yy], -1) * rng.uniform(0.5, 2.0) % 256).astype(np.uint8)
        bg = np.clip(bg.astype(int) + rng.integers(-20, 20, bg.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((size, size), np.uint8)
        centre = (int(rng.integers(size // 4, 3 * size // 4)), int(rng.integers(size // 4, 3 * size // 4)))
        axes = (int(rng.integers(size // 8, size // 3)), int(rng.integers(size // 8, size // 3)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        colour = rng.integers(0, 256, 3)
        img = np.where(mask[..., None] > 0, colour, bg).astype(np.uint8)
        cv2.imwrite(str(root / "images" / f"s{i:03d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / "masks" / f"s{i:03d}.png"), mask)
    return root


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return make_folder_dataset(tmp_path / "tiny")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("SEED_CACHE", str(path))
    return path


def running_in_ci() -> bool:
    """CI services set ``CI`` to "true", "True" or "1" (GitHub, GitLab, Travis, ...)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def shared_dataset(name: str) -> Path:
    """A folder of ../shared/datasets; skips when absent, except in CI (there it must exist)."""
    path = SHARED / name
    if not path.is_dir():
        if running_in_ci():
            pytest.fail(f"CI={os.environ.get('CI')} but the dataset {path} is missing")
        pytest.skip(f"needs ../shared/datasets/{name} (not present on this machine)")
    return path
