"""Fixtures shared by all test folders. Keep this small: folder-specific ones live beside their tests.

``tests/`` is on sys.path (pytest's rootdir conftest), so tests import builders as
``from helpers.tiny_models import make_seg_model``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_models import make_seg_model


@pytest.fixture(scope="session")
def seg_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 32x32 segmentation model with our metadata: alpha ~ 1 where red > 0.5."""
    return make_seg_model(tmp_path_factory.mktemp("models") / "tiny-seed.onnx")


@pytest.fixture
def models_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty embedded and user model folders (SEED_STUDIO_MODELS / _USER_MODELS); returns the embedded one."""
    embedded, user = tmp_path / "embedded-models", tmp_path / "user-models"
    embedded.mkdir()
    user.mkdir()
    monkeypatch.setenv("SEED_STUDIO_MODELS", str(embedded))
    monkeypatch.setenv("SEED_STUDIO_USER_MODELS", str(user))
    return embedded
