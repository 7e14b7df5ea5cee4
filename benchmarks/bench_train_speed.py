"""Training throughput (images/s) of SeedNet under the CPU speed-ups the trainer can use.

Compares, in one run and on the same random batches: fp32 vs bf16 autocast, NCHW vs
channels-last, eager vs ``torch.compile``, at one or more input sizes. Prints a table and one
JSON line. The first row (fp32, NCHW, eager) is the baseline for the speed-up column.

    python benchmarks/bench_train_speed.py --preset m --sizes 192,256 --steps 6
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from training.losses import deep_supervision_loss
from training.models.segnet import PRESETS, SegNet

VARIANTS = [  # (name, bf16, channels_last, compile)
    ("fp32", False, False, False),
    ("fp32+cl", False, True, False),
    ("bf16", True, False, False),
    ("bf16+cl", True, True, False),
    ("bf16+cl+compile", True, True, True),
]


def measure(preset: str, size: int, batch: int, steps: int, bf16: bool, cl: bool, compiled: bool) -> float:
    torch.manual_seed(0)
    model = SegNet(PRESETS[preset])
    x = torch.randn(batch, 3, size, size)
    y = (torch.rand(batch, 1, size, size) > 0.5).float()
    if cl:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    runner = torch.compile(model) if compiled else model
    opt = torch.optim.AdamW(model.parameters(), 1e-3)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            outs = runner(x, all_logits=True)
            loss, _ = deep_supervision_loss(outs, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2):  # warm-up (and compilation)
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--preset", default="m", choices=sorted(PRESETS))
    p.add_argument("--sizes", default="192,256")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-compile", action="store_true")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        base = None
        for name, bf16, cl, comp in VARIANTS:
            if comp and args.no_compile:
                continue
            try:
                ips = measure(args.preset, size, args.batch, args.steps, bf16, cl, comp)
            except Exception as exc:  # compile may be unavailable (no C++ toolchain, etc.)
                print(f"{name} at {size}: failed ({type(exc).__name__}: {exc})")
                continue
            base = base or ips
            rows.append({"size": size, "variant": name, "img_per_s": round(ips, 2), "speedup": round(ips / base, 2)})
    print(
        f"{'size':>5s} {'variant':18s} {'img/s':>8s} {'x base':>7s}   (preset {args.preset}, "
        f"batch {args.batch}, {torch.get_num_threads()} threads)"
    )
    for r in rows:
        print(f"{r['size']:5d} {r['variant']:18s} {r['img_per_s']:8.2f} {r['speedup']:7.2f}")
    print(json.dumps({"bench": "train_speed", "preset": args.preset, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
