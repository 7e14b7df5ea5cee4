"""Wall-clock time of the generator's smoke run on the real Fluent Emoji images: is it under the
60 s a CI run can spend on it?

The same steps as ``tests/train/test_gen.py::test_real_emoji_smoke`` (load 24 images at 64 px,
then ``gen train`` with the tiny preset for 3 steps on one thread), timed here instead of
asserted there: a unit test that fails when the machine is busy says nothing about the code.
Prints a table line per stage and one JSON line; exit status 1 when over budget.

    python benchmarks/bench_gen_smoke.py [--data ../shared/datasets/fluent-emoji-3d] [--budget 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.data.emoji import load_emoji  # noqa: E402
from training.gen.cli import add_gen_commands, run  # noqa: E402

BUDGET_S = 60.0


def gen_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_gen_commands(parser.add_subparsers(dest="task", required=True))
    return run(parser.parse_args(["gen", *argv]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "fluent-emoji-3d")
    ap.add_argument("--budget", type=float, default=BUDGET_S, help="seconds (default %(default)s)")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"bench_gen_smoke: {args.data} not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="seed-gen-smoke-") as tmp:
        os.environ["SEED_CACHE"] = str(Path(tmp) / "cache")  # a cold cache, as in CI
        t0 = time.perf_counter()
        images, _stems = load_emoji(args.data, 64, limit=24)
        t_load = time.perf_counter() - t0
        argv = ["train", "--data", str(args.data), "--out", str(Path(tmp) / "run"), "--preset", "tiny", "--limit",
                "24", "--epochs", "1", "--max-steps", "3", "--batch-size", "4", "--threads", "1"]  # fmt: skip
        code = gen_main(argv)
        total = time.perf_counter() - t0
    if code != 0:
        print(f"bench_gen_smoke: gen train exited with {code}", file=sys.stderr)
        return 1
    ok = total < args.budget
    print(f"{'stage':14s} {'seconds':>8s}")
    print(f"{'load 24 images':14s} {t_load:8.2f}")
    print(f"{'load + train':14s} {total:8.2f}   budget {args.budget:.0f} s: {'ok' if ok else 'OVER'}")
    result = {"bench": "gen_smoke", "images": int(images.shape[0]), "load_s": round(t_load, 2),
              "total_s": round(total, 2), "budget_s": args.budget, "ok": ok}  # fmt: skip
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
