"""Small pieces of the batch page: the throughput meter, what Start picks, coalesced row updates,
thumbnails decoded once, default output folders and the wording of durations."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.batch.queue import DONE, FAILED, QUEUED, SKIPPED, QueueItem, ThroughputMeter, runnable
from desktop_app.ui.batch.jobs import duration, progress_text
from desktop_app.ui.batch.model import MAX_BLOCKS, QueueModel
from desktop_app.ui.batch.page import default_output_for
from desktop_app.ui.batch.thumbs import ThumbnailLoader


def test_throughput_meter_uses_a_sliding_window() -> None:
    meter = ThroughputMeter(window_s=10.0)
    meter.start(now=0.0)
    for t in range(1, 11):  # 2 photos a second for 5 s
        meter.record(now=t / 2)
    assert meter.rate(now=5.0) == 2.0
    assert meter.eta(10, now=5.0) == 5.0
    assert meter.rate(now=30.0) == 0.0 and meter.eta(10, now=30.0) is None  # a long pause: no stale rate


def test_start_picks_queued_and_cancelled_rows_and_existing_ones_only_with_overwrite() -> None:
    rows = {s: QueueItem(Path(f"/p/{s}.png"), status=s) for s in (QUEUED, DONE, SKIPPED, FAILED, "cancelled")}
    unsupported = QueueItem(Path("/p/a.pdf"), status=SKIPPED, permanent_skip=True)
    assert {s for s, it in rows.items() if runnable(it, overwrite=False)} == {QUEUED, "cancelled"}
    assert {s for s, it in rows.items() if runnable(it, overwrite=True)} == {QUEUED, "cancelled", SKIPPED}
    assert not runnable(unsupported, overwrite=True)


def test_row_updates_are_coalesced_into_blocks(qapp) -> None:
    model = QueueModel()
    items = [QueueItem(Path(f"/x/{i:03d}.png")) for i in range(200)]
    assert len(model.add_items(items + items[:5])) == 200  # duplicates ignored
    spans: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b: spans.append((a.row(), b.row())))
    assert model.refresh(items[10:20] + items[40:42]) == 2 and spans == [(10, 19), (40, 41)]
    spans.clear()
    scattered = items[::3]
    assert len(scattered) > MAX_BLOCKS
    assert model.refresh(scattered) == 1 and spans == [(0, 198)]


def test_a_repaint_while_thumbnails_load_decodes_no_photo_twice(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every repaint asks again for rows still loading, which replaces the running request. The
    photo being decoded at that moment (and any decoded but not yet shown) must not be decoded
    again by the new request: under load the GUI repaints faster than the worker decodes, and
    each visible photo was decoded twice."""
    decoded: list[str] = []
    busy, release = threading.Event(), threading.Event()

    def thumbnail(path: Path, size: int) -> np.ndarray:
        decoded.append(path.name)
        busy.set()
        assert release.wait(10)  # held in the middle of the first photo until the repaint is in
        return np.zeros((size, size, 4), np.uint8)

    monkeypatch.setattr("desktop_app.ui.batch.thumbs.thumbnail", thumbnail)
    loader = ThumbnailLoader()
    items = [QueueItem(Path(f"/p/{i}.png")) for i in range(4)]
    try:
        assert all(loader.get(it) is None for it in items)  # painted: asked for
        qtbot.waitUntil(busy.is_set)
        first = loader.worker.latest_id
        assert all(loader.get(it) is None for it in items)  # painted again while loading
        qtbot.waitUntil(lambda: loader.worker.latest_id > first)  # the request was replaced
        release.set()
        qtbot.waitUntil(lambda: loader.pending == 0 and not loader.worker.busy)
    finally:
        release.set()
        loader.shutdown()
    assert sorted(decoded) == ["0.png", "1.png", "2.png", "3.png"] and loader.made == 4
    assert all(loader.cached(it) for it in items)


def test_a_paint_after_shutdown_asks_the_stopped_thumbnail_worker_for_nothing(qtbot) -> None:
    loader = ThumbnailLoader()
    loader.shutdown()
    assert loader.get(QueueItem(Path("/p/a.png"))) is None  # the page painted once more while closing
    assert loader.pending == 0
    qtbot.wait(100)  # the debounce would have submitted by now (pytest-qt fails on the exception)


def test_default_output_folder_is_beside_the_input(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    assert default_output_for(tmp_path / "shop") == tmp_path / "shop-cutouts"
    assert default_output_for(tmp_path / "one.jpg") == tmp_path / "cutouts"


def test_durations_and_progress_wording() -> None:
    assert [duration(s) for s in (4.25, 42, 754, 7384)] == ["4.2 s", "42 s", "12 min 34 s", "2 h 03 min"]
    assert progress_text(412, 2000, 5.2, 305.0, 3, paused=False) == (
        "412 of 2,000 · 5.2 photos/s · about 5 min 05 s left · 3 failed"
    )
    assert progress_text(5, 10, 1.0, 5.0, 0, paused=True) == "5 of 10 · paused"
