"""Start-up as a person sees it: launch -> window mapped, launch -> photo shown.

Each round starts a fresh ``seed-studio PHOTO`` process (``python -m desktop_app PHOTO``) on a
real X display, with an empty settings folder, and polls the X server with ``xdotool`` every
10 ms: *mapped* is the first moment a visible window named "Seed Studio" exists, *photo shown*
the first moment its title names the photo (the title is set as the canvas receives the photo).
Times run from just before the process is spawned, so they include the interpreter, imports,
building the window and decoding the photo. Median of ``--runs`` rounds (goals: mapped <= 1.0 s,
photo <= 1.5 s, on an idle machine).

Without ``--display`` an Xvfb server is started on a free display number for the run (Debian:
``apt-get install xvfb xdotool libxcb-cursor0``). ``--baseline DIR`` runs the same command from
another checkout (e.g. ``git worktree add /tmp/main-wt main``) in interleaved rounds, so a busy
machine slows both alike and the ratio stays meaningful.

Prints a table and one JSON line. Run:
``python benchmarks/bench_startup.py [--runs 3] [--photo P] [--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOD = REPO.parent / "shared" / "datasets" / "sod" / "images"
POLL_S = 0.01


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb server on a free display; ``-displayfd`` reports the number once it accepts clients."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb not found: apt-get install xvfb xdotool libxcb-cursor0 (or pass --display)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        raise SystemExit("could not start Xvfb")
    return proc, f":{number}"


def visible(display: str, pattern: str) -> bool:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", pattern],
        capture_output=True, env={**os.environ, "DISPLAY": display},
    )  # fmt: skip
    return found.returncode == 0 and bool(found.stdout.strip())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), all its threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def one_launch(tree: Path, photo: Path, display: str, timeout: float) -> dict[str, float]:
    """Seconds from spawn to the window being mapped and to the photo's name in its title, and
    the app's CPU seconds at those moments (a busy machine stretches wall time, not CPU time)."""
    settings = Path(tempfile.mkdtemp(prefix="seed-startup-settings-"))
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(tree),
           "SEED_STUDIO_SETTINGS_DIR": str(settings)}  # fmt: skip
    milestones = {"mapped": "Seed Studio", "photo": re.escape(photo.name)}
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", str(photo)], cwd=tree, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        while not all(key in times for key in milestones):
            now = time.perf_counter() - t0
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited early: {proc.stderr.read().decode()[-800:]}")
            if now > timeout:
                raise RuntimeError(f"timed out after {timeout} s; reached {sorted(times)}")
            for key, pattern in milestones.items():
                if key not in times and visible(display, pattern):
                    times[key] = now
                    times[f"{key}_cpu"] = cpu_seconds(proc.pid)
            time.sleep(POLL_S)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(settings, ignore_errors=True)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--photo", type=Path, help="photo to open (default: the first SOD photo)")
    ap.add_argument("--baseline", type=Path, help="another checkout to time the same way, interleaved")
    ap.add_argument("--display", help="use this X display instead of starting Xvfb")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    photo = args.photo or next(iter(sorted(SOD.glob("*.webp"))), None)
    if photo is None:
        raise SystemExit("no photo: pass --photo")
    xvfb, display = (None, args.display) if args.display else start_xvfb()
    trees = {"this tree": REPO, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
    try:
        for _ in range(args.runs):
            for label, tree in trees.items():
                runs[label].append(one_launch(tree, photo.resolve(), display, args.timeout))
    finally:
        if xvfb is not None:
            xvfb.terminate()
    result: dict = {"bench": "bench_startup", "photo": str(photo), "runs": args.runs, "cpu_count": os.cpu_count()}
    print(f"launch -> window mapped / photo shown, median of {args.runs} (Xvfb, xdotool polled every 10 ms)")
    print(f"{'tree':12s} {'mapped s':>9s} {'photo s':>8s} {'CPU s':>12s}   all runs (mapped/photo)")
    for label, rounds in runs.items():
        med = {k: statistics.median(r[k] for r in rounds) for k in ("mapped", "photo", "mapped_cpu", "photo_cpu")}
        result[label.replace(" ", "_")] = {
            "mapped_s": round(med["mapped"], 3), "photo_s": round(med["photo"], 3),
            "mapped_cpu_s": round(med["mapped_cpu"], 3), "photo_cpu_s": round(med["photo_cpu"], 3),
            "runs": [{k: round(v, 3) for k, v in r.items()} for r in rounds],
        }  # fmt: skip
        detail = ", ".join(f"{r['mapped']:.2f}/{r['photo']:.2f}" for r in rounds)
        cpu = f"{med['mapped_cpu']:.2f}/{med['photo_cpu']:.2f}"
        print(f"{label:12s} {med['mapped']:9.2f} {med['photo']:8.2f} {cpu:>12s}   {detail}")
    print("CPU s: the app's user+system CPU seconds (all threads) at mapped/photo shown")
    print("goals: mapped <= 1.0 s, photo shown <= 1.5 s (idle machine)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
