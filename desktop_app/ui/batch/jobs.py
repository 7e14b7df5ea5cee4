"""Worker-thread side of the batch page: scanning drops, running the queue, change tracking,
and the wording of progress and summaries.

Kept free of widgets (like ``ui/editor/jobs.py``): these functions run on LatestWinsWorker threads and
only touch plain objects. Rows changed by the batch thread are *recorded* in a
:class:`ChangeLog`; the GUI takes them at most ~20 times a second, which is what keeps a batch
of thousands of fast items from flooding the event loop with one signal per row.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core import compose
from desktop_app.core.batch.engine import BatchControl, batch_segmenter
from desktop_app.core.batch.queue import DONE, FAILED, QueueItem, RunOutcome, run_queue, scan_paths
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter
from desktop_app.ui.shared.workers import Cancelled, CancelToken


class ChangeLog:
    """Rows changed since the GUI last looked (a set: ten changes of one row are one update)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, QueueItem] = {}

    def mark(self, item: QueueItem) -> None:
        with self._lock:
            self._items[id(item)] = item

    def take(self) -> list[QueueItem]:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        return items


# -- scanning ------------------------------------------------------------------------------------


@dataclass
class ScanRequest:
    paths: list[Path]
    known: set[str]


def scan(req: ScanRequest, token: CancelToken) -> tuple[list[Path], list[QueueItem]]:
    """Walk the dropped paths off the GUI thread (a 10,000-file folder takes a noticeable while).
    Returns the request's paths with the rows, so the page knows which drops are now queued."""
    rows = scan_paths(req.paths, req.known, cancelled=lambda: token.cancelled)
    token.raise_if_cancelled()
    return req.paths, rows


# -- running -------------------------------------------------------------------------------------


@dataclass
class RunRequest:
    queue: list[QueueItem]  # every row, for the report
    todo: list[QueueItem]  # the rows to process now
    output_dir: Path
    options: RemoveOptions
    control: BatchControl
    changed: Callable[[QueueItem], None]
    previous_elapsed: float = 0.0
    make_segmenter: Callable[[RemoveOptions], Segmenter] = batch_segmenter


@dataclass
class WarmRequest:
    """Pay the one-off costs before Start: building the onnxruntime session and a first run of
    the colour estimator. Those hold the GIL for 100+ ms stretches, so done during a batch they
    would stall the GUI; done when photos are dropped, they are over by Start."""

    options: RemoveOptions
    make_segmenter: Callable[[RemoveOptions], Segmenter] = batch_segmenter


BATCH_NICENESS = 4
_thread_state = threading.local()


def lower_thread_priority(step: int = BATCH_NICENESS) -> None:
    """Make this thread (and threads it starts: the engine's reader and writer, onnxruntime's
    pool when the session is built here) yield the CPU to the GUI thread. Linux only (there a
    thread is a task with its own nice value); elsewhere a no-op. Done once per thread."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    if getattr(_thread_state, "lowered", False):
        return
    _thread_state.lowered = True
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:
        pass


def warm_up(req: WarmRequest, token: CancelToken) -> None:
    lower_thread_priority()
    opts = req.options
    rgb = np.full((16, 16, 3), 128, np.uint8)
    if opts.foreground_estimation and not opts.mask_only:
        compose.estimate_foreground(rgb, np.linspace(0.0, 1.0, 256, dtype=np.float32).reshape(16, 16))
    token.raise_if_cancelled()
    req.make_segmenter(opts).predict(rgb)
    # The imports above leave many long-lived objects (onnxruntime, OpenCV, numpy); every full
    # garbage collection would walk them all while holding the GIL (40-100 ms measured: a GUI
    # stall). Freezing moves them out of the collector's sight; it costs nothing to do.
    gc.freeze()


def work(req: WarmRequest | RunRequest, token: CancelToken) -> RunOutcome | None:
    """The batch worker's one job function: a warm-up or a run."""
    if isinstance(req, WarmRequest):
        warm_up(req, token)
        return None
    return run(req, token)


def run(req: RunRequest, token: CancelToken) -> RunOutcome:
    """One press of Start: the core engine over the queue's rows. A cancel is delivered as a
    normal (partial) outcome, so the GUI still gets the report of what was finished."""
    token.on_cancel(req.control.cancel)  # shutdown() of the worker stops the engine too
    lower_thread_priority()
    segmenter = req.make_segmenter(req.options)  # ModelError -> the worker's failed signal
    if token.cancelled:
        raise Cancelled()
    return run_queue(req.queue, req.todo, req.output_dir, req.options, segmenter, req.changed, req.control,
                     req.previous_elapsed)  # fmt: skip


def is_processed(item: QueueItem) -> bool:
    """Done or failed by the model pipeline (not skipped): what throughput counts."""
    return item.status in (DONE, FAILED) and item.seconds > 0


# -- wording -------------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """12.3 -> '12 s', 754 -> '12 min 34 s', 7384 -> '2 h 3 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def progress_text(finished: int, total: int, rate: float, eta: float | None, failed: int, paused: bool) -> str:
    parts = [f"{finished:,} of {total:,}"]
    if paused:
        parts.append("paused")
    elif rate > 0:
        parts.append(f"{rate:.1f} photos/s")
        if eta is not None and finished < total:
            parts.append(f"about {duration(eta)} left")
    if failed:
        parts.append(f"{failed:,} failed")
    return " · ".join(parts)


def summary_text(outcome: RunOutcome) -> str:
    """The banner shown when a run ends (counts over the whole queue, time of this run)."""
    r = outcome.report
    head = "Cancelled" if r.cancelled else "Finished"
    counts = [f"{r.count('done'):,} done", f"{r.count('skipped'):,} skipped", f"{r.count('failed'):,} failed"]
    if r.count("cancelled"):
        counts.append(f"{r.count('cancelled'):,} not processed")
    text = f"{head} in {duration(outcome.elapsed)}: {', '.join(counts)}"
    if outcome.processed:
        text += f" · {outcome.throughput:.1f} photos/s"
    if outcome.report_path is not None:
        text += f"\nReport: {outcome.report_path}"
    elif outcome.report_error:
        text += f"\n{outcome.report_error}"
    return text
