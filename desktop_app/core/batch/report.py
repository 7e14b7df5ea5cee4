"""What a batch reports (:class:`BatchReport`) and how it is steered (:class:`BatchControl`).

Apart from the engine so the engine module stays about running, and so the GUI's queue can
build a report of a whole queue without importing the runner's internals.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.batch.plan import CANCELLED, DONE, FAILED, SKIPPED, BatchItem


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
    engine: dict = field(default_factory=dict)  # how a distributed run ran (workers, start-up); empty in process

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
            **({"engine": self.engine} if self.engine else {}),
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
