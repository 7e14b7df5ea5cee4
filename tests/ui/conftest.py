"""Shared fixtures for the GUI tests: offscreen Qt, isolated settings, no blocking dialogs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point QSettings at a temp dir so tests never read or write the user's settings."""
    from PySide6.QtCore import QSettings

    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    monkeypatch.setenv("SEED_STUDIO_SETTINGS_DIR", str(settings_dir))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
    return settings_dir
