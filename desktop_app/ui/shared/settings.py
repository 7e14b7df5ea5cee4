"""Persistent GUI settings (QSettings) and the recent-files list.

Organisation "SeedStudio", application "Seed Studio". ``SEED_STUDIO_SETTINGS_DIR`` redirects
everything to an INI file in that folder: tests and the screenshot automation set it so they
never read or change a user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "SeedStudio"
APPLICATION = "Seed Studio"
ENV_SETTINGS_DIR = "SEED_STUDIO_SETTINGS_DIR"
MAX_RECENT = 10


def make_settings() -> QSettings:
    folder = os.environ.get(ENV_SETTINGS_DIR)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "seed-studio.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


def read_list(settings: QSettings, key: str) -> list[str]:
    """QSettings returns a str, a list or None for list values depending on the backend."""
    value = settings.value(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def recent_files(settings: QSettings) -> list[str]:
    return read_list(settings, "recent_files")


def add_recent_file(settings: QSettings, path: str | Path) -> list[str]:
    """Put ``path`` first (no duplicates, at most MAX_RECENT) and return the new list."""
    p = str(Path(path).resolve())
    items = [p] + [x for x in recent_files(settings) if x != p]
    items = items[:MAX_RECENT]
    settings.setValue("recent_files", items)
    return items


def remove_recent_file(settings: QSettings, path: str) -> list[str]:
    items = [x for x in recent_files(settings) if x != path]
    settings.setValue("recent_files", items)
    return items
