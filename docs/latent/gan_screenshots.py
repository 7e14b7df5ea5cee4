"""Redraw docs/screenshots/latent-gan-*.png: the latent panel with the GAN (offscreen, isolated settings).

    .venv/bin/python docs/latent/gan_screenshots.py [--model assets/models/emoji-gan-generator.onnx]

1. latent-gan.png: the GAN chosen in the Generator list, a seed at truncation 0.8, two named
   SeFa directions moved, two kept points; "Encode image…" greyed out (a GAN has no encoder);
2. latent-gan-seeds.png: the same seed before the sliders moved.
(An open drop-down is a separate window that an offscreen grab of the panel does not show.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from make_screenshots import SIZE, offscreen_app, settle  # noqa: E402  (same folder; the VAE's screenshots)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "assets" / "models" / "emoji-gan-generator.onnx"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--seeds", default="3,11,17", help="seed shown, then the two kept points")
    parser.add_argument("--moves", default="0:1.5,1:-1.0", help="direction:value pairs moved on the first seed")
    args = parser.parse_args()
    app, out, _scratch = offscreen_app("latent-gan-shots-", args.out)
    from desktop_app.ui.latent.panel import LatentPanel

    seeds = [int(s) for s in args.seeds.split(",")]

    panel = LatentPanel()  # the default (VAE) first, then the GAN picked from the list
    panel.resize(*SIZE)
    panel.show()
    settle(app, panel)
    combo = panel.chooser.combo
    index = next(i for i in range(combo.count()) if Path(combo.itemData(i)).resolve() == Path(args.model).resolve())
    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # as the person's pick does
    settle(app, panel, 0.6)
    panel.seeds.temperature.setValue(0.8)
    for seed in seeds[1:]:
        panel.set_seed(seed)
        settle(app, panel, 0.1)
        panel.keep_point()
    panel.set_seed(seeds[0])
    settle(app, panel, 0.1)
    panel.grab().save(str(out / "latent-gan-seeds.png"))
    for move in args.moves.split(","):
        k, v = move.split(":")
        panel.set_slider(int(k), float(v))
        panel.sliders.settled.emit()
        settle(app, panel, 0.1)
    panel.grab().save(str(out / "latent-gan.png"))
    panel.shutdown()
    print(f"wrote latent-gan*.png to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
