"""Redraw docs/screenshots/latent-*.png with the real latent panel (offscreen, isolated settings).

    .venv/bin/python docs/latent/make_screenshots.py [--model assets/models/emoji-vae-decoder.onnx]

1. latent-panel.png: a seed, two renamed directions moved, two kept points;
2. latent-encode.png: a validation emoji encoded, then one direction moved;
3. latent-unknown-model.png: a decoder without our metadata (the notice and its offer);
4. latent-random-directions.png: the same file explored with random orthonormal directions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
EMOJI = ROOT.parent / "shared" / "datasets" / "fluent-emoji-3d" / "images"
SIZE = (1180, 760)


def settle(app, panel, seconds: float = 0.4) -> None:
    """Process events until every worker is idle, then a little longer for repaints."""
    end = time.monotonic() + 30
    while time.monotonic() < end and any(w.busy for w in (panel.renderer, panel.loader, panel.encoder, panel.files)):
        app.processEvents()
        time.sleep(0.01)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def offscreen_app(prefix: str, out: str):
    """(QApplication, output folder, scratch folder) for a screenshot script: offscreen Qt,
    throw-away settings (a run never reads or writes the user's), the output folder created."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["SEED_STUDIO_SETTINGS_DIR"] = str(tmp / "settings")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return app, folder, tmp


def strip_metadata(src: Path, dst: Path) -> Path:
    import onnx

    model = onnx.load(str(src))
    del model.metadata_props[:]
    onnx.save(model, str(dst))
    return dst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "assets" / "models" / "emoji-vae-decoder.onnx"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--encode", default="1f600", help="stem of the emoji to encode (default: grinning face)")
    args = parser.parse_args()
    app, out, tmp = offscreen_app("latent-shots-", args.out)
    from desktop_app.ui.latent.panel import LatentPanel

    panel = LatentPanel(model_path=Path(args.model))
    panel.resize(*SIZE)
    panel.show()
    settle(app, panel)
    for seed in (7, 12):
        panel.set_seed(seed)
        settle(app, panel, 0.1)
        panel.keep_point()
    for k, name in enumerate(("person ↔ flag", "empty ↔ person", "face ↔ keycap", "round ↔ bust")):
        panel.sliders.set_name(k, name)  # names given after looking at the sweeps (docs/latent)
    panel.set_seed(3)
    settle(app, panel, 0.1)
    for k, v in ((0, -1.0), (3, 1.0)):
        panel.set_slider(k, v)
        panel.sliders.settled.emit()
        settle(app, panel, 0.1)
    panel.grab().save(str(out / "latent-panel.png"))

    candidates = sorted(EMOJI.glob(f"{args.encode}*.webp")) if EMOJI.is_dir() else []
    if candidates and panel.generator is not None and panel.generator.has_encoder:
        panel.encode_file(candidates[0])
        settle(app, panel)
        panel.set_slider(2, 1.5)
        panel.sliders.settled.emit()
        settle(app, panel)
        panel.grab().save(str(out / "latent-encode.png"))
    panel.shutdown()

    plain = strip_metadata(Path(args.model), tmp / "third-party-decoder.onnx")
    other = LatentPanel(model_path=plain)
    other.resize(*SIZE)
    other.show()
    settle(app, other, 0.6)
    other.grab().save(str(out / "latent-unknown-model.png"))
    other.message.button.click()
    settle(app, other)
    other.set_seed(5)
    settle(app, other)
    other.grab().save(str(out / "latent-random-directions.png"))
    other.shutdown()
    print(f"wrote latent-*.png to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
