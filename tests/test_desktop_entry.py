"""``seed-studio --version`` and the Linux desktop entry (``--install-desktop-entry``): the files
written under a temporary ``XDG_DATA_HOME``, checked by content and by ``desktop-file-validate``
when it is installed (Debian: desktop-file-utils)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from desktop_app import __main__ as entry
from desktop_app import desktop_entry as de
from desktop_app.core.resources import app_version, icon_svg

ROOT = Path(__file__).resolve().parents[1]


def test_version_comes_from_the_installed_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"seed-studio {app_version()}"
    # pyproject.toml is the single source: the installed metadata says the same (editable install)
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert app_version() in (declared, "0+unknown (not installed)")


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(root))
    return root


def read_entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def test_install_writes_entry_and_icons_under_xdg_data_home(data_home: Path, capsys) -> None:
    assert entry.main(["--install-desktop-entry"]) == 0
    desktop = data_home / "applications" / "seed-studio.desktop"
    fields = read_entry(desktop)
    assert fields["Type"] == "Application" and fields["Name"] == "Seed Studio"
    assert fields["Exec"].endswith(" %F")  # "Open with" passes the chosen files
    assert fields["MimeType"] == "image/jpeg;image/png;image/webp;"
    assert fields["Icon"] == "seed-studio" and fields["Terminal"] == "false"
    svg = data_home / "icons/hicolor/scalable/apps/seed-studio.svg"
    assert svg.read_bytes() == icon_svg().read_bytes()
    for size in de.PNG_SIZES:
        png = data_home / f"icons/hicolor/{size}x{size}/apps/seed-studio.png"
        with Image.open(png) as im:
            assert im.size == (size, size) and im.mode == "RGBA"
            alpha = im.getchannel("A")
            assert alpha.getextrema() == (0, 255)  # transparent corners, an opaque drawing
    printed = capsys.readouterr().out
    assert str(desktop) in printed
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(desktop)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_uninstall_removes_only_what_install_wrote(data_home: Path) -> None:
    written = de.install()
    other = data_home / "applications" / "other.desktop"
    other.write_text("[Desktop Entry]\n", encoding="utf-8")
    assert entry.main(["--uninstall-desktop-entry"]) == 0
    assert not any(p.exists() for p in written)
    assert other.exists()
    assert de.uninstall() == []  # twice is harmless


def test_desktop_flags_take_no_other_arguments(capsys) -> None:
    assert entry.main(["--install-desktop-entry", "photo.png"]) == 2
    assert "no other arguments" in capsys.readouterr().err


def test_launcher_prefers_the_name_on_path_else_an_absolute_path(tmp_path: Path, monkeypatch) -> None:
    script = tmp_path / "venv-bin" / "seed-studio"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert de.launcher() == [str(script.resolve())]  # a venv the menu's PATH would not know
    monkeypatch.setenv("PATH", str(script.parent))
    assert de.launcher() == ["seed-studio"]
    monkeypatch.setattr(sys, "argv", ["/somewhere/desktop_app/__main__.py"])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert de.launcher() == [sys.executable, "-m", "desktop_app"]


def test_exec_line_quotes_paths_as_the_spec_asks() -> None:
    text = de.desktop_entry_text(["/opt/My Apps/seed-studio"])
    assert 'Exec="/opt/My Apps/seed-studio" %F' in text
    text = de.desktop_entry_text(["/opt/$x/seed-studio"])
    assert 'Exec="/opt/\\\\$x/seed-studio" %F' in text  # \$ inside quotes, then \ escaped as \\


def test_relative_xdg_data_home_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    assert de.data_home() == Path.home() / ".local" / "share"
