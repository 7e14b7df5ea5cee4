"""Folders of photos in, mirrored folders of cut-outs out: resumable, cancellable, overlapped.

Three stages run at once so every core stays busy: a reader thread decodes the next photos
(Pillow releases the GIL while decoding), one or more inference *lanes* run the network
(onnxruntime releases it too), and a writer thread composites and encodes (OpenCV and numpy
release it for their array work). On a CPU the lanes are data-parallel: one photo per lane, each
on a single-threaded session (:func:`inference_lanes`), which measured 14 % less network time per
photo on 2 cores than one session splitting each photo over both (intra-op threads idle at every
layer boundary of a small network). Queues between the stages hold at most two photos each, so
at most ``lanes + 5`` photos are in memory (bounded at 24 MP each). The caller's thread only
reports progress, so ``progress`` is always called on it.

Safety rules: inputs are only ever opened for reading, and only when they are regular files
of sane size (a FIFO, a device or a symlink loop is reported, never opened); an output path
equal to any input is refused, and outputs of an earlier run are never taken as inputs;
every output folder is checked for writability before the first photo is decoded; outputs
are written to a temp file and renamed, so a cancel or a kill never leaves a half-written
image under a real name; one bad file is recorded and the batch goes on.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop_app.core.batch.photo import (
    INFER_CONTEXT,
    READ_CONTEXT,
    WRITE_CONTEXT,
    failure_reason,
    infer_photo,
    read_photo,
    write_photo,
)
from desktop_app.core.batch.plan import (  # re-exported: part of this module's API
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    SKIPPED,
    BatchItem,
    InputEntry,
    PathInputs,
    as_path_list,
    collect_inputs,
    plan_outputs,
    prepare_batch,
    scan_inputs,
)
from desktop_app.core.batch.report import BatchControl, BatchReport
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import check_background
from desktop_app.core.second_pass import default_clicker
from desktop_app.core.segment import Segmenter
from desktop_app.core.session import PROVIDER_NAMES, physical_cores

__all__ = ["CANCELLED", "DONE", "FAILED", "PENDING", "SKIPPED", "BatchControl", "BatchItem", "BatchReport",
           "InputEntry", "batch_segmenter", "collect_inputs", "plan_outputs", "run_batch", "scan_inputs"]  # fmt: skip

_END = object()
READER_GRACE_S = 2.0  # after a cancel, how long to wait for a decode in progress before leaving it
MAX_LANES = 4  # more photos in flight cost memory (24 MP each) for little more throughput


def lane_threads(options: RemoveOptions, cores: int | None = None) -> int | None:
    """Intra-op threads of each lane's session when a batch on the CPU runs in lanes, else None."""
    cores = cores or physical_cores()
    lanes = min(MAX_LANES, cores)
    if lanes < 2 or options.second_pass:
        return None
    return cores // lanes


def batch_segmenter(options: RemoveOptions, providers: list[str] | None = None) -> Segmenter:
    """The segmenter a batch with ``options`` runs on: the model they name (else the embedded
    default), its session built with the lanes' thread count, so :func:`inference_lanes` takes
    that session from the cache instead of building a second one (40-60 ms of CPU, and on the
    batch page a GIL-holding stretch during the run). Explicit ``providers`` (an accelerator,
    one lane) keep the default threads. ModelError if there is no model."""
    path = options.model_path
    if path is None:
        from desktop_app.core.models import default_model_path

        path = default_model_path()
    threads = None if providers else lane_threads(options)
    return Segmenter(path, spec_override=options.convention, providers=providers, threads=threads)


def inference_lanes(segmenter: Segmenter, options: RemoveOptions, cores: int | None = None) -> tuple[Segmenter, int]:
    """(segmenter, lanes) for the inference stage: on a CPU, up to ``MAX_LANES`` lanes that split
    the cores between them, each with a session of ``cores // lanes`` threads (from the session
    cache when the segmenter was built with them); one lane with the given segmenter on an
    accelerator (one device queue) or when the second pass runs (its click model has its own
    threads and mirror pool)."""
    cores = cores or physical_cores()
    threads = lane_threads(options, cores)
    if threads is None or segmenter.provider != PROVIDER_NAMES["cpu"]:
        return segmenter, 1
    return segmenter.with_threads(threads), min(MAX_LANES, cores)


def run_batch(
    inputs: PathInputs,
    output_dir: str | os.PathLike[str],
    options: RemoveOptions,
    segmenter: Segmenter | None = None,
    progress: Callable[[int, int, BatchItem], None] | None = None,
    control: BatchControl | None = None,
    explicit_output: str | os.PathLike[str] | None = None,
) -> BatchReport:
    """Process ``inputs`` (one path, or an iterable of files and folders) into ``output_dir``;
    never raises for bad files or an unwritable output folder (those items fail with a reason).

    ``progress(finished, total, item)`` is called on the caller's thread after each item
    (including skipped and failed ones). ``segmenter`` defaults to one built from
    ``options.model_path`` / ``options.convention`` (ModelError propagates: without a model
    nothing can be done; so does an ImageLoadError for an image background that is not an
    image). ``explicit_output`` names the output file for a single input. TypeError if
    ``inputs`` is not a path or an iterable of paths.
    """
    started = time.perf_counter()
    roots = as_path_list(inputs)
    out_dir = Path(output_dir).expanduser()
    control = control or BatchControl()
    if segmenter is None:
        if options.model_path is None:
            from desktop_app.core.models import default_model_path

            options = options.with_changes(model_path=default_model_path())
        segmenter = batch_segmenter(options)
    clicker = default_clicker() if options.second_pass else None  # fails before the batch, not per photo
    check_background(options)  # a --bg that is not an image fails now, not once per photo
    items = prepare_batch(roots, out_dir, options, Path(explicit_output) if explicit_output else None)
    report = BatchReport(
        items=items, output_dir=out_dir, model=segmenter.spec.name, provider=segmenter.provider,
        options=options.to_dict(),
    )  # fmt: skip
    total = len(items)
    finished = 0
    finished_q: queue.SimpleQueue[BatchItem] = queue.SimpleQueue()

    def emit_ready(wait: float = 0.0) -> None:
        """Report every finished item; first wait up to ``wait`` seconds for one."""
        nonlocal finished
        while True:
            try:
                it = finished_q.get(timeout=wait) if wait else finished_q.get_nowait()
            except queue.Empty:
                return
            wait = 0.0
            finished += 1
            if progress is not None:
                progress(finished, total, it)

    for it in items:
        if it.status != PENDING:
            finished_q.put(it)
    emit_ready()
    todo = [it for it in items if it.status == PENDING]

    lane_segmenter, lanes = inference_lanes(segmenter, options)
    decoded: queue.Queue = queue.Queue(maxsize=2)
    encoded: queue.Queue = queue.Queue(maxsize=2)

    def reader() -> None:
        for it in todo:
            if not control.wait_if_paused():
                break
            t0 = time.perf_counter()
            try:
                loaded = read_photo(it, options)
                item = (it, loaded, None, time.perf_counter() - t0)
            except Exception as exc:  # SeedStudioError or a decoder bug: record, go on
                item = (it, None, exc, time.perf_counter() - t0)
            if not _put_unless(decoded, item, control):
                return
        _put_unless(decoded, _END, control)

    def infer_lane() -> None:
        while True:
            job = _get(decoded, _no_wait, threads[0], control)
            if job is _END:
                _pass_on_end(decoded)  # the other lanes stop on the same marker
                return
            it, loaded, exc, secs = job
            it.seconds = secs
            if not control.wait_if_paused() or control.cancelled:
                it.status, it.reason = CANCELLED, "batch cancelled"
            elif exc is not None:
                it.status, it.reason = FAILED, failure_reason(exc, READ_CONTEXT, it.source)
            else:
                it.warnings.extend(loaded.warnings)
                t0 = time.perf_counter()
                try:
                    alpha = infer_photo(lane_segmenter, loaded, options, clicker)
                except Exception as exc2:
                    it.status, it.reason = FAILED, failure_reason(exc2, INFER_CONTEXT, it.source)
                else:
                    it.seconds += time.perf_counter() - t0
                    _put(encoded, (it, loaded, alpha), _no_wait)
                    continue
                it.seconds += time.perf_counter() - t0
            finished_q.put(it)

    def writer() -> None:
        while True:
            job = encoded.get()
            if job is _END:
                return
            it, loaded, alpha = job
            if not control.wait_if_paused():
                it.status, it.reason = CANCELLED, "batch cancelled"
            else:
                t0 = time.perf_counter()
                try:
                    warnings = write_photo(it, loaded, alpha, options)
                    it.status = DONE
                    it.warnings.extend(warnings)
                except Exception as exc:
                    it.status, it.reason = FAILED, failure_reason(exc, WRITE_CONTEXT, it.source)
                it.seconds += time.perf_counter() - t0
            finished_q.put(it)

    threads = [threading.Thread(target=reader, name="batch-reader", daemon=True)]
    lane_threads = [threading.Thread(target=infer_lane, name=f"batch-infer-{i}", daemon=True) for i in range(lanes)]
    writer_thread = threading.Thread(target=writer, name="batch-writer", daemon=True)
    for t in [*threads, *lane_threads, writer_thread]:
        t.start()
    try:
        for t in lane_threads:  # the caller's thread reports progress while the lanes work
            while t.is_alive():
                emit_ready(0.05)
    except BaseException:
        control.cancel()  # KeyboardInterrupt: let the threads wind down cleanly
        raise
    finally:
        for t in lane_threads:
            while t.is_alive():
                t.join(0.05)
                emit_ready()
        _put(encoded, _END, emit_ready)
        _wind_down([*threads, writer_thread], decoded, emit_ready, control)
        for it in todo:
            if it.status == PENDING:
                it.status, it.reason = CANCELLED, "batch cancelled"
                finished_q.put(it)
        emit_ready()
        report.elapsed = time.perf_counter() - started
        report.cancelled = control.cancelled
    return report


def _no_wait() -> None:
    """Idle callback of the worker threads: only the caller's thread reports progress."""


def _pass_on_end(q: queue.Queue) -> None:
    """Put the end marker back for the next lane. A full queue means the reader gave up after a
    cancel; the other lanes then drain it and end when the reader is gone (see :func:`_get`)."""
    with contextlib.suppress(queue.Full):
        q.put_nowait(_END)


def _wind_down(threads: list[threading.Thread], decoded: queue.Queue, idle: Callable[[], None],
               control: BatchControl) -> None:  # fmt: skip
    """Join the reader and the writer. The writer always finishes (its write is atomic and
    short). After a cancel the reader gets ``READER_GRACE_S`` to finish a decode in progress,
    then is left behind (a daemon): a read stuck on a dead network share must not turn one
    Ctrl-C into a hang."""
    deadline: float | None = None
    for t in threads:
        while t.is_alive():
            t.join(0.05)
            idle()
            if t.name != "batch-reader":
                continue
            _drain(decoded)
            if control.cancelled:
                deadline = deadline or time.monotonic() + READER_GRACE_S
                if time.monotonic() > deadline:
                    break


def _get(q: queue.Queue, idle: Callable[[], None], producer: threading.Thread, control: BatchControl):
    """Blocking get that keeps reporting finished items while it waits (timely progress).

    Returns the end marker if the producer is gone without sending one, or if the batch was
    cancelled and the producer has not delivered for ``READER_GRACE_S`` (a read hanging on a
    dead network share must not keep a cancelled batch alive).
    """
    deadline: float | None = None
    while True:
        try:
            return q.get(timeout=0.05)
        except queue.Empty:
            if not producer.is_alive() and q.empty():
                return _END
            if control.cancelled:
                deadline = deadline or time.monotonic() + READER_GRACE_S
                if time.monotonic() > deadline:
                    return _END
            idle()


def _put(q: queue.Queue, value: object, idle: Callable[[], None]) -> None:
    while True:
        try:
            q.put(value, timeout=0.05)
            return
        except queue.Full:
            idle()


def _put_unless(q: queue.Queue, value: object, control: BatchControl) -> bool:
    """The reader's put: gives up (False) once the batch is cancelled and nobody drains ``q``."""
    while True:
        try:
            q.put(value, timeout=0.05)
            return True
        except queue.Full:
            if control.cancelled:
                return False


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
