"""Frame time of latent-slider generators (VAE decoder, GAN generator): is a frame under 16 ms?

Measures what a slider drag costs on the render worker: ``Generator.decode`` (onnxruntime run
+ conversion to uint8) for one latent at a time, with 1 thread and with every physical core,
and the raw session run alone. Prints a table and one JSON line (for CI logs / comparisons).

    python benchmarks/bench_decoder.py [--model emoji-vae --model emoji-gan ...] [--frames 300]

``--model`` repeats (a path or an embedded NAME); the default is every embedded generator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_app.core.latent.catalog import list_generators
from desktop_app.core.latent.generator import Generator, default_generator_path, find_generator
from desktop_app.core.session import clear_cache, physical_cores

BUDGET_MS = 16.0


def measure(path: Path, threads: int, frames: int) -> dict:
    clear_cache()
    gen = Generator(path, threads=threads)
    space = gen.info.space
    rng = np.random.default_rng(0)
    base = space.mean
    for _ in range(10):  # warm-up: first runs allocate memory arenas
        gen.decode(base)
    decode_ms, run_ms = [], []
    feed_name = gen.session.get_inputs()[0].name
    for i in range(frames):
        values = np.zeros(space.count)
        values[i % space.count] = np.sin(i / 10) * 3  # a drag: one slider sweeping
        z = space.move(base + rng.standard_normal(space.size) * 0.01, values)
        t = time.perf_counter()
        gen.decode(z)
        decode_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        gen.session.run(None, {feed_name: z[None].astype(np.float32)})
        run_ms.append((time.perf_counter() - t) * 1000)
    d, r = np.asarray(decode_ms), np.asarray(run_ms)
    return {
        "threads": threads,
        "frames": frames,
        "frame_ms_p50": float(np.median(d)),
        "frame_ms_p95": float(np.percentile(d, 95)),
        "frame_ms_max": float(d.max()),
        "run_ms_p50": float(np.median(r)),
        "fps_p50": 1000.0 / float(np.median(d)),
        "under_budget": float(np.mean(d <= BUDGET_MS)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", help="generator path or NAME (repeat); default: all embedded")
    p.add_argument("--frames", type=int, default=300)
    args = p.parse_args(argv)
    paths = [find_generator(m) for m in args.model] if args.model else [e.path for e in list_generators()]
    if not paths:
        paths = [default_generator_path()]
    report = []
    for path in paths:
        gen = Generator(path)
        rows = [measure(path, t, args.frames) for t in sorted({1, physical_cores()})]
        h, w = gen.info.image_size or (0, 0)
        print(
            f"{gen.info.kind_label} {path.name}: latent {gen.info.latent_size}, {w}x{h} px, "
            f"{path.stat().st_size / 1e6:.2f} MB, load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"{'threads':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'run p50':>8s} {'fps':>6s} {'<=16ms':>7s}"
        )
        for r in rows:
            print(
                f"{r['threads']:7d} {r['frame_ms_p50']:8.2f} {r['frame_ms_p95']:8.2f} {r['frame_ms_max']:8.2f} "
                f"{r['run_ms_p50']:8.2f} {r['fps_p50']:6.0f} {100 * r['under_budget']:6.1f}%"
            )
        report.append(
            {"model": path.name, "kind": gen.info.kind, "latent": gen.info.latent_size, "image": [h, w], "rows": rows}
        )
    print(json.dumps({"bench": "decoder", "budget_ms": BUDGET_MS, "load_avg": os.getloadavg()[0], "models": report}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
