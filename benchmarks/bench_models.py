"""Latency of the embedded segmentation and click models against their targets.

* Segmentation: the network at the file's square input size (target 60 ms) and at the size
  the app feeds it for a 3:2 photo (keep-aspect, target 90 ms); ``--baseline OTHER.onnx``
  times another file the same way in the same run (e.g. the previous default, from git);
  plus ``Segmenter.predict`` end to end on a 12 MP photo, alone and with the click model's
  optional second pass. ``--model`` picks the file (default: the embedded default).
* Clicks (target 100 ms per click): ``ClickSegmenter.predict`` for a sequence of clicks with
  the previous mask fed back, as the editor does, on a Berkeley-sized photo and on a 24 MP
  one (the zoom-in crop should make them cost the same); single pass as the baseline.

Medians over repeats, both physical cores. Prints a table and one JSON line.

    python benchmarks/bench_models.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.core.clicks.engine import Click, ClickSegmenter, find_click_model
from desktop_app.core.models import default_model_path
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import predict_alpha
from desktop_app.core.segment import Segmenter

SEG_SQUARE_TARGET_MS = 60.0
SEG_PHOTO_TARGET_MS = 90.0
CLICK_TARGET_MS = 100.0


def median_ms(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth synthetic photo with a bright disk as the subject (decoding is not timed)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (rng.integers(40, 90, 3)[None, None, :] + 40 * (xx / w)[..., None]).astype(np.uint8)
    disk = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 4) ** 2
    base[disk] = (200, 150, 120)
    return base


def network_rows(path: Path, repeats: int, targets: bool = True) -> list[dict]:
    """The network alone at the file's square size and at a 3:2 photo's keep-aspect size."""
    seg = Segmenter(path)
    rows = []
    for label, hw, target in [
        ("network, square input", seg.spec.input_size, SEG_SQUARE_TARGET_MS),
        ("network, 3:2 photo as fed (keep-aspect)", seg.spec.network_size(2000, 3000), SEG_PHOTO_TARGET_MS),
    ]:
        x = np.random.default_rng(0).standard_normal((1, 3, *hw)).astype(np.float32)
        rows.append(
            {
                "what": f"seg {path.name}: {label} {hw[0]}x{hw[1]}",
                "ms": median_ms(lambda x=x: seg.run(x), repeats),
                "target_ms": target if targets else None,
            }
        )
    return rows


def bench_segmentation(repeats: int, model: Path | None = None, baseline: Path | None = None) -> list[dict]:
    path = model or default_model_path()
    seg = Segmenter(path)
    rows = network_rows(path, repeats)
    if baseline is not None:
        rows += network_rows(baseline, repeats, targets=False)
    big = photo(3000, 4000)
    end_to_end = median_ms(lambda: seg.predict(big), max(3, repeats // 4))
    rows.append({"what": "seg predict, 12 MP photo end to end", "ms": end_to_end, "target_ms": None})
    click_path = find_click_model()
    if click_path is not None:  # the optional second pass (docs/decisions.md #8), same photo
        clicker = ClickSegmenter(click_path)
        options = RemoveOptions(second_pass=True)
        ms = median_ms(lambda: predict_alpha(seg, big, options, clicker), max(3, repeats // 4))
        rows.append({"what": "seg predict + second pass, 12 MP photo end to end", "ms": ms, "target_ms": None})
    return rows


def editor_preview(rgb: np.ndarray, min_side: int = 512) -> np.ndarray | None:
    """The smallest level of the editor's photo pyramid (halvings while the short side stays
    >= ``min_side``), which the click engine crops from when a zoom box is large."""
    small = rgb
    while min(small.shape[:2]) // 2 >= min_side:
        small = cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return None if small is rgb else small


def click_sequence_ms(engine: ClickSegmenter, rgb: np.ndarray, repeats: int) -> float:
    """Median ms per click over 3-click sessions (positive, negative, positive) along the
    editor's path (``predict_patch``, which the editor's worker calls): zoom-box prediction with
    the pyramid preview, pasted into a copy of the previous uint8 mask, which is fed back."""
    h, w = rgb.shape[:2]
    preview = editor_preview(rgb)
    clicks = [Click(w / 2, h / 2, True), Click(w * 0.1, h * 0.1, False), Click(w * 0.6, h * 0.5, True)]
    times = []
    for _ in range(max(1, repeats // 3)):
        mask = None
        for n in range(1, len(clicks) + 1):
            t = time.perf_counter()
            (x0, y0, x1, y1), patch = engine.predict_patch(rgb, clicks[:n], mask, preview)
            mask = np.zeros((h, w), np.uint8) if mask is None else mask.copy()  # the editor's submit copy
            mask[y0:y1, x0:x1] = patch
            times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def bench_clicks(repeats: int) -> list[dict]:
    path = find_click_model()
    if path is None:
        return []
    rows = []
    for label, flip in [("as shipped", None), ("single pass (baseline)", False)]:
        engine = ClickSegmenter(path, flip_average=flip)
        for size_label, rgb in [("481x321 (Berkeley)", photo(321, 481)), ("6000x4000 (24 MP)", photo(4000, 6000))]:
            click_sequence_ms(engine, rgb, 3)  # warm-up
            rows.append(
                {
                    "what": f"click {label}, {size_label}",
                    "ms": click_sequence_ms(engine, rgb, repeats),
                    "target_ms": CLICK_TARGET_MS,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", type=Path, help="segmentation file to time (default: the embedded default)")
    parser.add_argument("--baseline", type=Path, help="another segmentation file, timed the same way in this run")
    parser.add_argument("--no-clicks", action="store_true", help="skip the click model")
    args = parser.parse_args()
    rows = bench_segmentation(args.repeats, args.model, args.baseline)
    print_report("models", rows + ([] if args.no_clicks else bench_clicks(args.repeats)))
    return 0


def print_report(bench: str, rows: list[dict]) -> None:
    """The table (median, p90 when the rows have it, target and verdict) and one JSON line."""
    p90 = any("p90_ms" in r for r in rows)
    print(f"{'what':60s} {'median ms':>10s}" + (f" {'p90 ms':>8s}" if p90 else "") + f" {'target':>8s}")
    for r in rows:
        target = "" if r["target_ms"] is None else f"{r['target_ms']:.0f}"
        verdict = "" if r["target_ms"] is None else ("  ok" if r["ms"] <= r["target_ms"] else "  OVER")
        spread = f" {r['p90_ms']:8.1f}" if p90 else ""
        print(f"{r['what']:60s} {r['ms']:10.1f}{spread} {target:>8s}{verdict}")
    print(json.dumps({"bench": bench, "rows": rows}))


if __name__ == "__main__":
    sys.exit(main())
