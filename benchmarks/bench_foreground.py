"""Foreground-colour estimation: our numpy multilevel estimator (the default) and blur fusion
against pymatting, the estimator the app used before (numba, 1.5 s import per process).

On SOD photos with the embedded default model's alpha, every estimator runs through the same
bounded-resolution pipeline (``compose.estimate_foreground``); only the low-resolution F/B
solver differs. Reported per estimator:

* ``diff_vs_pymatting``: mean over photos of the alpha-weighted mean absolute colour
  difference from pymatting's result, in 1/255 steps (the bar: within 1 step on average);
* ``edge_ratio``: dark-fringe check. Mean brightness of the cut-out's soft edge (0.05 < a <
  0.95) composited on white, divided by the same for the photo's "true" colours proxy: the
  opaque subject pixels just inside the edge. Near 1: no fringe; naive colours over a dark
  background fall well below 1 on dark-background photos;
* time for one 12 MP photo (4240 x 2832, a SOD photo enlarged), median of 3 (interleaved
  rounds, so a busy machine slows every estimator alike), and the import cost.

Needs pymatting (``dev`` extra). Prints a table and one JSON line.
Run: ``.venv/bin/python benchmarks/bench_foreground.py [--n 100]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SOD = REPO.parent / "shared" / "datasets" / "sod" / "images"


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def edge_ratio(colours: np.ndarray, alpha: np.ndarray) -> float:
    """Edge brightness of the cut-out over the subject's brightness just inside the edge."""
    band = (alpha > 0.05) & (alpha < 0.95)
    if band.sum() < 20:
        return float("nan")
    opaque = alpha >= 0.95
    near = cv2.dilate(band.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & opaque
    if near.sum() < 20:
        return float("nan")
    return float(luma(colours)[band].mean() / max(1e-3, luma(colours)[near].mean()))


def weighted_diff(a: np.ndarray, b: np.ndarray, alpha: np.ndarray) -> float:
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    return float((diff * alpha).sum() / max(alpha.sum(), 1e-6))


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="SOD photos to compare")
    args = parser.parse_args()

    from desktop_app.core import compose
    from desktop_app.core.models import default_model_path
    from desktop_app.core.segment import Segmenter

    segmenter = Segmenter(default_model_path())
    photos = sorted(SOD.glob("*.webp"))[: args.n]
    rows: dict[str, dict[str, list[float]]] = {
        m: {"diff": [], "edge": []} for m in ("naive", "multilevel", "blur", "pymatting")
    }
    for path in photos:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        alpha = segmenter.predict(rgb)
        reference = compose.estimate_foreground(rgb, alpha, method="pymatting")
        for method in rows:
            colours = rgb if method == "naive" else compose.estimate_foreground(rgb, alpha, method=method)
            rows[method]["diff"].append(weighted_diff(colours, reference, alpha))
            rows[method]["edge"].append(edge_ratio(colours, alpha))
    source_edge = float(np.nanmean(rows["naive"]["edge"]))

    big = cv2.resize(cv2.cvtColor(cv2.imread(str(photos[0])), cv2.COLOR_BGR2RGB), (4240, 2832), cv2.INTER_CUBIC)
    big_alpha = cv2.resize(segmenter.predict(big), (4240, 2832))
    methods = ("multilevel", "blur", "pymatting")
    runs: dict[str, list[float]] = {m: [] for m in methods}
    for method in methods:
        compose.estimate_foreground(big, big_alpha, method=method)  # warm (JIT, caches)
    for _ in range(3):
        for method in methods:
            t = time.perf_counter()
            compose.estimate_foreground(big, big_alpha, method=method)
            runs[method].append(time.perf_counter() - t)
    times = {m: float(np.median(v)) for m, v in runs.items()}

    result = {
        "photos": len(photos),
        "diff_vs_pymatting_255": {m: float(np.mean(v["diff"])) for m, v in rows.items()},
        "edge_ratio": {m: float(np.nanmean(v["edge"])) for m, v in rows.items()},
        "source_edge_ratio": source_edge,
        "seconds_12mp": times,
        "import_s": {"pymatting": import_seconds("pymatting"), "cv2": import_seconds("cv2")},
    }
    print(f"{'estimator':12s} {'diff vs pymatting (1/255)':>26s} {'edge ratio':>11s} {'12 MP s':>8s}")
    for m in rows:
        t = times.get(m, float("nan"))
        print(f"{m:12s} {result['diff_vs_pymatting_255'][m]:26.3f} {result['edge_ratio'][m]:11.3f} {t:8.3f}")
    print(f"import: pymatting {result['import_s']['pymatting']:.2f} s, cv2 {result['import_s']['cv2']:.2f} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
