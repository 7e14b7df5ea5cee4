"""Folders of photos in, mirrored folders of cut-outs out: resumable, cancellable, overlapped.

Three stages run at once so both cores stay busy: a reader thread decodes the next photos
(Pillow releases the GIL while decoding), the caller's thread runs the network (onnxruntime
releases it too), and a writer thread composites and encodes (OpenCV and numpy release it
for their array work). Queues between them hold at most two photos, bounding memory at 24 MP.

Safety rules: inputs are only ever opened for reading; an output path equal to any input is
refused; outputs are written to a temp file and renamed, so a cancel or a kill never leaves a
half-written image under a real name; one bad file is recorded and the batch goes on.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.batch.plan import (  # re-exported: part of this module's API
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    SKIPPED,
    BatchItem,
    collect_inputs,
    plan_outputs,
)
from desktop_app.core.errors import SeedStudioError
from desktop_app.core.imageio import encode_image, load_image, remove_stale_temps, write_bytes_atomic
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import model_input, predict_alpha, render
from desktop_app.core.second_pass import default_clicker
from desktop_app.core.segment import Segmenter

__all__ = ["CANCELLED", "DONE", "FAILED", "PENDING", "SKIPPED", "BatchControl", "BatchItem", "BatchReport",
           "collect_inputs", "plan_outputs", "run_batch"]  # fmt: skip


@dataclass
class BatchReport:
    """Per-item outcome of a batch plus totals; ``to_json`` for ``--json-report`` and logs."""

    items: list[BatchItem]
    output_dir: Path | None = None
    model: str = ""
    provider: str = ""
    options: dict = field(default_factory=dict)
    elapsed: float = 0.0
    cancelled: bool = False

    def count(self, status: str) -> int:
        return sum(1 for it in self.items if it.status == status)

    @property
    def failed(self) -> list[BatchItem]:
        return [it for it in self.items if it.status == FAILED]

    @property
    def ok(self) -> bool:
        """True when nothing failed (skips and cancellation are not failures)."""
        return not self.failed

    def summary(self) -> str:
        """One line: counts, time and throughput."""
        done = self.count(DONE)
        rate = f", {self.elapsed / done:.2f} s/image" if done else ""
        parts = [f"{done} done", f"{self.count(SKIPPED)} skipped", f"{self.count(FAILED)} failed"]
        if self.count(CANCELLED):
            parts.append(f"{self.count(CANCELLED)} cancelled")
        return f"{', '.join(parts)} in {self.elapsed:.1f} s{rate}"

    def to_dict(self) -> dict:
        return {
            "output_dir": str(self.output_dir) if self.output_dir else None,
            "model": self.model,
            "provider": self.provider,
            "elapsed": round(self.elapsed, 3),
            "cancelled": self.cancelled,
            "counts": {s: self.count(s) for s in (DONE, SKIPPED, FAILED, CANCELLED)},
            "options": self.options,
            "items": [it.to_dict() for it in self.items],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


class BatchControl:
    """Cancel / pause / resume a running batch from another thread (the GUI's buttons)."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # a paused batch must wake up to notice

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> bool:
        """Block while paused; returns False if the batch was cancelled."""
        while not self._running.wait(0.1):
            pass
        return not self._cancel.is_set()


# ----------------------------------------------------------------------------- running

_END = object()


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    options: RemoveOptions,
    segmenter: Segmenter | None = None,
    progress: Callable[[int, int, BatchItem], None] | None = None,
    control: BatchControl | None = None,
    explicit_output: str | os.PathLike[str] | None = None,
) -> BatchReport:
    """Process ``inputs`` (files and folders) into ``output_dir``; never raises for bad files.

    ``progress(finished, total, item)`` is called on the caller's thread after each item
    (including skipped and failed ones). ``segmenter`` defaults to one built from
    ``options.model_path`` / ``options.convention`` (ModelError propagates: without a model
    nothing can be done). ``explicit_output`` names the output file for a single input.
    """
    started = time.perf_counter()
    out_dir = Path(output_dir).expanduser()
    control = control or BatchControl()
    if segmenter is None:
        if options.model_path is None:
            from desktop_app.core.models import default_model_path

            options = options.with_changes(model_path=default_model_path())
        segmenter = Segmenter(options.model_path, spec_override=options.convention)
    clicker = default_clicker() if options.second_pass else None  # fails before the batch, not per photo
    pairs = collect_inputs(inputs, exclude=out_dir)
    items = plan_outputs(pairs, out_dir, options, Path(explicit_output) if explicit_output else None)
    report = BatchReport(
        items=items, output_dir=out_dir, model=segmenter.spec.name, provider=segmenter.provider,
        options=options.to_dict(),
    )  # fmt: skip
    total = len(items)
    finished = 0
    finished_q: queue.SimpleQueue[BatchItem] = queue.SimpleQueue()

    def emit_ready() -> None:
        nonlocal finished
        while True:
            try:
                it = finished_q.get_nowait()
            except queue.Empty:
                return
            finished += 1
            if progress is not None:
                progress(finished, total, it)

    for d in {it.output.parent for it in items if it.output is not None}:
        remove_stale_temps(d)
    for it in items:
        if it.status != PENDING:
            finished_q.put(it)
    emit_ready()
    todo = [it for it in items if it.status == PENDING]
    decoded: queue.Queue = queue.Queue(maxsize=2)
    encoded: queue.Queue = queue.Queue(maxsize=2)

    def reader() -> None:
        for it in todo:
            if not control.wait_if_paused():
                break
            t0 = time.perf_counter()
            try:
                loaded = load_image(it.source, max_pixels=options.max_pixels)
                decoded.put((it, loaded, None, time.perf_counter() - t0))
            except Exception as exc:  # SeedStudioError or a decoder bug: record, go on
                decoded.put((it, None, exc, time.perf_counter() - t0))
        decoded.put(_END)

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
                    result = render(loaded.rgb, alpha, options, source_alpha=loaded.alpha)
                    data = encode_image(result.image, options.format, quality=options.quality,
                                        background=options.jpg_background)  # fmt: skip
                    write_bytes_atomic(it.output, data)
                    it.status = DONE
                    it.warnings.extend(result.warnings)
                except Exception as exc:
                    it.status, it.reason = FAILED, _reason(exc, "cannot write the output")
                it.seconds += time.perf_counter() - t0
            finished_q.put(it)

    threads = [threading.Thread(target=reader, name="batch-reader", daemon=True),
               threading.Thread(target=writer, name="batch-writer", daemon=True)]  # fmt: skip
    for t in threads:
        t.start()
    try:
        while True:
            job = _get(decoded, emit_ready)
            if job is _END:
                break
            it, loaded, exc, secs = job
            it.seconds = secs
            if not control.wait_if_paused() or control.cancelled:
                it.status, it.reason = CANCELLED, "batch cancelled"
                finished_q.put(it)
            elif exc is not None:
                it.status, it.reason = FAILED, _reason(exc, "cannot read the image")
                finished_q.put(it)
            else:
                it.warnings.extend(loaded.warnings)
                t0 = time.perf_counter()
                try:
                    alpha = predict_alpha(segmenter, model_input(loaded), options, clicker)
                except Exception as exc2:
                    it.status, it.reason = FAILED, _reason(exc2, "inference failed")
                    it.seconds += time.perf_counter() - t0
                    finished_q.put(it)
                else:
                    it.seconds += time.perf_counter() - t0
                    _put(encoded, (it, loaded, alpha), emit_ready)
            emit_ready()
    except BaseException:
        control.cancel()  # KeyboardInterrupt: let the threads wind down cleanly
        raise
    finally:
        _put(encoded, _END, emit_ready)
        for t in threads:
            while t.is_alive():
                t.join(0.05)
                emit_ready()
                if t.name == "batch-reader":
                    _drain(decoded)
        for it in todo:
            if it.status == PENDING:
                it.status, it.reason = CANCELLED, "batch cancelled"
                finished_q.put(it)
        emit_ready()
        report.elapsed = time.perf_counter() - started
        report.cancelled = control.cancelled
    return report


def _get(q: queue.Queue, idle: Callable[[], None]):
    """Blocking get that keeps reporting finished items while it waits (timely progress)."""
    while True:
        try:
            return q.get(timeout=0.05)
        except queue.Empty:
            idle()


def _put(q: queue.Queue, value: object, idle: Callable[[], None]) -> None:
    while True:
        try:
            q.put(value, timeout=0.05)
            return
        except queue.Full:
            idle()


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def _reason(exc: BaseException, context: str) -> str:
    if isinstance(exc, SeedStudioError):
        return str(exc)
    return f"{context}: {type(exc).__name__}: {exc}"
