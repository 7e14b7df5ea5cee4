"""The batch on Ray against the in-process engine, on this machine (``bench_batch.py --engine ray``).

What it measures, all in one run so the machine's load is the same for both engines:

1. **Cluster start-up**: ``ray.init`` of a private local Ray with this machine's cores.
2. **Overhead**: the same ``--photos`` photos (default 200) through ``run_batch`` (in process,
   session built inside the timing) and ``run_batch_ray`` (workers started inside the timing,
   Ray already up), interleaved rounds, best of ``--repeats``. Overhead = ray / local - 1.
   Both write real files; outputs are checked byte-identical.
3. **Where the time goes**: worker start-up (actors ready, model load per actor), CPU seconds
   per photo (the in-process engine's, i.e. the per-photo function's, and the Ray workers'),
   driver CPU per photo, bytes per photo through Ray (pickled task arguments and results),
   the model broadcast once per node.
4. **Driver ceiling**: how many photo tasks per second the driver's scheduling loop can push to
   no-op actors (the bound on cluster throughput from one driver).
5. **Planner**: seconds per file to walk and plan a tree of empty ``.jpg`` files (what a
   million-photo catalogue costs before the first photo is sent).
6. **Fresh processes**: ``seed-studio remove`` with each engine, start to exit (Ray's start-up
   included), one round each.

The load of the machine (1-minute load average, and the CPU share used by other processes
during each round) is printed beside each figure. Prints a table and one JSON line.
"""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _others_busy(before: tuple, after: tuple, own_cpu: float, cores: int) -> float:
    """Share of the machine's CPU time used by processes other than this benchmark's tree."""
    busy = (after[0] - before[0]) - own_cpu
    total = (after[1] - before[1]) or 1e-9
    return max(0.0, min(1.0, busy / total))


def _system_times() -> tuple[float, float]:
    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    total = sum(t)
    return total - idle, total


def _tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            c = psutil.Process(pid).cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass
    return total


def _ray_services() -> list[int]:
    """raylet, GCS and other processes of the local Ray this benchmark started (its descendants)."""
    return [p.pid for p in psutil.Process().children(recursive=True)]


def _local_round(src: Path, out: Path, model: Path) -> dict:
    from desktop_app.core.batch.engine import run_batch
    from desktop_app.core.options import RemoveOptions
    from desktop_app.core.segment import Segmenter
    from desktop_app.core.session import clear_cache

    clear_cache()
    sys_before, cpu0, load = _system_times(), _cpu(), os.getloadavg()[0]
    t0 = time.perf_counter()
    report = run_batch([src], out, RemoveOptions(model_path=model), Segmenter(model))
    wall = time.perf_counter() - t0
    own = _cpu() - cpu0
    assert report.ok and report.count("done") > 0, report.summary()
    n = report.count("done")
    return {"seconds": wall, "photos": n, "cpu_per_photo": own / n, "load1": load,
            "others_busy": _others_busy(sys_before, _system_times(), own, os.cpu_count() or 1)}  # fmt: skip


def _ray_round(src: Path, out: Path, model: Path, workers: int | None) -> dict:
    from desktop_app.core.batch.ray_engine import RaySettings, run_batch_ray
    from desktop_app.core.options import RemoveOptions

    services = _ray_services()
    pids: list[int] = []
    worker_cpu = [0.0]
    start_info: dict = {}

    def started(info: dict) -> None:
        start_info.update(info)
        pids.extend(w["pid"] for w in info["workers"])

    def progress(done: int, total: int, _item) -> None:
        if done == total:  # workers are killed right after the last photo: read their CPU now
            worker_cpu[0] = _tree_cpu(pids)

    sys_before, cpu0, svc0, load = _system_times(), _cpu(), _tree_cpu(services), os.getloadavg()[0]
    t0 = time.perf_counter()
    report = run_batch_ray([src], out, RemoveOptions(model_path=model), RaySettings(workers=workers), progress,
                           started=started)  # fmt: skip
    wall = time.perf_counter() - t0
    driver, svc = _cpu() - cpu0, _tree_cpu(services) - svc0
    assert report.ok and report.count("done") > 0, report.summary()
    n = report.count("done")
    own = driver + svc + worker_cpu[0]
    return {"seconds": wall, "photos": n, "workers": len(pids), "workers_start_s": start_info["workers_start_s"],
            "model_load_s": max(w["load_seconds"] for w in start_info["workers"]),
            "worker_cpu_per_photo": worker_cpu[0] / n, "driver_cpu_per_photo": driver / n,
            "ray_services_cpu_per_photo": svc / n, "load1": load,
            "others_busy": _others_busy(sys_before, _system_times(), own, os.cpu_count() or 1)}  # fmt: skip


class Echo:
    """A no-op worker: what the driver's scheduling loop costs per photo, with no photo."""

    def info(self) -> dict:
        return {"pid": os.getpid()}

    def process(self, item):
        item.status = "done"
        return item


def driver_ceiling(n: int = 3000, workers: int = 2) -> dict:
    import ray

    from desktop_app.core.batch.plan import BatchItem
    from desktop_app.core.batch.ray_engine import RaySettings, _schedule
    from desktop_app.core.batch.report import BatchControl

    actors = [ray.remote(Echo).options(num_cpus=0).remote() for _ in range(workers)]
    ray.get([a.info.remote() for a in actors])
    items = [BatchItem(Path(f"/data/in/{i:07d}.jpg"), Path(f"/data/out/{i:07d}.png")) for i in range(n)]
    cpu0, t0 = _cpu(), time.perf_counter()
    _schedule(ray, actors, items, lambda it: None, BatchControl(), RaySettings(in_flight=16))
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    for a in actors:
        ray.kill(a)
    arg = len(pickle.dumps(items[0]))
    return {"tasks": n, "in_flight": 16 * workers, "tasks_per_s": n / wall, "driver_cpu_per_task_ms": 1000 * cpu / n,
            "pickled_item_bytes": arg}  # fmt: skip


def planner_cost(work: Path, n: int = 20000) -> dict:
    from desktop_app.core.batch.plan import prepare_batch
    from desktop_app.core.options import RemoveOptions

    src = work / "plan-tree"
    for i in range(n):
        folder = src / f"d{i % 50:02d}"
        if i < 50:
            folder.mkdir(parents=True)
        (folder / f"{i:06d}.jpg").touch()
    t0, c0 = time.perf_counter(), _cpu()
    items = prepare_batch([src], work / "plan-out", RemoveOptions())
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    shutil.rmtree(src, ignore_errors=True)
    return {"files": len(items), "seconds": secs, "us_per_file": 1e6 * secs / len(items),
            "cpu_us_per_file": 1e6 * cpu / len(items)}  # fmt: skip


def fresh_processes(src: Path, work: Path, model: Path) -> dict:
    exe = Path(sys.executable).with_name("seed-studio")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "desktop_app"]
    out: dict = {}
    for engine in ("local", "ray"):
        dst = work / f"cli-{engine}"
        t0 = time.perf_counter()
        proc = subprocess.run([*base, "remove", str(src), "-o", str(dst), "--model", str(model), "-q", "--engine",
                               engine], capture_output=True, text=True, cwd=REPO)  # fmt: skip
        out[engine] = {"seconds": round(time.perf_counter() - t0, 2), "rc": proc.returncode,
                       "load1": round(os.getloadavg()[0], 2)}  # fmt: skip
        if proc.returncode != 0:
            out[engine]["stderr"] = proc.stderr[-500:]
        shutil.rmtree(dst, ignore_errors=True)
    return out


def run(model: Path, src: Path, work: Path, repeats: int, workers: int | None, fresh: bool) -> dict:
    """All measurements; ``src`` holds the photos."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import logging

    import ray

    load0 = os.getloadavg()
    t0 = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024**2, logging_level=logging.ERROR)  # fmt: skip
    cluster_start = time.perf_counter() - t0
    rounds: dict[str, list[dict]] = {"local": [], "ray": []}
    try:
        for r in range(repeats):
            order = ("local", "ray") if r % 2 == 0 else ("ray", "local")
            for engine in order:
                out = work / f"out-{engine}-{r}"
                if engine == "local":
                    rounds[engine].append(_local_round(src, out, model))
                else:
                    rounds[engine].append(_ray_round(src, out, model, workers))
            a, b = work / f"out-local-{r}", work / f"out-ray-{r}"
            same = all((a / p.relative_to(b)).read_bytes() == p.read_bytes() for p in b.rglob("*.png"))
            rounds.setdefault("identical", []).append(same)  # type: ignore[arg-type]
            shutil.rmtree(a, ignore_errors=True)
            shutil.rmtree(b, ignore_errors=True)
        ceiling = driver_ceiling()
    finally:
        ray.shutdown()
    best_local = min(rounds["local"], key=lambda d: d["seconds"])
    best_ray = min(rounds["ray"], key=lambda d: d["seconds"])
    result = {
        "cpu_count": os.cpu_count(), "load_before": [round(x, 2) for x in load0],
        "cluster_start_s": round(cluster_start, 2), "rounds": rounds, "best_local": best_local, "best_ray": best_ray,
        "overhead_pct": round(100 * (best_ray["seconds"] / best_local["seconds"] - 1), 1),
        "overhead_pct_per_round": [round(100 * (r["seconds"] / l["seconds"] - 1), 1)
                                   for l, r in zip(rounds["local"], rounds["ray"], strict=True)],  # noqa: E741
        "driver_ceiling": ceiling, "planner": planner_cost(work),
        "model_bytes_per_node": model.stat().st_size,
    }  # fmt: skip
    if fresh:
        result["fresh_processes"] = fresh_processes(src, work, model)
    return result


def print_table(res: dict) -> None:
    bl, br = res["best_local"], res["best_ray"]
    n = bl["photos"]
    rows = [
        ("machine load before (1/5/15 min)", " / ".join(map(str, res["load_before"])) + f" on {res['cpu_count']} CPUs"),
        ("local Ray cluster start-up", f"{res['cluster_start_s']:.2f} s"),
        (f"in process, {n} photos (best)", f"{bl['seconds']:.2f} s = {n / bl['seconds']:.1f} photos/s, "
         f"{1000 * bl['cpu_per_photo']:.0f} ms CPU/photo, load {bl['load1']:.1f}, others {bl['others_busy']:.0%}"),
        (f"Ray, {br['workers']} workers (best)", f"{br['seconds']:.2f} s = {n / br['seconds']:.1f} photos/s, "
         f"load {br['load1']:.1f}, others {br['others_busy']:.0%}"),
        ("overhead (best vs best; per round)", f"{res['overhead_pct']:+.1f} %; {res['overhead_pct_per_round']}"),
        ("outputs identical", str(all(res["rounds"]["identical"]))),
        ("workers ready (incl. model load)", f"{br['workers_start_s']:.2f} s (model load {br['model_load_s']:.2f} s)"),
        ("Ray worker CPU per photo", f"{1000 * br['worker_cpu_per_photo']:.0f} ms (incl. start-up)"),
        ("driver + Ray services CPU per photo", f"{1000 * br['driver_cpu_per_photo']:.1f} + "
         f"{1000 * br['ray_services_cpu_per_photo']:.1f} ms"),
        ("driver ceiling (no-op workers)", f"{res['driver_ceiling']['tasks_per_s']:.0f} tasks/s, "
         f"{res['driver_ceiling']['driver_cpu_per_task_ms']:.2f} ms driver CPU per task"),
        ("bytes per photo through Ray", f"{res['driver_ceiling']['pickled_item_bytes']} B each way (task arg, result)"),
        ("model through the object store", f"{res['model_bytes_per_node'] / 1e6:.1f} MB once per node"),
        ("planner", f"{res['planner']['us_per_file']:.0f} us per file, {res['planner']['cpu_us_per_file']:.0f} us CPU "
                    f"({res['planner']['files']} files)"),
    ]  # fmt: skip
    for engine, d in res.get("fresh_processes", {}).items():
        rows.append((f"fresh `seed-studio remove --engine {engine}`", f"{d['seconds']:.2f} s (rc {d['rc']})"))
    for label, value in rows:
        print(f"  {label:38s} {value}")
