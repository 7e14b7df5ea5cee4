"""Regenerate the editor screenshots in this folder with the real window (offscreen).

    .venv/bin/python docs/screenshots/make_screenshots.py [--model PATH]

Each picture is one run of ``seed-studio PHOTO --remove --view V --screenshot OUT --quit``
(the automation flags of desktop_app/app.py) with settings isolated in a temp folder. The model
is --model, else the embedded default, else a tiny test model built on the fly (its masks are
crude: it marks reddish pixels as subject).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PHOTO = ROOT / "assets" / "samples" / "astronaut.png"

CANVAS = ["--grab", "canvas", "--size", "1100x700"]
SHOTS = [
    ("main-window.png", ["--view", "overlay"]),
    ("view-original.png", ["--view", "original", *CANVAS]),
    ("view-overlay.png", ["--view", "overlay", *CANVAS]),
    ("view-cutout.png", ["--view", "cutout", *CANVAS]),
    ("view-mask.png", ["--view", "mask", *CANVAS]),
    ("view-split.png", ["--view", "split", *CANVAS]),
    ("background-colour.png", ["--view", "cutout", "--background", "#3a7bd5", *CANVAS]),
    ("background-blur.png", ["--view", "cutout", "--background", "blur", *CANVAS]),
]


def pick_model(arg: str | None, tmp: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    if arg:
        return Path(arg)
    from desktop_app.core.errors import ModelError
    from desktop_app.core.models import default_model_path

    try:
        return default_model_path()
    except ModelError:
        from tests.helpers.tiny_models import make_seg_model

        return make_seg_model(tmp / "tiny-red.onnx", fn="red")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="ONNX model to use")
    ap.add_argument("--size", default="1280x800")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="seed-shots-"))
    model = pick_model(args.model, tmp)
    env = dict(os.environ, SEED_STUDIO_SETTINGS_DIR=str(tmp / "settings"))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"model: {model}")
    for name, extra in SHOTS:
        cmd = [sys.executable, "-m", "desktop_app", str(PHOTO), "--model", str(model), "--remove",
               "--screenshot", str(HERE / name), "--size", args.size, "--quit", *extra]  # fmt: skip
        # a later --size in ``extra`` wins (argparse keeps the last value)
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            print(f"{name}: failed ({result.returncode})\n{result.stderr}", file=sys.stderr)
            return 1
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
