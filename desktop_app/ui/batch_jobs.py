"""Worker-thread side of the batch page: scanning drops, running the queue, change tracking,
and the wording of progress and summaries.

Kept free of widgets (like ``ui/jobs.py``): these functions run on LatestWinsWorker threads and
only touch plain objects. Rows changed by the batch thread are *recorded* in a
:class:`ChangeLog`; the GUI takes them at most ~20 times a second, which is what keeps a batch
of thousands of fast items from flooding the event loop with one signal per row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.batch import BatchControl
from desktop_app.core.batch_queue import DONE, FAILED, QueueItem, RunOutcome, run_queue, scan_paths
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter
from desktop_app.ui.workers import Cancelled, CancelToken


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


def default_segmenter(options: RemoveOptions) -> Segmenter:
    """The model the options name, else the embedded default (ModelError if there is none)."""
    path = options.model_path
    if path is None:
        from desktop_app.core.models import default_model_path

        path = default_model_path()
    return Segmenter(path, spec_override=options.convention)


@dataclass
class RunRequest:
    queue: list[QueueItem]  # every row, for the report
    todo: list[QueueItem]  # the rows to process now
    output_dir: Path
    options: RemoveOptions
    control: BatchControl
    changed: Callable[[QueueItem], None]
    previous_elapsed: float = 0.0
    make_segmenter: Callable[[RemoveOptions], Segmenter] = default_segmenter


def run(req: RunRequest, token: CancelToken) -> RunOutcome:
    """One press of Start: the core engine over the queue's rows. A cancel is delivered as a
    normal (partial) outcome, so the GUI still gets the report of what was finished."""
    token.on_cancel(req.control.cancel)  # shutdown() of the worker stops the engine too
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
