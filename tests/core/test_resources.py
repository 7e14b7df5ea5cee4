"""Where the shipped files are found: the installed package data first (a wheel's
``desktop_app/assets``), a checkout's top-level ``assets/`` otherwise; never a folder found by
walking up from the code, which in site-packages could be anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core import models, resources

ROOT = Path(__file__).resolve().parents[2]


def fake_package(monkeypatch: pytest.MonkeyPatch, package: Path) -> None:
    package.mkdir(parents=True)
    monkeypatch.setattr(resources.resources, "files", lambda name: package)


def test_installed_package_data_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "desktop_app"
    fake_package(monkeypatch, package)
    (package / "assets" / "models").mkdir(parents=True)
    (tmp_path / "site-packages" / "assets" / "models").mkdir(parents=True)  # a stray folder must not win
    monkeypatch.delenv(models.ENV_MODELS_DIR, raising=False)
    assert resources.assets_dir() == package / "assets"
    assert models.models_dir() == package / "assets" / "models"
    assert resources.samples_dir() == package / "assets" / "samples"


def test_a_checkout_uses_its_own_assets_beside_the_package(tmp_path: Path, monkeypatch) -> None:
    fake_package(monkeypatch, tmp_path / "clone" / "desktop_app")
    assert resources.assets_dir() == tmp_path / "clone" / "assets"


def test_this_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(models.ENV_MODELS_DIR, raising=False)
    assert resources.assets_dir() == ROOT / "assets"
    assert (models.models_dir() / "seednet-lite0.onnx").is_file()
    assert resources.icon_svg().read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_models_env_still_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(models.ENV_MODELS_DIR, str(tmp_path))
    assert models.models_dir() == tmp_path
