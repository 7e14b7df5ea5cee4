"""The start-up gate: warm-ups and ``after_startup`` workers wait until the window is up; the
photo loader and other interactive workers do not."""

from __future__ import annotations

import threading
import time

from desktop_app.ui.shared import workers
from desktop_app.ui.shared.workers import (
    STARTUP_GATE_TIMEOUT_S,
    LatestWinsWorker,
    hold_startup_work,
    release_startup_work,
)


def test_held_work_waits_for_release_and_interactive_work_does_not(qtbot) -> None:
    warmed = threading.Event()
    hold_startup_work()
    warm = LatestWinsWorker(lambda req, tok: req, "warm", warmup=warmed.set)
    later = LatestWinsWorker(lambda req, tok: req, "later", after_startup=True)
    now = LatestWinsWorker(lambda req, tok: req, "now")
    late_results: list[object] = []
    later.finished.connect(lambda _i, r: late_results.append(r))
    try:
        with qtbot.waitSignal(now.finished, timeout=3000) as blocker:
            now.submit("photo")
        assert blocker.args[1] == "photo"  # the loader is not held
        later.submit("generator")
        time.sleep(0.2)
        qtbot.wait(50)
        assert not warmed.is_set() and late_results == []
        release_startup_work()
        assert warmed.wait(3)
        qtbot.waitUntil(lambda: late_results == ["generator"], timeout=3000)
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
        assert warmed.wait(3)  # nobody released it: the timeout does
        worker.shutdown()
    finally:
        release_startup_work()


def test_run_gui_leaves_the_gate_open_after_an_early_exit(qtbot, tmp_path, monkeypatch) -> None:
    from desktop_app.app import run_gui

    monkeypatch.setenv("SEED_STUDIO_SETTINGS_DIR", str(tmp_path))
    bad = tmp_path / "not-a-model.onnx"
    bad.write_bytes(b"nope")
    t0 = time.perf_counter()
    assert run_gui(["--model", str(bad)]) == 2  # the window is built, then refused the model
    assert workers.startup_gate_open()
    assert time.perf_counter() - t0 < STARTUP_GATE_TIMEOUT_S  # held workers left at shutdown at once


def test_shutdown_releases_a_held_worker_without_running_its_job(qtbot) -> None:
    ran: list[str] = []
    hold_startup_work()
    try:
        worker = LatestWinsWorker(lambda req, tok: ran.append(req), "held", after_startup=True)
        worker.submit("load")
        t0 = time.perf_counter()
        worker.shutdown()
        assert time.perf_counter() - t0 < 2 and not worker._thread.is_alive()
        release_startup_work()
        time.sleep(0.1)
        assert ran == []
    finally:
        release_startup_work()
