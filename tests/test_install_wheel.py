"""The product as a new user gets it: build the sdist, build the wheel from the sdist, install
the wheel (and its dependencies, from the package index) into a fresh venv outside the
repository, then run ``seed-studio`` there with no source tree in reach (cwd elsewhere, no
PYTHONPATH, the build copy deleted): ``--version``, ``models``, ``remove`` on a bundled sample
with the embedded default model, ``--install-desktop-entry``.

Slow (a few minutes: the dependencies are installed for real, pip's cache helps); CI runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "desktop_app", "training", "assets")
MAX_WHEEL_BYTES = 50 * 1024 * 1024
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def copy_sources(dst: Path) -> None:
    """What a fresh clone holds for the build (caches and local runs left out)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=ignore)
        else:
            shutil.copy2(src, dst / name)


def clean_env(tmp: Path) -> dict[str, str]:
    """The user's environment without anything that points back at the repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SEED_STUDIO_", "VIRTUAL_ENV"))}
    env.update(SEED_STUDIO_USER_MODELS=str(tmp / "user-models"), XDG_DATA_HOME=str(tmp / "xdg"))
    return env


def test_wheel_from_sdist_installs_and_works_outside_the_repository(tmp_path: Path) -> None:
    t0 = time.monotonic()
    src, dist, venv, away = tmp_path / "src", tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    for d in (src, dist, away):
        d.mkdir()
    copy_sources(src)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)  # pip runs from outside (--python)
    py = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", py]
    run([*pip, "install", "--quiet", "setuptools>=77", "wheel"], tmp_path)  # the build backend only

    # sdist (PEP 517 hook of the declared backend), then the wheel from the sdist, as `python -m build` does
    sdist = dist / run([py, "-c", f"from setuptools import build_meta as b; print(b.build_sdist({str(dist)!r}))"],
                       src).strip().splitlines()[-1]  # fmt: skip
    models = sorted(p.name for p in (ROOT / "assets" / "models").glob("*.onnx"))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {f"assets/models/{m}" for m in models} <= names and "setup.py" in names
    run([*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, sdist], tmp_path)
    wheel = next(dist.glob("seed_studio-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        members = set(zf.namelist())
    for m in models:
        assert f"desktop_app/assets/models/{m}" in members
    assert "desktop_app/assets/samples/chelsea.png" in members
    assert "desktop_app/assets/icons/seed-studio.svg" in members
    size = wheel.stat().st_size
    assert size < MAX_WHEEL_BYTES, f"wheel is {size / 1e6:.1f} MB"
    shutil.rmtree(src)  # nothing of the source tree is left to fall back on
    t_build = time.monotonic()

    run([*pip, "install", "--quiet", wheel], tmp_path)  # runtime dependencies resolved for real
    t_install = time.monotonic()

    env, exe = clean_env(tmp_path), venv / "bin" / "seed-studio"
    assert run([exe, "--version"], away, env).strip() == f"seed-studio {version}"
    listing = run([exe, "models"], away, env)
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert f"embedded models: {site / 'desktop_app' / 'assets' / 'models'}" in listing
    for name, kind in (("seednet-lite0.onnx", "segmentation"), ("seedclick-lite0.onnx", "'clicks'"),
                       ("emoji-vae-decoder.onnx", "'generator-decoder'")):  # fmt: skip
        line = next(line for line in listing.splitlines() if f"] {name}:" in line)
        assert kind in line, line
    assert "* [embedded] seednet-lite0.onnx" in listing  # the default
    probe = "import importlib.resources as r; print((r.files('desktop_app.assets') / 'models').is_dir())"
    assert run([py, "-c", probe], away, env).strip() == "True"  # a data-only (namespace) package

    sample = site / "desktop_app" / "assets" / "samples" / "chelsea.png"
    out = away / "cut" / "chelsea.png"
    run([exe, "remove", sample, "-o", out, "-q"], away, env)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGBA" and im.size == Image.open(sample).size
        alpha = np.asarray(im.getchannel("A"))
    assert (alpha < 16).mean() > 0.05 and (alpha > 240).mean() > 0.05  # a subject cut out, not a blank

    printed = run([exe, "--install-desktop-entry"], away, env)
    desktop = tmp_path / "xdg" / "applications" / "seed-studio.desktop"
    assert str(desktop) in printed and "Exec=" in desktop.read_text(encoding="utf-8")
    assert (tmp_path / "xdg" / "icons/hicolor/48x48/apps/seed-studio.png").is_file()
    t_end = time.monotonic()
    print(
        f"\nwheel {size / 1e6:.1f} MB; build (sdist + wheel) {t_build - t0:.0f} s, "
        f"install {t_install - t_build:.0f} s, commands {t_end - t_install:.0f} s, total {t_end - t0:.0f} s"
    )
