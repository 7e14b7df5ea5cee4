"""The batch on a Ray cluster: the same plan and per-photo work as the in-process engine.

The driver (this process) walks the inputs and decides every output and skip with the same
planner as :func:`~desktop_app.core.batch.engine.run_batch`; Ray only runs the per-photo work.
Each actor is a :class:`~desktop_app.core.batch.worker.PhotoWorker` holding one onnxruntime
session; it is handed (source, output) paths and reads and writes the files itself, so photo
bytes never enter the object store (inputs and outputs live on a file system every node sees).
The model file is the one thing sent through the object store, once per node, so nodes need no
shared model path.

Plain Ray Core actors rather than Ray Data: the work items are a few hundred bytes of paths, so
a dataset adds nothing but its executor's start-up and its own progress bars, and here the
driver keeps what the CLI promises: a tqdm bar driven by completions, a report with every
failure, and Ctrl-C leaving no partial file.

Faults: a worker process that dies (SIGKILL, OOM, a lost node) is restarted by Ray and its
queued and running photos retried (``max_task_retries``); a photo still failing after that is
sent once more (it may have died behind another photo), then reported. A photo that fails
deterministically (a corrupt file) comes back as a FAILED item, not an exception, so it is
reported once and never retried. Outputs are written to a temp file and renamed, so a kill
never leaves a half-written image under a real name; stray temp files are deleted once the
workers are gone. ``import ray`` happens only inside :func:`run_batch_ray`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.batch.plan import (
    CANCELLED,
    FAILED,
    PENDING,
    BatchItem,
    PathInputs,
    as_path_list,
    output_folders,
    prepare_batch,
)
from desktop_app.core.batch.report import BatchControl, BatchReport
from desktop_app.core.batch.worker import PhotoWorker
from desktop_app.core.errors import ModelError, SeedStudioError
from desktop_app.core.files import remove_stale_temps
from desktop_app.core.models import default_model_path, load_spec
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import check_background
from desktop_app.core.second_pass import default_clicker

KILL_WAIT_S = 10.0  # after Ctrl-C: how long to wait for killed workers to be reported dead


class RayNotInstalled(SeedStudioError):
    """``--engine ray`` without the ``ray`` extra."""


class RayStartError(SeedStudioError):
    """Ray could not be started (local) or joined (``--ray-address``)."""


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to run. ``address`` None starts a private local Ray with this
    machine's cores; otherwise it is joined (``auto``, ``ray://host:10001``, ``host:6379``).
    ``workers`` None means one per ``cpus_per_worker`` CPUs of the cluster (one per GPU when
    CUDA is asked for). ``in_flight`` photos are queued per worker so it never idles between
    two of them while the driver collects the last result."""

    address: str | None = None
    workers: int | None = None
    providers: tuple[str, ...] | None = None
    cpus_per_worker: int = 1
    in_flight: int = 2
    max_retries: int = 3
    ready_timeout_s: float = 300.0

    @property
    def wants_gpu(self) -> bool:
        return bool(self.providers) and "CUDAExecutionProvider" in (self.providers or ())


def import_ray() -> Any:
    """``import ray``, with a message that says how to get it (and never a usage-stats upload:
    the app promises no network traffic of its own)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise RayNotInstalled(
            "the ray engine needs Ray: pip install 'seed-studio[ray]' (or use the default --engine local)"
        ) from exc
    return ray


def connect(ray: Any, settings: RaySettings) -> bool:
    """Join ``settings.address``, or start a local Ray (``address="local"`` never attaches to a
    cluster someone else started here). Returns True when this call started or joined Ray (so
    the run disconnects at the end), False when the process was already connected."""
    if ray.is_initialized():
        return False
    common = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        if settings.address:
            ray.init(address=settings.address, **common)
        else:
            # The object store only ever holds the model file and a few hundred bytes per photo.
            ray.init(address="local", num_cpus=os.cpu_count() or 1, object_store_memory=200 * 1024**2, **common)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError or a bare Exception here
        where = f"join the Ray cluster at {settings.address}" if settings.address else "start a local Ray"
        raise RayStartError(f"cannot {where}: {_cause(exc)}") from exc
    return True


def _start_workers(ray: Any, options: RemoveOptions, settings: RaySettings, todo: int) -> tuple[list, list[dict], Any]:
    """Create the actors and wait until their models are loaded; returns (actors, their info,
    the model's object ref). The caller must hold the ref for the whole run: a restarted actor
    runs its constructor again with the same argument, and Ray frees an object nobody holds.

    Workers that do not come up within ``ready_timeout_s`` (no room for them in the cluster)
    are dropped if at least one did; a worker that fails to start (a missing provider, a bad
    model) fails the run with its own message.
    """
    assert options.model_path is not None
    resources = ray.cluster_resources()
    if settings.wants_gpu and resources.get("GPU", 0) < 1:
        raise ModelError("cuda was asked for, but the Ray cluster has no GPU (ray.cluster_resources() lists none)")
    if settings.workers:
        n = settings.workers
    elif settings.wants_gpu:
        n = int(resources.get("GPU", 1))
    else:
        n = int(resources.get("CPU", 1) // settings.cpus_per_worker)
    n = max(1, min(n, todo))
    remote = ray.remote(PhotoWorker).options(
        num_cpus=settings.cpus_per_worker, num_gpus=1 if settings.wants_gpu else 0,
        max_restarts=-1, max_task_retries=settings.max_retries,
    )  # fmt: skip
    model_ref = ray.put(Path(options.model_path).read_bytes())
    providers = list(settings.providers) if settings.providers else None
    actors = [remote.remote(options, providers, settings.cpus_per_worker, model_ref) for _ in range(n)]
    pings = {a.info.remote(): a for a in actors}
    ready, late = ray.wait(list(pings), num_returns=len(pings), timeout=settings.ready_timeout_s)
    if not ready:
        for a in actors:
            ray.kill(a)
        cpus = f"{settings.cpus_per_worker} free CPU{'s' if settings.cpus_per_worker > 1 else ''}"
        raise ModelError(
            f"no Ray worker started within {settings.ready_timeout_s:.0f} s (does the cluster have {cpus}?)"
        )
    try:
        infos = ray.get(ready)
    except ray.exceptions.RayError as exc:
        for a in actors:
            ray.kill(a)
        raise ModelError(f"a Ray worker could not start: {_cause(exc)}") from None
    for ref in late:
        ray.kill(pings[ref])
    return [pings[ref] for ref in ready], infos, model_ref


_RAISED = re.compile(r"^\s*(?:[\w.]+\.)?(\w*(?:Error|Exception|Rejected|Unavailable|Died)): (.+)$")


def _cause(exc: BaseException) -> str:
    """The worker's own error message out of Ray's wrapping (a traceback, the actor's repr):
    the last ``SomeError: message`` line of it (our ModelError's sentence, for instance),
    else its last line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for line in reversed(lines):
        m = _RAISED.match(line)
        if m and not m.group(1).startswith(("Ray", "Actor")):
            return m.group(2)
    return lines[-1] if lines else type(exc).__name__


def run_batch_ray(
    inputs: PathInputs,
    output_dir: str | os.PathLike[str],
    options: RemoveOptions,
    settings: RaySettings | None = None,
    progress: Callable[[int, int, BatchItem], None] | None = None,
    control: BatchControl | None = None,
    explicit_output: str | os.PathLike[str] | None = None,
    started: Callable[[dict], None] | None = None,
) -> BatchReport:
    """:func:`~desktop_app.core.batch.engine.run_batch` with the per-photo work on Ray actors.

    Same plan, outputs, skips, report and ``progress(finished, total, item)`` calls (on this
    thread, one per item, as results arrive). ``started(info)`` is called once the workers
    are up (cluster start and worker start-up times, one record per worker). Raises
    RayNotInstalled, ModelError (no model, a provider missing on the workers, no worker
    started) or ImageLoadError (a background that is not an image) before any photo is done;
    a KeyboardInterrupt kills the workers, deletes their temp files and propagates.
    """
    t_start = time.perf_counter()
    settings = settings or RaySettings()
    control = control or BatchControl()
    if options.model_path is None:
        options = options.with_changes(model_path=default_model_path())
    spec = load_spec(options.model_path, options.convention)  # a bad model fails before Ray starts
    if options.second_pass:
        default_clicker()  # the workers load it too; fail here, once, if there is none
    check_background(options)
    ray = import_ray()
    out_dir = Path(output_dir).expanduser()
    items = prepare_batch(as_path_list(inputs), out_dir, options, Path(explicit_output) if explicit_output else None)
    todo = [it for it in items if it.status == PENDING]
    folders = output_folders(items)
    report = BatchReport(items=items, output_dir=out_dir, model=spec.name, options=options.to_dict())
    finished = 0

    def emit(it: BatchItem) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished, len(items), it)

    for it in items:
        if it.status != PENDING:
            emit(it)
    engine: dict = {"name": "ray", "address": settings.address or "local"}
    report.engine = engine
    actors: list = []
    joined = False
    try:
        if todo:
            t0 = time.perf_counter()
            joined = connect(ray, settings)
            engine["cluster_start_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            actors, infos, model_ref = _start_workers(ray, options, settings, len(todo))
            engine["workers_start_s"] = round(time.perf_counter() - t0, 3)
            engine["workers"] = infos
            engine["nodes"] = len({i["host"] for i in infos})
            report.provider = infos[0]["provider"]
            if started is not None:
                started(engine)
            engine["resubmitted"] = _schedule(ray, actors, todo, emit, control, settings)
            del model_ref  # held until here: restarted workers load the model from it
    except BaseException:
        control.cancel()
        _stop(ray, actors)
        actors = []
        raise
    finally:
        for a in actors:
            ray.kill(a)  # give the cluster's CPUs back now, not when this process exits
        if joined:
            ray.shutdown()
        for folder in folders:  # only now: no worker of ours is writing any more
            remove_stale_temps(folder)
        for it in todo:
            if it.status == PENDING:
                it.status, it.reason = CANCELLED, "batch cancelled"
                emit(it)
        report.elapsed = time.perf_counter() - t_start
        report.cancelled = control.cancelled
    return report


def _schedule(
    ray: Any, actors: list, todo: list[BatchItem], emit: Callable[[BatchItem], None], control: BatchControl,
    settings: RaySettings,
) -> int:  # fmt: skip
    """Keep every actor ``in_flight`` photos deep until ``todo`` is done; returns how many
    photos were sent a second time after their worker died under them."""
    waiting = deque(todo)
    flying: dict[Any, tuple[BatchItem, int]] = {}
    load = [0] * len(actors)
    resent: set[int] = set()

    def submit() -> None:
        while waiting and not control.cancelled and not control.paused:
            idx = min(range(len(actors)), key=load.__getitem__)
            if load[idx] >= settings.in_flight:
                return
            it = waiting.popleft()
            flying[actors[idx].process.remote(it)] = (it, idx)
            load[idx] += 1

    submit()
    while flying or (waiting and not control.cancelled):
        if not flying:  # paused with nothing running
            time.sleep(0.05)
            submit()
            continue
        ready, _ = ray.wait(list(flying), num_returns=1, timeout=0.1)
        if ready:  # sweep everything else that is ready too: one round per batch of results
            ready, _ = ray.wait(list(flying), num_returns=len(flying), timeout=0)
        for ref in ready:
            it, idx = flying.pop(ref)
            load[idx] -= 1
            try:
                done = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                if id(it) not in resent:  # maybe it only queued behind the photo that killed it
                    resent.add(id(it))
                    waiting.append(it)
                    continue
                it.status, it.reason = FAILED, (f"the worker process died {settings.max_retries + 1} times on this "
                                                f"photo, twice over ({_cause(exc)})")  # fmt: skip
            except ray.exceptions.RayError as exc:
                it.status, it.reason = FAILED, f"worker error: {_cause(exc)}"
            else:
                it.status, it.reason, it.seconds, it.warnings = done.status, done.reason, done.seconds, done.warnings
            emit(it)
        submit()
    return len(resent)


def _stop(ray: Any, actors: list) -> None:
    """Kill the workers at once (Ctrl-C) and wait until Ray reports them dead, so that the temp
    files they leave can be deleted without racing a rename."""
    pings = []
    for a in actors:
        ray.kill(a, no_restart=True)
        pings.append(a.info.remote())
    deadline = time.monotonic() + KILL_WAIT_S
    for ref in pings:
        with contextlib.suppress(Exception):  # dead (what we want) or timed out: stop waiting on it
            ray.get(ref, timeout=max(0.1, deadline - time.monotonic()))
