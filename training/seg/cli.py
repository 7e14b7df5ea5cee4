"""``seg eval`` and ``seg export``: ONNX-side evaluation and checkpoint export.

Evaluation runs the exported file through the app's own core (``desktop_app.core.segment``),
so the figures describe exactly what users get, resizing and all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..baselines import grabcut_center_rect
from ..data.folder import list_pairs, read_mask, read_rgb
from ..metrics import SalientMetrics


def add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="ONNX file (default: the app's embedded default model)")
    p.add_argument("--data", required=True, help="folder with images/ and masks/")
    p.add_argument("--json", action="store_true", help="also print one JSON line")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--no-baseline", action="store_true", help="skip the GrabCut baseline")
    p.add_argument("--worst", metavar="PNG", help="save a grid of the 6 worst images (photo, truth, ours)")
    flip = p.add_mutually_exclusive_group()
    flip.add_argument("--flip", dest="flip", action="store_const", const=True, help="force mirror averaging on")
    flip.add_argument("--no-flip", dest="flip", action="store_const", const=False, help="force mirror averaging off")
    p.add_argument(
        "--second-pass",
        nargs="?",
        const="default",
        metavar="CLICK_MODEL",
        help="also run the app's second pass through a click model (default: the embedded one)",
    )


def add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=0, help="input size (default: the run's eval size)")
    p.add_argument("--rembg-compatible", action="store_true", help="320x320, batch 1, for rembg's u2net_custom session")
    p.add_argument("--raw-weights", action="store_true", help="export raw instead of EMA weights")
    p.add_argument(
        "--revalidate",
        action="store_true",
        help="measure the exported weights on the run's validation set again, as this file resizes",
    )
    p.add_argument(
        "--stretch",
        action="store_true",
        help="fixed square input (photos are squashed) instead of keeping their aspect",
    )
    p.add_argument("--name", default="")
    p.add_argument(
        "--fp16-weights",
        action="store_true",
        help="store weights as float16 (half the file; arithmetic stays float32); parity is checked before",
    )
    p.add_argument(
        "--flip-average",
        action="store_true",
        help="ask the app to average each mask with the mirrored photo's (twice the network time)",
    )


def run(args: argparse.Namespace) -> int:
    return cmd_eval(args) if args.cmd == "eval" else cmd_export(args)


def _network_ms(segmenter, size_hw, repeats: int = 20) -> float:
    x = np.random.default_rng(0).standard_normal((1, 3, *size_hw)).astype(np.float32)
    segmenter.run_averaged(x)
    t = time.perf_counter()
    for _ in range(repeats):
        segmenter.run_averaged(x)
    return (time.perf_counter() - t) / repeats * 1000


def evaluate_model(
    model_path: str | None,
    data: str,
    limit: int = 0,
    baseline: bool = True,
    worst_png: str | None = None,
    second_pass_model: str | None = None,
    flip: bool | None = None,
) -> dict:
    """Metrics of the app's own removal path on ``data``; ``second_pass_model`` ("default" or
    a click-model file) adds the click model's second pass (``RemoveOptions.second_pass``);
    ``flip`` forces mirror averaging on or off (None: as the file's metadata says)."""
    from desktop_app.core.clicks.engine import ClickSegmenter
    from desktop_app.core.models import default_model_path
    from desktop_app.core.options import RemoveOptions
    from desktop_app.core.pipeline import predict_alpha
    from desktop_app.core.second_pass import default_clicker
    from desktop_app.core.segment import Segmenter

    path = Path(model_path) if model_path else default_model_path()
    segmenter = Segmenter(path, flip_average=flip)
    clicker = None
    if second_pass_model:
        clicker = default_clicker() if second_pass_model == "default" else ClickSegmenter(second_pass_model)
    options = RemoveOptions(second_pass=clicker is not None)
    pairs = list_pairs(data)[: limit or None]
    ours, base = SalientMetrics(), SalientMetrics()
    t_model = t_base = 0.0
    per_image: list[tuple[float, Path, np.ndarray]] = []
    for img_path, mask_path in pairs:
        rgb, gt = read_rgb(img_path), read_mask(mask_path).astype(np.float32) / 255.0
        t = time.perf_counter()
        alpha = predict_alpha(segmenter, rgb, options, clicker)
        t_model += time.perf_counter() - t
        ours.add(alpha, gt)
        if worst_png:
            per_image.append((ours.maes[-1], img_path, (alpha * 255).astype(np.uint8)))
        if baseline:
            t = time.perf_counter()
            base.add(grabcut_center_rect(rgb), gt)
            t_base += time.perf_counter() - t
    typical_hw = segmenter.spec.network_size(2000, 3000)  # a 3:2 camera photo's network input
    result = {
        "model": str(path),
        "data": str(data),
        **ours.summary(),
        "images_per_s": len(pairs) / max(t_model, 1e-9),
        "network_ms": _network_ms(segmenter, typical_hw),
        "input_size": list(typical_hw),
        "size_mb": path.stat().st_size / 1e6,
        "provider": segmenter.provider,
        "test_time_flip": segmenter.flip_average,
    }
    if clicker is not None:
        result["second_pass"] = getattr(clicker, "model_path", "click model")
    if worst_png:
        save_worst(per_image, data, worst_png)
    if baseline:
        result["baseline"] = {
            "name": "grabcut-center-rect",
            **base.summary(),
            "images_per_s": len(pairs) / max(t_base, 1e-9),
        }
    return result


def save_worst(per_image: list, data: str, path: str, count: int = 6) -> None:
    """Grid of the highest-MAE images: photo | ground truth | our mask (for the model card)."""
    import cv2

    from .train import preview_grid

    rows = []
    for _, img_path, alpha in sorted(per_image, key=lambda r: -r[0])[:count]:
        rows.append([read_rgb(img_path), read_mask(Path(data) / "masks" / f"{img_path.stem}.png"), alpha])
    cv2.imwrite(str(path), cv2.cvtColor(preview_grid(rows, cell=180), cv2.COLOR_RGB2BGR))


def print_table(r: dict, out=sys.stdout) -> None:
    name = Path(r["model"]).name + (" (mirror-averaged)" if r.get("test_time_flip") else "")
    name += " + 2nd pass " + Path(r["second_pass"]).name if "second_pass" in r else ""
    rows = [("ours: " + name, r)]
    if "baseline" in r:
        rows.append(("baseline: " + r["baseline"]["name"], r["baseline"]))
    print(f"{'method':70s} {'MAE':>7s} {'maxF':>7s} {'mIoU':>7s} {'bF':>7s} {'img/s':>7s}", file=out)
    for name, m in rows:
        print(
            f"{name:70s} {m['mae']:7.4f} {m['max_f']:7.4f} {m['mean_iou']:7.4f} "
            f"{m['boundary_f']:7.4f} {m['images_per_s']:7.1f}",
            file=out,
        )
    print(
        f"n={r['n']}  network {r['network_ms']:.1f} ms at {r['input_size']}  "
        f"file {r['size_mb']:.2f} MB  provider {r['provider']}",
        file=out,
    )


def cmd_eval(args: argparse.Namespace) -> int:
    result = evaluate_model(
        args.model,
        args.data,
        args.limit,
        baseline=not args.no_baseline,
        worst_png=args.worst,
        second_pass_model=args.second_pass,
        flip=args.flip,
    )
    print_table(result)
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_checkpoint

    path, diff, rounding = export_checkpoint(
        args.ckpt,
        args.out,
        size=args.size,
        rembg=args.rembg_compatible,
        use_ema=not args.raw_weights,
        name=args.name,
        keep_aspect=not args.stretch,
        revalidate=args.revalidate,
        flip_average=args.flip_average,
        fp16_weights=args.fp16_weights,
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); parity max abs diff {diff:.2e}")
    if rounding is not None:
        print(f"weights stored as float16: max abs change of the output {rounding:.2e} (rounding, reported)")
    return 0 if diff < 1e-4 else 1
