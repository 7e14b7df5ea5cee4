"""The one background-work pattern of the GUI: a persistent "latest wins" worker per job kind.

Why this shape: interactive requests (decode this file, run the model on this photo, preview
this feather radius) arrive faster than they finish. Starting a thread per request wastes the
two cores and lets old results land after new ones; a plain queue makes the user wait for work
nobody wants any more. So each job kind gets ONE long-lived Python thread holding at most one
pending request: ``submit`` replaces whatever is pending and asks the running job to cancel.
Every request has an id, and a result is delivered only if its id is still the newest, so a
stale result can never overwrite a fresh one (the same idea as napari's slicer).

Results cross back to the GUI thread through a Qt signal (queued connection), so slots run on
the GUI thread and may touch widgets. Cancellation is cooperative: the job function receives a
``CancelToken`` to poll, and may register a hook (e.g. onnxruntime's ``RunOptions.terminate``)
that fires the moment the token is cancelled.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop_app.core.errors import SeedStudioError


class Cancelled(Exception):
    """Raised by a job that noticed its token was cancelled."""


class CancelToken:
    """Cancellation flag shared between the GUI thread and one job."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # a failing hook must not break cancellation of the others
                traceback.print_exc()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (from whichever thread cancels) when cancelled; at once if already."""
        with self._lock:
            if not self._event.is_set():
                self._hooks.append(hook)
                return
        hook()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


JobFn = Callable[[Any, CancelToken], Any]

# Start-up gate. Warm-ups (building onnxruntime sessions, first runs) and workers marked
# ``after_startup`` wait for it, so they do not compete for the CPU and the GIL with the GUI
# thread while the window and the first photo come up. Open unless the app closes it
# (``hold_startup_work``, run_gui does); it also opens by itself after STARTUP_GATE_TIMEOUT_S,
# and a worker shut down while waiting leaves at once without running anything.
_gate = threading.Condition()
_gate_open = True
STARTUP_GATE_TIMEOUT_S = 10.0


def hold_startup_work() -> None:
    """Make warm-ups and ``after_startup`` workers wait until :func:`release_startup_work`."""
    global _gate_open
    with _gate:
        _gate_open = False


def release_startup_work() -> None:
    """Let the held start-up work run (safe to call repeatedly)."""
    global _gate_open
    with _gate:
        _gate_open = True
        _gate.notify_all()


def startup_gate_open() -> bool:
    return _gate_open


@dataclass
class _Job:
    id: int
    request: Any
    token: CancelToken = field(default_factory=CancelToken)


class LatestWinsWorker(QObject):
    """Runs ``fn(request, token)`` on one persistent thread; only the newest result is delivered.

    Signals (all emitted on the GUI thread):
      started(id)            a job began running
      finished(id, result)   the newest job succeeded
      failed(id, message)    the newest job raised (SeedStudioError text, or a short summary)
      cancelled(id)          the newest job was cancelled via ``cancel()``
      busy_changed(bool)     a job is queued or running / nothing left to do
      warmed_up()            the ``warmup`` callable has finished
    """

    started = Signal(int)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    busy_changed = Signal(bool)
    warmed_up = Signal()

    # internal: worker thread -> GUI thread
    _job_started = Signal(int)
    _job_done = Signal(int, str, object)

    def __init__(
        self,
        fn: JobFn,
        name: str,
        parent: QObject | None = None,
        warmup: Callable[[], None] | None = None,
        after_startup: bool = False,
    ) -> None:
        """``warmup`` runs first on the worker thread (e.g. slow imports), so its cost is paid
        at start-up rather than in the middle of the first job; it waits for the start-up gate
        (the window and first photo come first), as do all jobs when ``after_startup``."""
        super().__init__(parent)
        self._fn = fn
        self._warmup = warmup
        self._after_startup = after_startup or warmup is not None
        self.name = name
        self._cond = threading.Condition()
        self._pending: _Job | None = None
        self._running: _Job | None = None
        self._stop = False
        self._next_id = 0
        self._latest_id = 0
        self._busy = False
        self._job_started.connect(self._on_job_started)
        self._job_done.connect(self._on_job_done)
        self._thread = threading.Thread(target=self._loop, name=f"worker-{name}", daemon=True)
        self._thread.start()

    # -- GUI-thread API ----------------------------------------------------------------------
    def submit(self, request: Any) -> int:
        """Queue ``request``, replacing any pending one and cancelling the running one."""
        with self._cond:
            if self._stop:
                raise RuntimeError(f"worker {self.name!r} is shut down")
            self._next_id += 1
            job = _Job(self._next_id, request)
            self._latest_id = job.id
            self._pending = job
            running = self._running
            self._cond.notify()
        if running is not None:
            running.token.cancel()
        self._set_busy(True)
        return job.id

    def cancel(self) -> None:
        """Drop the pending request and cancel the running one; emits ``cancelled``."""
        with self._cond:
            self._pending = None
            running = self._running
            latest = self._latest_id
            self._latest_id = -1  # nothing in flight may deliver any more
        if running is not None:
            running.token.cancel()
        self.cancelled.emit(latest)
        self._set_busy(running is not None)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the thread (cancelling work); safe to call twice."""
        with self._cond:
            self._stop = True
            self._pending = None
            running = self._running
            self._cond.notify()
        if running is not None:
            running.token.cancel()
        with _gate:
            _gate.notify_all()  # a thread still held at the start-up gate leaves now
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def latest_id(self) -> int:
        return self._latest_id

    @property
    def busy(self) -> bool:
        return self._busy

    def is_current(self, job_id: int) -> bool:
        return job_id == self._latest_id

    # -- worker thread -----------------------------------------------------------------------
    def _loop(self) -> None:
        if self._after_startup:
            with _gate:
                _gate.wait_for(lambda: _gate_open or self._stop, timeout=STARTUP_GATE_TIMEOUT_S)
            if self._stop:
                return
        if self._warmup is not None:
            try:
                self._warmup()
            except Exception:  # warming up is an optimisation: never fatal
                traceback.print_exc()
            self.warmed_up.emit()
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                job, self._pending = self._pending, None
                self._running = job
            assert job is not None
            self._job_started.emit(job.id)
            try:
                if job.token.cancelled:
                    raise Cancelled()
                result = self._fn(job.request, job.token)
                outcome, payload = ("cancelled", None) if job.token.cancelled else ("ok", result)
            except Cancelled:
                outcome, payload = "cancelled", None
            except SeedStudioError as exc:
                outcome, payload = "error", str(exc)
            except Exception as exc:
                traceback.print_exc()
                outcome, payload = "error", f"{type(exc).__name__}: {exc}"
            with self._cond:
                self._running = None
            if not self._stop:
                self._job_done.emit(job.id, outcome, payload)

    # -- GUI thread, via queued signals ------------------------------------------------------
    @Slot(int)
    def _on_job_started(self, job_id: int) -> None:
        if job_id == self._latest_id:
            self.started.emit(job_id)

    @Slot(int, str, object)
    def _on_job_done(self, job_id: int, outcome: str, payload: object) -> None:
        if self._stop:  # queued before shutdown, delivered after: its receivers are shut down too
            return
        with self._cond:
            idle = self._pending is None and self._running is None
        if job_id == self._latest_id:
            if outcome == "ok":
                self.finished.emit(job_id, payload)
            elif outcome == "error":
                self.failed.emit(job_id, str(payload))
            else:
                self.cancelled.emit(job_id)
        if idle:
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
