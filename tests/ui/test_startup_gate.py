"""The start-up gate: warm-ups and ``after_startup`` workers wait until the window is up; the
photo loader and other interactive workers do not.

The gate also opens by itself after ``STARTUP_GATE_TIMEOUT_S`` of wall-clock time. A test that
checks that work is *held* must not depend on finishing inside that budget (under load, e.g. at
``nice 19`` beside a training run, a few lines of test can take longer than 10 s), so those
tests put the timeout out of reach and wait for what they check (threads parked at the gate,
threads ended) instead of sleeping and timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from PySide6.QtCore import QCoreApplication
from ui_helpers import WAIT_MS

from desktop_app.ui.shared import workers
from desktop_app.ui.shared.workers import (
    LatestWinsWorker,
    hold_startup_work,
    release_startup_work,
)

WAIT_S = WAIT_MS / 1000
OUT_OF_REACH_S = 3600.0  # the gate's own timeout, where no test run can hit it
JOIN_S = 60.0  # for a thread that must end: only a broken gate makes it wait this long


class _WatchedGate(threading.Condition):
    """The start-up gate's condition, knowing which threads are parked in it right now."""

    def __init__(self) -> None:
        super().__init__()
        self.parked: set[str] = set()

    def wait(self, timeout: float | None = None) -> bool:
        name = threading.current_thread().name  # called with the lock held, as is the finally
        self.parked.add(name)
        try:
            return super().wait(timeout)
        finally:
            self.parked.discard(name)

    def holds(self, *workers_: LatestWinsWorker) -> bool:
        with self:
            return {w._thread.name for w in workers_} <= self.parked


def _gate_only_release_opens(monkeypatch: pytest.MonkeyPatch) -> _WatchedGate:
    """Only ``release_startup_work`` (or a worker's shutdown) lets held threads go from here on."""
    monkeypatch.setattr(workers, "STARTUP_GATE_TIMEOUT_S", OUT_OF_REACH_S)
    gate = _WatchedGate()
    monkeypatch.setattr(workers, "_gate", gate)
    return gate


def test_held_work_waits_for_release_and_interactive_work_does_not(qtbot, monkeypatch) -> None:
    gate = _gate_only_release_opens(monkeypatch)
    warmed = threading.Event()
    ran: list[object] = []  # written on the worker thread, as the job runs
    hold_startup_work()
    warm = LatestWinsWorker(lambda req, tok: req, "warm", warmup=warmed.set)
    later = LatestWinsWorker(lambda req, tok: ran.append(req) or req, "later", after_startup=True)
    now = LatestWinsWorker(lambda req, tok: req, "now")
    late_results: list[object] = []
    later.finished.connect(lambda _i, r: late_results.append(r))
    try:
        with qtbot.waitSignal(now.finished, timeout=WAIT_MS) as blocker:
            now.submit("photo")
        assert blocker.args[1] == "photo"  # the loader is not held
        later.submit("generator")
        # Both held threads have reached the closed gate and sleep in it, the job queued: anything
        # run before the gate has run by now, and nothing behind it can run until it opens.
        qtbot.waitUntil(lambda: gate.holds(warm, later), timeout=WAIT_MS)
        QCoreApplication.processEvents()  # deliver anything the held workers emitted so far
        assert not warmed.is_set() and ran == [] and late_results == []
        assert gate.holds(warm, later)  # still parked: the gate held them back, not slowness
        release_startup_work()
        assert warmed.wait(WAIT_S)
        qtbot.waitUntil(lambda: late_results == ["generator"], timeout=WAIT_MS)
        assert ran == ["generator"]
    finally:
        release_startup_work()
        for w in (warm, later, now):
            w.shutdown()


def test_gate_is_open_by_default_and_opens_by_itself(qtbot, monkeypatch) -> None:
    assert workers.startup_gate_open()  # windows built outside run_gui (tests, benchmarks)
    monkeypatch.setattr(workers, "STARTUP_GATE_TIMEOUT_S", 0.2)
    warmed = threading.Event()
    hold_startup_work()
    try:
        worker = LatestWinsWorker(lambda req, tok: req, "forgotten", warmup=warmed.set)
        assert warmed.wait(WAIT_S)  # nobody released it: the timeout does
        worker.shutdown()
    finally:
        release_startup_work()


def _record_shutdowns(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bool]]:
    """Record every worker shutdown: was the worker held, was the gate open, did its thread end.
    The join waits up to JOIN_S, so only a thread shutdown does not release is still alive."""
    shutdowns: list[dict[str, bool]] = []
    original: Callable[..., None] = LatestWinsWorker.shutdown

    def shutdown(self: LatestWinsWorker, timeout: float = 5.0) -> None:
        gate_open = workers.startup_gate_open()
        original(self, max(timeout, JOIN_S))
        shutdowns.append({"held": self._after_startup, "gate open": gate_open, "ended": not self._thread.is_alive()})

    monkeypatch.setattr(LatestWinsWorker, "shutdown", shutdown)
    return shutdowns


def test_run_gui_leaves_the_gate_open_after_an_early_exit(qtbot, tmp_path, monkeypatch) -> None:
    from desktop_app.app import run_gui

    monkeypatch.setenv("SEED_STUDIO_SETTINGS_DIR", str(tmp_path))
    monkeypatch.setattr(workers, "STARTUP_GATE_TIMEOUT_S", OUT_OF_REACH_S)
    shutdowns = _record_shutdowns(monkeypatch)
    bad = tmp_path / "not-a-model.onnx"
    bad.write_bytes(b"nope")
    assert run_gui(["--model", str(bad)]) == 2  # the window is built, then refused the model
    assert workers.startup_gate_open()
    # The window's held workers (warm-ups, the generator loader) were shut down while the gate
    # was still shut and could not open by itself: each left at once instead of waiting for it.
    held = [s for s in shutdowns if s["held"]]
    assert held, shutdowns
    assert all(not s["gate open"] and s["ended"] for s in held), held


def test_shutdown_releases_a_held_worker_without_running_its_job(qtbot, monkeypatch) -> None:
    gate = _gate_only_release_opens(monkeypatch)
    ran: list[str] = []
    hold_startup_work()
    try:
        worker = LatestWinsWorker(lambda req, tok: ran.append(req), "held", after_startup=True)
        worker.submit("load")
        qtbot.waitUntil(lambda: gate.holds(worker), timeout=WAIT_MS)
        worker.shutdown(timeout=JOIN_S)  # the gate stays shut and cannot open by itself...
        assert not worker._thread.is_alive()  # ...so only shutdown can have let the thread go
        release_startup_work()
        assert ran == []  # the thread has ended: its job can no longer run
    finally:
        release_startup_work()
