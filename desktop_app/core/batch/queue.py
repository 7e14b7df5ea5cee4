"""A batch *queue* on top of the batch engine: what the GUI's batch page runs (Qt-free).

Why a layer and not a second engine: :func:`desktop_app.core.batch.engine.run_batch` is the one
implementation the CLI uses (pipelined decode / inference / encode, atomic writes, resume by
skipping existing outputs, pause and cancel). A queue adds what a person at a window needs on
top of it: rows added at different times (drops, dialogs), rows removed before start, a status
per row while the batch runs, retrying a subset, and a report covering the whole queue.

Every row keeps the relative folder it had under the dropped folder (exactly the pairs
:func:`collect_inputs` produces for the CLI), and a run groups rows by that folder and calls
``run_batch`` once per group with the group's files and ``output_dir / folder``. So the output
tree mirrors the input tree and the output names (collision handling included) are the same
as ``seed-studio remove`` would choose for the same inputs.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from desktop_app.core.batch.engine import (
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    SKIPPED,
    BatchControl,
    BatchItem,
    BatchReport,
    run_batch,
    scan_inputs,
)
from desktop_app.core.batch.manifest import REPORT_NAME
from desktop_app.core.batch.plan import PathInputs, as_path_list
from desktop_app.core.errors import InputRejected
from desktop_app.core.files import open_input, stat_input
from desktop_app.core.imageio import IMAGE_EXTENSIONS, looks_like_image, write_bytes_atomic
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter

QUEUED, RUNNING = "queued", "running"
STATUSES = (QUEUED, RUNNING, DONE, SKIPPED, FAILED, CANCELLED)
UNSUPPORTED = "unsupported file type"

__all__ = ["CANCELLED", "DONE", "FAILED", "QUEUED", "REPORT_NAME", "RUNNING", "SKIPPED", "STATUSES",
           "QueueItem", "RunOutcome", "ThroughputMeter", "path_key", "run_queue", "runnable",
           "scan_paths", "thumbnail"]  # fmt: skip


def path_key(path: Path) -> str:
    """Identity of a file for duplicate detection: absolute, normalised (no symlink resolution,
    which would cost a syscall per path component on every one of thousands of files)."""
    return os.path.normcase(os.path.abspath(path))


@dataclass(eq=False)
class QueueItem:
    """One row of the queue. Mutated by the batch thread; read by the GUI (attribute reads are
    atomic, and the GUI is told which rows changed, so it never needs a lock)."""

    source: Path
    rel: Path = field(default_factory=Path)  # folder under the dropped folder, mirrored in the output
    size: int = 0
    status: str = QUEUED
    reason: str = ""
    seconds: float = 0.0
    output: Path | None = None
    warnings: list[str] = field(default_factory=list)
    permanent_skip: bool = False  # unsupported / missing: never sent to the engine

    @property
    def key(self) -> str:
        return path_key(self.source)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, SKIPPED, FAILED, CANCELLED)

    def reset(self) -> None:
        """Back to the queue (retry, or redo with overwrite)."""
        self.status, self.reason, self.seconds, self.output = QUEUED, "", 0.0, None
        self.warnings = []

    def to_batch_item(self) -> BatchItem:
        """The engine's record, so the queue's report is the CLI's report format."""
        status = PENDING if self.status in (QUEUED, RUNNING) else self.status
        return BatchItem(self.source, self.output, status, self.reason, self.seconds, list(self.warnings))


def _is_supported(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix in IMAGE_EXTENSIONS or (not suffix and looks_like_image(path))


def _unsupported_reason(path: Path) -> str:
    """Short (it is a table cell and a report field): the type is what the operator needs."""
    return f"{UNSUPPORTED} ({path.suffix.lower() or 'no extension, and not an image by content'})"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def scan_paths(
    paths: PathInputs,
    known: set[str] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[QueueItem]:
    """Expand dropped files and folders into new queue rows, in a stable order.

    Folders are walked by the engine's own :func:`scan_inputs` (same rules as the CLI:
    recursive, sorted, hidden entries skipped, extension or content sniff, our own outputs left
    out, nothing but regular files opened). Other visible files become permanently skipped rows
    with the reason, so an operator sees that ``catalogue.pdf`` was not processed instead of
    wondering; so do symlink loops, FIFOs and devices, with theirs. Paths in ``known`` (keys from
    :func:`path_key`) and repeats are left out: dropping the same folder twice adds nothing.
    """
    seen = set(known or ())
    rows: list[QueueItem] = []

    def add(item: QueueItem) -> None:
        k = item.key
        if k not in seen:
            seen.add(k)
            rows.append(item)

    for p in as_path_list(paths):
        if cancelled():
            break
        if os.path.isdir(p):
            for e in scan_inputs([p], others=True):
                if not e.photo:
                    add(QueueItem(e.path, e.rel, _size(e.path), SKIPPED, _unsupported_reason(e.path),
                                  permanent_skip=True))  # fmt: skip
                elif e.status == PENDING:
                    add(QueueItem(e.path, e.rel, _size(e.path)))
                else:
                    add(QueueItem(e.path, e.rel, 0, e.status, e.reason, permanent_skip=True))
            continue
        try:
            stat_input(p)
        except InputRejected as exc:
            reason = "no such file or folder" if not os.path.lexists(p) else exc.reason
            add(QueueItem(p, Path(), 0, SKIPPED, reason, permanent_skip=True))
            continue
        if _is_supported(p):
            add(QueueItem(p, Path(), _size(p)))
        else:
            add(QueueItem(p, Path(), _size(p), SKIPPED, _unsupported_reason(p), permanent_skip=True))
    return rows


def runnable(item: QueueItem, overwrite: bool) -> bool:
    """What Start processes: queued and cancelled rows, and (with overwrite) rows skipped because
    their output existed. Done and failed rows are left alone (failed ones: "Retry failed")."""
    if item.permanent_skip:
        return False
    if item.status in (QUEUED, CANCELLED):
        return True
    return overwrite and item.status == SKIPPED


@dataclass
class RunOutcome:
    """What one press of Start achieved, plus the whole queue's report (written as JSON)."""

    report: BatchReport
    report_path: Path | None
    processed: int  # rows this run sent through the model (done or failed)
    elapsed: float  # this run
    report_error: str = ""

    @property
    def throughput(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0


def _inside(path: Path, folder: Path) -> bool:
    p, f = path_key(path), path_key(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def run_queue(
    queue: list[QueueItem],
    todo: list[QueueItem],
    output_dir: Path,
    options: RemoveOptions,
    segmenter: Segmenter,
    changed: Callable[[QueueItem], None],
    control: BatchControl,
    previous_elapsed: float = 0.0,
) -> RunOutcome:
    """Run ``todo`` (rows of ``queue``) through :func:`run_batch`; call ``changed(row)`` (on this
    thread) after each status change; write the report of the whole ``queue`` next to the outputs.

    ``previous_elapsed`` is the time earlier runs of this queue took, so the report's elapsed
    time and the counts it holds describe the same work.
    """
    started = time.perf_counter()
    out = Path(output_dir).expanduser()
    groups: dict[Path, list[QueueItem]] = {}
    for it in todo:
        if _inside(it.source, out):  # a previous run's outputs dropped back in: never eat them
            it.status, it.reason = SKIPPED, "inside the output folder"
            changed(it)
            continue
        it.reset()
        changed(it)
        groups.setdefault(it.rel, []).append(it)
    processed = 0
    for rel, rows in groups.items():
        if control.cancelled:
            for it in rows:
                it.status, it.reason = CANCELLED, "batch cancelled"
                changed(it)
            continue
        by_source = {it.source: it for it in rows}
        cursor = [0]

        def mark_next_running(rows: list[QueueItem] = rows, cursor: list[int] = cursor) -> None:
            while cursor[0] < len(rows) and rows[cursor[0]].finished:
                cursor[0] += 1
            if cursor[0] < len(rows) and rows[cursor[0]].status == QUEUED:
                rows[cursor[0]].status = RUNNING
                changed(rows[cursor[0]])

        def progress(_done: int, _total: int, item: BatchItem, by_source=by_source, mark=mark_next_running) -> None:
            nonlocal processed
            row = by_source.get(item.source)
            if row is None:
                return
            row.status, row.reason, row.seconds = item.status, item.reason, item.seconds
            row.output, row.warnings = item.output, list(item.warnings)
            if item.status in (DONE, FAILED) and item.seconds > 0:
                processed += 1
            changed(row)
            mark()

        mark_next_running()
        run_batch([it.source for it in rows], out / rel, options, segmenter, progress, control)
        for it in rows:  # the engine reports every item; this only guards against a surprise
            if not it.finished:
                it.status, it.reason = CANCELLED, "batch cancelled"
                changed(it)
    elapsed = time.perf_counter() - started
    report = BatchReport(
        items=[it.to_batch_item() for it in queue], output_dir=out, model=segmenter.spec.name,
        provider=segmenter.provider, options=options.to_dict(), elapsed=previous_elapsed + elapsed,
        cancelled=control.cancelled,
    )  # fmt: skip
    path: Path | None = out / REPORT_NAME
    error = ""
    try:
        write_bytes_atomic(path, report.to_json().encode("utf-8"))
    except OSError as exc:
        path, error = None, f"cannot write the report in {out}: {exc.strerror or exc}"
    return RunOutcome(report, path, processed, elapsed, error)


class ThroughputMeter:
    """Photos per second over a sliding window, and the time left at that pace.

    A window (not the run's average) because the pace changes: skipped rows finish instantly
    at the start of a resumed batch, and a pause must not drag the rate down for the rest of it.
    Thread-safe: the batch thread records, the GUI reads.
    """

    def __init__(self, window_s: float = 20.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self._started: float | None = None

    def start(self, now: float | None = None) -> None:
        with self._lock:
            self._times.clear()
            self._started = time.monotonic() if now is None else now

    def record(self, now: float | None = None) -> None:
        with self._lock:
            self._times.append(time.monotonic() if now is None else now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and self._times[0] < now - self.window_s:
                self._times.popleft()
            if not self._times or self._started is None:
                return 0.0
            span = min(self.window_s, now - self._started)
            return len(self._times) / span if span > 0 else 0.0

    def eta(self, remaining: int, now: float | None = None) -> float | None:
        r = self.rate(now)
        return remaining / r if r > 0 else None


def thumbnail(path: Path, size: int = 48) -> np.ndarray:
    """A small upright RGBA preview (uint8 h x w x 4, longest side ``size``), decoded cheaply.

    JPEG's ``draft`` mode decodes at 1/2..1/8 scale, so a 24 MP photo costs a few ms instead of
    half a second; the full decoder (:func:`load_image`) would be wasted on 48 pixels.
    Raises ImageLoadError for anything that is not a regular file of sane size.
    """
    with open_input(path) as fh, Image.open(fh) as im:  # regular files only: a FIFO would block
        im.draft("RGB", (size * 2, size * 2))
        im = ImageOps.exif_transpose(im)
        im.thumbnail((size, size), Image.Resampling.BILINEAR)
        return np.ascontiguousarray(np.asarray(im.convert("RGBA")))
