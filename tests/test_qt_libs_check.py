"""``make run`` on Linux checks the system libraries of Qt's X11 plugin first
(scripts/check-qt-libs.sh): without libxcb-cursor0, libxcb-icccm4 or libxcb-keysyms1 the
window never opens, so it prints the one apt-get command that installs what is missing.

ldd is replaced by a stub that reports chosen libraries as missing, so the test runs the real
script on any Linux machine whatever is installed."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check-qt-libs.sh"

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or shutil.which("sh") is None, reason="the check is for Linux only"
)


def run_check(tmp_path: Path, ldd_lines: list[str]) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ldd = bin_dir / "ldd"
    ldd.write_text("#!/bin/sh\n" + "".join(f"printf '\\t%s\\n' '{line}'\n" for line in ldd_lines))
    ldd.chmod(0o755)
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", SEED_QT_XCB_PLUGIN=str(plugin))
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_missing_xcb_libraries_give_one_apt_command(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        [
            "libxcb-cursor.so.0 => not found",
            "libxcb-icccm.so.4 => not found",
            "libxcb-keysyms.so.1 => not found",
            "libxkbcommon-x11.so.0 => not found",
            "libxcb-icccm.so.4 => not found",  # ldd lists a library once per dependent
            "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)",
        ],
    )
    assert result.returncode == 1
    commands = [line.strip() for line in result.stderr.splitlines() if "apt-get" in line]
    assert commands == ["sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0"]


def test_nothing_missing_says_nothing(tmp_path: Path) -> None:
    result = run_check(tmp_path, ["libxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)"])
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""


def test_makefile_runs_the_check_before_the_app() -> None:
    makefile = (SCRIPT.parents[1] / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert lines[0].endswith("scripts/check-qt-libs.sh $(BIN)/python") and "seed-studio" in lines[1]
