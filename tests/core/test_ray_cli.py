"""``seed-studio remove --engine ray`` end to end, in a subprocess that starts and stops its own
local Ray: exit code, report, and Ctrl-C leaving no partial file. A module of its own so the
shared local Ray of test_ray_engine.py is shut down before this one starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.corpus import photo
from PIL import Image

from desktop_app.core.imageio import TEMP_SUFFIX

if os.environ.get("SEED_STUDIO_REQUIRE_RAY") != "1":
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

pytestmark = pytest.mark.ray
REPO = Path(__file__).resolve().parents[2]


def save(path: Path, seed: int = 0, size: tuple[int, int] = (48, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(*size, seed=seed)).save(path, "JPEG")
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "desktop_app", "remove", *args]


def test_cli_on_its_own_local_ray_then_ctrl_c(tmp_path: Path, seg_model: Path) -> None:
    """The CLI path end to end (it starts and stops its own Ray): report, exit code, Ctrl-C."""
    src = tmp_path / "in"
    save(src / "a.jpg")
    (src / "broken.jpg").write_bytes(b"not a jpeg")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    run = subprocess.run(_cli(str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model), "--engine", "ray",
                              "--json-report", str(tmp_path / "r.json"), "-q"),
                         capture_output=True, text=True, timeout=300, env=env, cwd=REPO)  # fmt: skip
    assert run.returncode == 1, run.stderr  # one input failed, the other was done
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["counts"]["done"] == 1 and doc["counts"]["failed"] == 1 and doc["engine"]["name"] == "ray"
    assert "Ray workers" in run.stderr and "broken.jpg" in run.stderr
    n_photos = 40
    for i in range(n_photos):
        save(src / "many" / f"p{i:03d}.jpg", seed=i, size=(600, 800))
    out = tmp_path / "out2"
    # Ctrl-C as in a terminal: a suite started as a background job (`make test &`) inherits an
    # ignored SIGINT, which the CLI would rightly keep ignoring
    proc = subprocess.Popen(_cli(str(src / "many"), "-o", str(out), "--model", str(seg_model), "--engine", "ray"),
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(out.glob("*.png"))) < 3 and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before Ctrl-C could be sent"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "no partial files" in err
    left = sorted(out.rglob("*"))
    assert not [p for p in left if p.name.endswith(TEMP_SUFFIX)] and len(left) < n_photos
    for p in left:
        with Image.open(p) as im:
            im.load()
