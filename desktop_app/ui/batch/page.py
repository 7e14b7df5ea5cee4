"""The batch page: drop thousands of photos, get cut-outs of all of them and an account of the
few that failed, in a window that stays usable.

Threads (never one per photo): the scan of dropped folders, thumbnails, and the run each have
ONE persistent LatestWinsWorker. The run job calls the core engine (``run_batch``, the same
one as ``seed-studio remove``) through :func:`run_queue`; rows it changes are recorded in a
ChangeLog and applied to the table by a 50 ms timer, so at most 20 model updates a second reach
the event loop however fast photos finish. Widgets are built in :mod:`widgets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.core.batch.engine import BatchControl, batch_segmenter
from desktop_app.core.batch.queue import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    QueueItem,
    RunOutcome,
    ThroughputMeter,
    runnable,
)
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter
from desktop_app.ui.batch import jobs as batch_jobs
from desktop_app.ui.batch.jobs import ChangeLog, RunRequest, ScanRequest, WarmRequest
from desktop_app.ui.batch.model import COL_THUMB, QueueModel, human_size
from desktop_app.ui.batch.rows import BatchRowsMixin
from desktop_app.ui.batch.thumbs import ThumbnailLoader
from desktop_app.ui.batch.widgets import BatchLayoutMixin
from desktop_app.ui.shared.widgets import IMAGE_FILTER
from desktop_app.ui.shared.workers import LatestWinsWorker

IDLE, RUNNING_STATE, PAUSED, CANCELLING = "idle", "running", "paused", "cancelling"
POLL_MS = 50  # table/progress refresh while running: at most 20 updates per second


def default_output_for(path: Path) -> Path:
    """``photos/`` -> ``photos-cutouts/`` beside it; a loose file -> ``cutouts/`` beside it."""
    p = Path(path).expanduser()
    if p.is_dir():
        return p.parent / f"{p.name.rstrip('/') or 'photos'}-cutouts"
    return p.parent / "cutouts"


class BatchPage(BatchRowsMixin, BatchLayoutMixin, QWidget):
    """Queue table, options, Start / Pause / Cancel, progress, failures and the summary."""

    open_in_editor = Signal(Path)
    run_finished = Signal(object)  # RunOutcome
    scan_finished = Signal(int)  # rows added
    state_changed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        make_segmenter: Callable[[RemoveOptions], Segmenter] = batch_segmenter,
    ) -> None:
        super().__init__(parent)
        self.make_segmenter = make_segmenter
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl  # tests replace it
        self.state = IDLE
        self.thumbs = ThumbnailLoader(parent=self)
        self.model = QueueModel(self.thumbs.get, self)
        self.thumbs.ready.connect(lambda items: self.model.refresh(items, (COL_THUMB, COL_THUMB)))
        self.scanner = LatestWinsWorker(batch_jobs.scan, "batch-scan", self)
        self.runner = LatestWinsWorker(batch_jobs.work, "batch-run", self)
        self.meter = ThroughputMeter()
        self.changes = ChangeLog()
        self.control: BatchControl | None = None
        self.todo: list[QueueItem] = []
        self.elapsed_total = 0.0
        self.last_outcome: RunOutcome | None = None
        self._showing_last_run = False  # the progress line shows the last run until the queue changes
        self.refresh_signals = 0  # dataChanged emissions during runs (benchmark)
        self._pending_paths: list[Path] = []
        self._warm_job: int | None = None
        self._warmed_for: tuple | None = None
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self.flush)
        self.setAcceptDrops(True)
        self.build_ui()
        self._connect()
        self._update_controls()

    def _connect(self) -> None:
        self.scanner.finished.connect(self._on_scanned)
        self.scanner.failed.connect(lambda _i, msg: self.show_banner(f"Cannot add: {msg}", error=True))
        self.scanner.busy_changed.connect(lambda busy: self.scan_label.setVisible(busy))
        self.runner.finished.connect(self._on_run_finished)
        self.runner.failed.connect(self._on_run_failed)
        self.model.rowsInserted.connect(lambda *_: self._queue_changed())
        self.model.rowsRemoved.connect(lambda *_: self._queue_changed())
        self.model.modelReset.connect(self._queue_changed)
        self.options_panel.changed.connect(self._queue_changed)
        self.options_panel.changed.connect(self.warm_up)
        self.add_files_button.clicked.connect(self.add_files_dialog)
        self.add_folder_button.clicked.connect(self.add_folder_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button.clicked.connect(self.retry_failed)
        self.editor_button.clicked.connect(self.open_selected_in_editor)
        self.folder_button.clicked.connect(self.show_selected_in_folder)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.set_filter(self.filter_combo.currentData()))
        self.table.doubleClicked.connect(lambda _ix: self.open_selected_in_editor())
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_controls())
        self.delete_action.triggered.connect(self.remove_selected)

    def showEvent(self, event) -> None:
        self.options_panel.refresh_models()
        super().showEvent(event)

    # -- adding ------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile() and u.toLocalFile()]
        if paths:
            self.add_paths(paths)
            event.acceptProposedAction()

    def add_paths(self, paths: Iterable[str | Path]) -> int | None:
        """Queue files and folders (scanned off the GUI thread); returns the scan job id."""
        new = [Path(p) for p in paths]
        if not new:
            return None
        if self.options_panel.output_dir() is None:
            self.options_panel.set_output_dir(default_output_for(new[0]))
        self._pending_paths.extend(new)
        # newest wins: a drop during a scan restarts it with every path not yet added
        return self.scanner.submit(ScanRequest(list(self._pending_paths), self.model.keys()))

    def add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos", "", IMAGE_FILTER)
        self.add_paths(files)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos (subfolders included)")
        if folder:
            self.add_paths([folder])

    def _on_scanned(self, _job: int, result: tuple[list[Path], list[QueueItem]]) -> None:
        paths, rows = result
        done = set(paths)
        self._pending_paths = [p for p in self._pending_paths if p not in done]
        added = self.model.add_items(rows)
        skipped = sum(1 for r in added if r.permanent_skip)
        if added:
            msg = f"Added {len(added) - skipped:,} photos"
            self.show_banner(msg + (f"; {skipped:,} files skipped (see Details)" if skipped else ""))
        else:
            self.show_banner("Nothing new to add: those files are already in the queue")
        self.warm_up()
        self.scan_finished.emit(len(added))

    def warm_up(self) -> None:
        """Load the model and the colour estimator now, while the operator looks at the queue,
        so their one-off GIL-heavy start-up is not paid in the middle of the batch."""
        if self.running or not self.model.items:
            return
        try:
            options = self.options_panel.options()
        except ValueError:
            return
        key = (options.model_path, options.convention, options.foreground_estimation)
        if key != self._warmed_for:
            self._warmed_for = key
            self._warm_job = self.runner.submit(WarmRequest(options, self.make_segmenter))

    # -- running -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state != IDLE

    def start(self) -> bool:
        """Process every queued (or cancelled) row; with Overwrite also rows skipped as existing."""
        if self.running or self.scanner.busy:
            return False
        message = self.options_panel.validate()
        if message:
            self.show_banner(f"Cannot start: {message}", error=True)
            return False
        options = self.options_panel.options()
        out = self.options_panel.output_dir()
        assert out is not None
        todo = [it for it in self.model.items if runnable(it, options.overwrite)]
        if not todo:
            self.show_banner("Nothing to do: every photo is done, skipped or failed (see Retry failed)")
            return False
        self.todo, self.control = todo, BatchControl()
        self.meter.start()
        request = RunRequest(list(self.model.items), todo, out, options, self.control, self._changed_on_worker,
                             self.elapsed_total, self.make_segmenter)  # fmt: skip
        self.runner.submit(request)
        self.banner.hide()
        self._set_state(RUNNING_STATE)
        self._poll.start()
        self.flush()
        return True

    def _changed_on_worker(self, item: QueueItem) -> None:
        """Batch thread: remember the row; the GUI picks it up on its next tick."""
        self.changes.mark(item)
        if batch_jobs.is_processed(item):
            self.meter.record()

    def pause(self) -> None:
        if self.state == RUNNING_STATE and self.control is not None:
            self.control.pause()
            self._set_state(PAUSED)
            self.flush()

    def resume(self) -> None:
        if self.state == PAUSED and self.control is not None:
            self.control.resume()
            self._set_state(RUNNING_STATE)
            self.flush()

    def toggle_pause(self) -> None:
        self.resume() if self.state == PAUSED else self.pause()

    def cancel(self) -> None:
        """Stop after the photos in flight; finished outputs stay, no partial file is left."""
        if self.running and self.control is not None:
            self.control.cancel()
            self._set_state(CANCELLING)
            self.flush()

    def retry_failed(self) -> bool:
        if self.running:
            return False
        failed = [it for it in self.model.items if it.status == FAILED and not it.permanent_skip]
        for it in failed:
            it.reset()
        self.model.refresh(failed)
        self._queue_changed()
        return self.start() if failed else False

    def flush(self) -> None:
        """GUI thread, every POLL_MS while running (and once at the end): apply changed rows and
        the progress line. Progress counts photos this run has processed (done, skipped or
        failed) out of the photos it set out to do; rows a cancel left untouched are not done."""
        changed = self.changes.take()
        if changed:
            self.refresh_signals += self.model.refresh(changed)
        total = len(self.todo)
        processed = failed = 0
        current = None
        for it in self.todo:
            if it.finished and it.status != CANCELLED:
                processed += 1
                failed += it.status == FAILED
            elif current is None and it.status == RUNNING:
                current = it
        self._show_progress(processed, total)
        rate = self.meter.rate()
        text = batch_jobs.progress_text(processed, total, rate, self.meter.eta(total - processed), failed,
                                        self.state == PAUSED)  # fmt: skip
        if self.state == CANCELLING:
            text += " · cancelling after the photos in flight…"
        elif current is not None and self.state == RUNNING_STATE:
            text += f" · {current.source.name}"
        elif self.state == IDLE and self.last_outcome is not None and self.last_outcome.report.cancelled:
            text += " · cancelled"
        self.progress_label.setText(text)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setFormat(f"{done:,} / {total:,}")  # first: valueChanged sees the new text
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _queue_changed(self) -> None:
        """Rows or options changed: the progress line now previews the next run."""
        self._showing_last_run = False
        self._update_controls()

    def _on_run_finished(self, job: int, outcome: RunOutcome | None) -> None:
        if job == self._warm_job or outcome is None:
            return
        self._poll.stop()
        self.elapsed_total += outcome.elapsed
        self.last_outcome = outcome
        self._showing_last_run = True
        self._set_state(IDLE)
        self.flush()  # after the state change: the final line, without "cancelling…"
        self.show_banner(batch_jobs.summary_text(outcome), warn=bool(outcome.report.failed) or outcome.report.cancelled)
        self.run_finished.emit(outcome)

    def _on_run_failed(self, job: int, message: str) -> None:
        if job == self._warm_job:  # e.g. no model yet: Start will say so
            self._warmed_for = None
            return
        self._poll.stop()
        self.flush()
        for it in self.todo:
            if it.status in (QUEUED, RUNNING):
                it.reset()
        self.model.refresh(self.todo)
        self.show_banner(f"The batch could not run: {message}", error=True)
        self._set_state(IDLE)

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_controls()
        self.state_changed.emit(state)

    def _update_controls(self) -> None:
        idle = not self.running
        counts = self.model.counts()
        n = len(self.model.items)
        overwrite = self.options_panel.overwrite()
        can_start = idle and any(runnable(it, overwrite) for it in self.model.items)
        self.start_button.setEnabled(can_start)
        self.pause_button.setEnabled(self.state in (RUNNING_STATE, PAUSED))
        self.pause_button.setText("Resume" if self.state == PAUSED else "Pause")
        self.cancel_button.setEnabled(self.state in (RUNNING_STATE, PAUSED))
        self.retry_button.setEnabled(idle and counts.get(FAILED, 0) > 0)
        self.retry_button.setText(f"Retry failed ({counts[FAILED]:,})" if counts.get(FAILED) else "Retry failed")
        has_selection = self.table.selectionModel().hasSelection()
        self.remove_button.setEnabled(idle and has_selection)
        self.delete_action.setEnabled(idle)
        self.clear_button.setEnabled(idle and n > 0)
        self.editor_button.setEnabled(has_selection)
        self.folder_button.setEnabled(has_selection)
        self.options_panel.setEnabled(idle)
        self.add_folder_button.setEnabled(True)
        self.views.setCurrentIndex(1 if n else 0)
        photos = sum(1 for it in self.model.items if not it.permanent_skip)
        size = sum(it.size for it in self.model.items if not it.permanent_skip)
        others = n - photos
        extra = f" · {others:,} other file{'s' if others > 1 else ''} skipped" if others else ""
        self.queue_label.setText(f"{photos:,} photos · {human_size(size)}{extra}" if n else "")
        if idle and not self._showing_last_run:
            # before Start: "0 / N" for the N photos Start would process, not a stale count
            self._show_progress(0, sum(1 for it in self.model.items if runnable(it, overwrite)))
            self.progress_label.setText("")

    def shutdown(self) -> None:
        """Stop everything (window closing): a running batch is cancelled cleanly first."""
        self._poll.stop()
        if self.control is not None:
            self.control.cancel()
        # a run gets time to finish the photos in flight; a warm-up (an import) is just dropped
        self.runner.shutdown(timeout=15.0 if self.running else 0.5)
        self.scanner.shutdown()
        self.thumbs.shutdown()
        self.options_panel.model_chooser.shutdown()
