"""Lazy thumbnails for the batch queue: made off the GUI thread, only for rows being painted,
kept in a bounded LRU cache.

How it stays lazy: the model asks :meth:`ThumbnailLoader.get` only from ``data()``, and Qt
calls ``data()`` only for rows on screen. A miss records the row as *wanted*; a short debounce
then submits every wanted-but-missing row (newest first, capped) to ONE persistent
LatestWinsWorker. A newer submit cancels the running job, which loses nothing: the new request
repeats whatever is still missing. Decoded previews are handed back through a locked list that
the GUI drains every 50 ms while the worker is busy, so rows fill in progressively instead of
all at once at the end of a job.

Why the worker skips previews it has already decoded (``_decoded``): every repaint of a row
still loading asks for it again and so replaces the running request, and the new request names
the previews the cancelled job already decoded (waiting to be drained, or the one it was in the
middle of). Without the skip a busy GUI thread, which repaints more often than the worker
decodes, had the same photos decoded again and again: twice the visible rows under load.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from desktop_app.core.batch.queue import QueueItem, thumbnail
from desktop_app.ui.shared.workers import Cancelled, CancelToken, LatestWinsWorker

THUMB_SIZE = 48


class ThumbnailLoader(QObject):
    """``get(item)`` -> cached QPixmap or None (and a load is scheduled); ``ready`` lists the rows
    whose thumbnails just arrived."""

    ready = Signal(list)  # list[QueueItem]

    def __init__(self, size: int = THUMB_SIZE, capacity: int = 1500, max_wanted: int = 120, parent=None) -> None:
        super().__init__(parent)
        self.size = size
        self.capacity = capacity  # 1500 x 48 x 48 x 4 B = 14 MB at most
        self.max_wanted = max_wanted
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._unreadable: set[str] = set()
        self._wanted: OrderedDict[str, QueueItem] = OrderedDict()
        self._lock = threading.Lock()
        self._done: list[tuple[str, np.ndarray | None]] = []
        # keys decoded (waiting in _done, cached or unreadable), guarded by _lock: the worker
        # reads it, so a repeated request never decodes a preview twice; eviction forgets keys
        self._decoded: set[str] = set()
        self.made = 0  # thumbnails decoded so far (tests, benchmark)
        self._shut = False
        self.worker = LatestWinsWorker(self._job, "thumbnails", self)
        self._debounce = QTimer(self, singleShot=True, interval=30)
        self._debounce.timeout.connect(self._submit)
        self._drain_timer = QTimer(self, interval=50)
        self._drain_timer.timeout.connect(self.drain)
        self.worker.busy_changed.connect(self._on_busy)
        self.worker.finished.connect(lambda *_: self.drain())
        self.worker.cancelled.connect(lambda *_: self.drain())

    def get(self, item: QueueItem) -> QPixmap | None:
        key = item.key
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        if key in self._unreadable or item.permanent_skip or self._shut:
            return None
        self._wanted[key] = item
        self._wanted.move_to_end(key)
        while len(self._wanted) > self.max_wanted:  # scrolled past long ago: ask again if painted again
            self._wanted.popitem(last=False)
        if not self._debounce.isActive():
            self._debounce.start()
        return None

    @property
    def pending(self) -> int:
        return len(self._wanted)

    def cached(self, item: QueueItem) -> bool:
        """Whether the row's thumbnail is ready, without asking for it as ``get`` does (tests and
        screenshots check rows on screen are filled in without loading anything themselves)."""
        return item.key in self._cache

    def forget(self, items: list[QueueItem]) -> None:
        for it in items:
            self._wanted.pop(it.key, None)

    def shutdown(self) -> None:
        """Stop loading. The page may still be painted afterwards (it closes after its workers
        stop), and such a paint must not schedule a request for the stopped worker, which
        raised RuntimeError from the debounce timer, in whatever came next."""
        self._shut = True
        self._debounce.stop()
        self._drain_timer.stop()
        self.worker.shutdown()

    def _submit(self) -> None:
        if self._wanted:
            newest_first = [(k, it.source) for k, it in reversed(self._wanted.items())]
            self.worker.submit(newest_first)

    def _job(self, request: list[tuple[str, Path]], token: CancelToken) -> int:
        """Worker thread: decode each preview not decoded yet and hand it over at once
        (progressive fill-in); previews an earlier, superseded request already decoded are
        skipped, not repeated."""
        made = 0
        for key, path in request:
            if token.cancelled:
                raise Cancelled()
            with self._lock:
                if key in self._decoded:
                    continue
            try:
                arr: np.ndarray | None = thumbnail(path, self.size)
            except Exception:  # unreadable files get no thumbnail; the batch reports why
                arr = None
            with self._lock:
                self._done.append((key, arr))
                self._decoded.add(key)
            made += 1
        return made

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._drain_timer.start()
        else:
            self._drain_timer.stop()
            self.drain()

    def drain(self) -> int:
        """GUI thread: turn decoded previews into pixmaps and announce their rows."""
        with self._lock:
            done, self._done = self._done, []
        arrived: list[QueueItem] = []
        for key, arr in done:
            item = self._wanted.pop(key, None)
            if arr is None:
                self._unreadable.add(key)
                continue
            h, w = arr.shape[:2]
            image = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
            self._cache[key] = QPixmap.fromImage(image)
            self._cache.move_to_end(key)
            self.made += 1
            if item is not None:
                arrived.append(item)
        evicted: list[str] = []
        while len(self._cache) > self.capacity:
            evicted.append(self._cache.popitem(last=False)[0])
        if evicted:  # decoded again if painted again
            with self._lock:
                self._decoded.difference_update(evicted)
        if arrived:
            self.ready.emit(arrived)
        return len(arrived)
