"""LatestWinsWorker: newest request wins, stale results are dropped, cancel works."""

from __future__ import annotations

import threading
import time

from desktop_app.core.errors import ImageLoadError
from desktop_app.ui.shared.workers import CancelToken, LatestWinsWorker


def test_delivers_result(qtbot) -> None:
    worker = LatestWinsWorker(lambda req, tok: req * 2, "double")
    try:
        with qtbot.waitSignal(worker.finished, timeout=3000) as blocker:
            job = worker.submit(21)
        assert blocker.args == [job, 42]
        qtbot.waitUntil(lambda: not worker.busy, timeout=3000)
    finally:
        worker.shutdown()


def test_newest_request_wins_and_stale_results_are_dropped(qtbot) -> None:
    gate = threading.Event()
    ran: list[int] = []

    def job(req: int, token: CancelToken) -> int:
        ran.append(req)
        if req == 1:
            gate.wait(2)  # simulate a job that ignores cancellation (e.g. a native call)
        return req

    worker = LatestWinsWorker(job, "slow")
    results: list[tuple[int, object]] = []
    worker.finished.connect(lambda i, r: results.append((i, r)))
    try:
        worker.submit(1)
        qtbot.waitUntil(lambda: ran == [1], timeout=3000)
        for req in (2, 3, 4):  # 2 and 3 are replaced before they ever start
            last = worker.submit(req)
        gate.set()
        qtbot.waitUntil(lambda: bool(results), timeout=3000)
        qtbot.wait(50)
        assert results == [(last, 4)]
        assert ran == [1, 4]
    finally:
        worker.shutdown()


def test_cancel_sets_token_and_fires_hook(qtbot) -> None:
    hook_fired = threading.Event()

    def job(req: object, token: CancelToken) -> str:
        token.on_cancel(hook_fired.set)
        while not token.cancelled:
            time.sleep(0.005)
        token.raise_if_cancelled()
        return "never"

    worker = LatestWinsWorker(job, "cancellable")
    finished: list[object] = []
    worker.finished.connect(lambda i, r: finished.append(r))
    try:
        with qtbot.waitSignal(worker.started, timeout=3000):
            worker.submit(None)
        with qtbot.waitSignal(worker.cancelled, timeout=3000):
            worker.cancel()
        assert hook_fired.wait(2)
        qtbot.waitUntil(lambda: not worker.busy, timeout=3000)
        assert finished == []
    finally:
        worker.shutdown()


def test_errors_become_failed_signal(qtbot) -> None:
    def job(req: object, token: CancelToken) -> None:
        raise ImageLoadError("not an image: x.txt")

    worker = LatestWinsWorker(job, "failing")
    try:
        with qtbot.waitSignal(worker.failed, timeout=3000) as blocker:
            worker.submit(None)
        assert blocker.args[1] == "not an image: x.txt"
    finally:
        worker.shutdown()


def test_warmup_runs_first_on_the_worker_thread(qtbot) -> None:
    seen: list[str] = []
    worker = LatestWinsWorker(
        lambda req, tok: seen.append(threading.current_thread().name) or req,
        "warm",
        warmup=lambda: seen.append("warmup"),
    )
    try:
        with qtbot.waitSignal(worker.finished, timeout=3000):
            worker.submit(1)
        assert seen == ["warmup", "worker-warm"]
    finally:
        worker.shutdown()
