"""Peak memory and time of ``seed-studio remove`` on hostile inputs (issue #25).

Each case is a folder with one real photo plus one hostile entry, run through the CLI in a
fresh process (``--model`` a tiny generated model, so the figures are the pipeline's, not a
network's): the peak RSS of that process (``ru_maxrss`` of a wrapper's only child), its wall
time, exit status and the line it printed about the hostile entry.

* ``baseline``: the photo alone;
* ``dev-zero``: ``zero.jpg`` -> ``/dev/zero`` (before #25: memory grew until killed);
* ``1.5 GB junk``: a sparse 1.5 GB non-image named ``.jpg`` (before: read whole, 1.76 GB);
* ``300 MB junk``: the same under the 1 GB cap (now only its header is read);
* ``fifo``: a FIFO named ``pipe.jpg`` (before: hung; one Ctrl-C did not stop it).

Runs are capped (address space ``--cap-gb``, ``--timeout-s`` then SIGINT, SIGKILL 5 s later) so
the *before* figures can be measured safely: ``--code-root /path/to/old/checkout`` runs another
checkout's code. Prints a table and one JSON line. Run:
``nice -n 19 .venv/bin/python benchmarks/bench_hostile_memory.py [--code-root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

# The wrapper: run the CLI as its only child with an address-space cap, report the child's peak.
WRAPPER = r"""
import json, resource, signal, subprocess, sys, time
cmd, cap, timeout = json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
t0 = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit)
how = "exited"
try:
    err = p.communicate(timeout=timeout)[1]
except subprocess.TimeoutExpired:
    p.send_signal(signal.SIGINT)
    how = "timeout, SIGINT"
    try:
        err = p.communicate(timeout=5)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        err = p.communicate()[1]
        how = "timeout, SIGINT ignored, SIGKILL"
wall = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": p.returncode, "how": how, "wall": wall, "peak_mb": peak_kb / 1024,
                  "stderr": err.decode(errors="replace")[-4000:]}))
"""


def make_cases(root: Path, photo: Path) -> dict[str, Path]:
    cases: dict[str, Path] = {}

    def folder(name: str) -> Path:
        d = root / name
        d.mkdir(parents=True)
        shutil.copy(photo, d / "photo.png")
        cases[name] = d
        return d

    folder("baseline")
    if os.path.exists("/dev/zero"):
        (folder("dev-zero") / "zero.jpg").symlink_to("/dev/zero")
    for name, size in (("1.5 GB junk", int(1.5 * 2**30)), ("300 MB junk", 300 * 2**20)):
        with open(folder(name) / "junk.jpg", "wb") as fh:
            fh.write(b"not a photo at all" * 8)
            fh.truncate(size)  # sparse: nothing on disk
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder("fifo") / "pipe.jpg")
    return cases


def about(stderr: str, hostile: str | None) -> str:
    """The line the CLI printed about the hostile entry (or its last line)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if hostile:
        hit = [ln for ln in lines if hostile in ln]
        if hit:
            return hit[-1].split(f"{hostile}: ", 1)[-1][:110]
    return (lines[-1] if lines else "")[:110]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--code-root", type=Path, default=REPO, help="checkout whose desktop_app to run")
    ap.add_argument("--cap-gb", type=float, default=4.0)
    ap.add_argument("--timeout-s", type=float, default=60.0)
    args = ap.parse_args()
    from helpers.tiny_models import make_seg_model

    work = Path(tempfile.mkdtemp(prefix="hostile-mem-"))
    rows = []
    try:
        model = make_seg_model(work / "tiny.onnx")
        cases = make_cases(work / "cases", REPO / "assets" / "samples" / "chelsea.png")
        env = {**os.environ, "PYTHONPATH": str(args.code_root.resolve())}
        for name, folder in cases.items():
            hostile = next((p.name for p in folder.iterdir() if p.name != "photo.png"), None)
            cli = [sys.executable, "-m", "desktop_app", "remove", str(folder), "-o", str(work / "out" / name),
                   "--model", str(model), "-q", "--no-fg-estimation"]  # fmt: skip
            proc = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(cli), str(int(args.cap_gb * 2**30)),
                                   str(args.timeout_s)], capture_output=True, cwd=work, env=env, text=True)  # fmt: skip
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append({"case": name, "rc": res["rc"], "how": res["how"], "wall_s": round(res["wall"], 2),
                         "peak_mb": round(res["peak_mb"], 1), "said": about(res["stderr"], hostile)})  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"code: {args.code_root}  (address-space cap {args.cap_gb} GB, timeout {args.timeout_s:.0f} s)")
    print(f"{'case':<13} {'rc':>4} {'peak MB':>8} {'wall s':>7}  what it said")
    for r in rows:
        end = "" if r["how"] == "exited" else f"  [{r['how']}]"
        print(f"{r['case']:<13} {r['rc']!s:>4} {r['peak_mb']:>8.0f} {r['wall_s']:>7.1f}  {r['said']}{end}")
    print(json.dumps({"bench": "hostile_memory", "code_root": str(args.code_root), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
