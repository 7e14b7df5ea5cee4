"""Long fuzz run of the decoder and the batch planner (issue #25): ten minutes by default.

The same strategies and properties as the bounded CI test (tests/core/test_fuzz_hostile.py,
tests/helpers/fuzz.py), run for a wall-clock budget instead of a fixed number of examples:

* **decode**: random bytes, truncated and bit-flipped real files of every supported format,
  real headers with junk tails -> ``load_image`` from memory and from a file must return a
  well-formed image or raise ImageLoadError, nothing else;
* **batch**: random trees of photos, junk, empty files, FIFOs and symlinks (to files, folders,
  themselves, in loops, to nowhere, to /dev/zero), with the output folder beside or equal to
  the input -> ``run_batch`` must finish, report every entry once with a final status and a
  reason, write distinct outputs that are never inputs, leave inputs untouched, and find
  nothing new to do on a rerun.

Failures are counted, not shrunk (the run keeps going); the first few are printed with their
input. A case that takes over ``--hang-s`` seconds is reported as a hang and ends the run.
Prints a table and one JSON line. Run: ``nice -n 19 .venv/bin/python benchmarks/fuzz_hostile.py``
(``--minutes 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from helpers.fuzz import (  # noqa: E402
    REAL,
    build_tree,
    check_decode,
    check_report,
    hostile_bytes,
    regular_hashes,
    tree_specs,
)
from helpers.tiny_models import make_seg_model  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from desktop_app.core.batch.engine import run_batch  # noqa: E402
from desktop_app.core.options import RemoveOptions  # noqa: E402
from desktop_app.core.segment import Segmenter  # noqa: E402


class Tally:
    """Cases tried and failures per kind; the case in progress for the hang watchdog."""

    def __init__(self) -> None:
        self.cases = {"decode": 0, "batch": 0}
        self.failed = {"decode": 0, "batch": 0}
        self.outcomes: dict[str, int] = {}
        self.examples: list[dict] = []
        self.seconds = {"decode": 0.0, "batch": 0.0}
        self.current: tuple[str, float, str] | None = None

    def fail(self, kind: str, case: str, exc: BaseException) -> None:
        self.failed[kind] += 1
        if len(self.examples) < 5:
            self.examples.append({"kind": kind, "case": case[:400], "error": f"{type(exc).__name__}: {exc}"[:400],
                                  "where": traceback.format_exc(limit=-3)[-600:]})  # fmt: skip


def settings_for(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))  # fmt: skip


def decode_round(tally: Tally, work: Path, n: int) -> None:
    @settings_for(n)
    @given(data=hostile_bytes(), name=st.sampled_from(["x.jpg", "x.png", "x", "x.webp", "x.tif"]))
    def one(data: bytes, name: str) -> None:
        tally.cases["decode"] += 1
        tally.current = ("decode", time.monotonic(), repr(data[:200]))
        try:
            outcome = check_decode(data, work, name)
            tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
        except Exception as exc:
            tally.fail("decode", f"{name}: {data[:120]!r} ({len(data)} bytes)", exc)

    one()


def batch_round(tally: Tally, work: Path, segmenter: Segmenter, n: int) -> None:
    opts = RemoveOptions(foreground_estimation=False)

    @settings_for(n)
    @given(spec=tree_specs, in_place=st.booleans())
    def one(spec: list[tuple[str, str, str]], in_place: bool) -> None:
        tally.cases["batch"] += 1
        tally.current = ("batch", time.monotonic(), repr(spec))
        base = Path(tempfile.mkdtemp(prefix="tree-", dir=work))
        try:
            root = base / "in"
            build_tree(root, spec, REAL[0])
            out = root if in_place else base / "out"
            before = regular_hashes(root)
            check_report(run_batch([root], out, opts, segmenter), root, out, before)
            again = run_batch([root], out, opts, segmenter)
            assert again.count("done") == 0, "a rerun found new work: outputs were taken for inputs"
            check_report(again, root, out, before)
        except Exception as exc:
            tally.fail("batch", f"in_place={in_place} spec={spec!r}", exc)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    one()


def watchdog(tally: Tally, hang_s: float, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        cur = tally.current
        if cur is not None and time.monotonic() - cur[1] > hang_s:
            print(f"HANG: a {cur[0]} case ran over {hang_s:.0f} s: {cur[2][:300]}", file=sys.stderr, flush=True)
            report(tally, time.monotonic() - STARTED, hang=cur)
            os._exit(1)


def report(tally: Tally, elapsed: float, hang: tuple | None = None) -> None:
    print(f"\nfuzz_hostile: {elapsed / 60:.1f} min")
    print(f"{'kind':<8} {'cases':>8} {'failures':>9} {'cases/s':>8}")
    for kind in ("decode", "batch"):
        secs = max(tally.seconds[kind], 1e-9)
        print(f"{kind:<8} {tally.cases[kind]:>8} {tally.failed[kind]:>9} {tally.cases[kind] / secs:>8.1f}")
    print(f"decode outcomes: {tally.outcomes}")
    for ex in tally.examples:
        print(f"- {ex['kind']}: {ex['error']}\n  case: {ex['case']}\n  {ex['where']}")
    line = {
        "bench": "fuzz_hostile", "minutes": round(elapsed / 60, 2),
        "decode_cases": tally.cases["decode"], "decode_failures": tally.failed["decode"],
        "batch_cases": tally.cases["batch"], "batch_failures": tally.failed["batch"],
        "decode_outcomes": tally.outcomes, "hang": hang[2][:300] if hang else None,
        "first_failures": [{k: v for k, v in ex.items() if k != "where"} for ex in tally.examples],
    }  # fmt: skip
    print(json.dumps(line))


STARTED = time.monotonic()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--hang-s", type=float, default=120.0, help="a case running longer than this is a hang")
    args = ap.parse_args()
    tally = Tally()
    stop = threading.Event()
    threading.Thread(target=watchdog, args=(tally, args.hang_s, stop), daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="fuzz-hostile-"))
    try:
        segmenter = Segmenter(make_seg_model(work / "seed.onnx"))
        deadline = STARTED + args.minutes * 60
        while time.monotonic() < deadline:
            for kind, fn in (("decode", lambda: decode_round(tally, work, 200)),
                             ("batch", lambda: batch_round(tally, work, segmenter, 10))):  # fmt: skip
                t0 = time.monotonic()
                fn()
                tally.seconds[kind] += time.monotonic() - t0
                tally.current = None
                if time.monotonic() >= deadline:
                    break
    finally:
        stop.set()
        shutil.rmtree(work, ignore_errors=True)
    report(tally, time.monotonic() - STARTED)
    return 1 if any(tally.failed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
