"""The editor's state machine: photo, mask document, strokes, adjustments, removal.

Widgets talk to this object, never to the core directly, and it talks to the core only through
``jobs`` (off the GUI thread, via LatestWinsWorkers) or cheap in-place edits (strokes, undo).
Every mask change is announced with the dirty rectangle so the canvas repaints just that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.core.history import MaskDocument, Rect, RegionChange
from desktop_app.core.mask_edit import Adjustments, Brush, Stroke, fill_holes
from desktop_app.core.pipeline import model_input
from desktop_app.ui.editor import jobs
from desktop_app.ui.shared.settings import make_settings
from desktop_app.ui.shared.workers import LatestWinsWorker


class EditorController(QObject):
    """Holds the open photo and its MaskDocument; implements the brush tools' StrokeTarget."""

    photo_changed = Signal()  # a new photo is shown (no mask yet)
    mask_reset = Signal()  # the mask array object changed (new document)
    mask_changed = Signal(object)  # Rect | None: pixels changed in place
    history_changed = Signal()
    adjust_session_closed = Signal()
    removal_finished = Signal(object)  # jobs.RemoveResult
    status = Signal(str)
    error = Signal(str, str)  # title, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.photo: jobs.OpenedPhoto | None = None
        self.photo_path: Path | None = None
        self.photo_id = 0
        self.doc: MaskDocument | None = None
        self.last_removal: jobs.RemoveResult | None = None
        # Undo memory budget; QSettings "history/max_mb" overrides the default 256 MB.
        self.history_bytes = int(float(make_settings().value("history/max_mb", 256)) * 1024 * 1024)
        self._stroke: Stroke | None = None
        # The mask as last saved, or as the model made it (None: empty). Edits are "unsaved"
        # while the mask differs from it; undoing back to it makes them saved again.
        self._saved_mask: np.ndarray | None = None
        self._pending_adjust: Adjustments | None = None
        # Bumped on every announced mask change (connected first, so before any other slot).
        # A background job that reads the live mask instead of a copy (the click tool: copying
        # a 24 MP mask per click cost ~5 ms on the GUI thread) compares it with the value at its
        # submission to tell whether its input stayed the same while it ran.
        self.mask_version = 0
        self.mask_changed.connect(self._bump_mask_version)
        self.mask_reset.connect(self._bump_mask_version)
        self.loader = LatestWinsWorker(jobs.open_photo, "open", self)
        self.remover = LatestWinsWorker(jobs.remove_background, "remove", self)
        self.adjuster = LatestWinsWorker(jobs.adjust_mask, "adjust", self)
        self.loader.finished.connect(self._on_opened)
        self.loader.failed.connect(lambda _id, msg: self.error.emit("Cannot open image", msg))
        self.remover.finished.connect(self._on_removed)
        self.remover.failed.connect(lambda _id, msg: self.error.emit("Background removal failed", msg))
        self.remover.cancelled.connect(lambda _id: self.status.emit("Background removal cancelled"))
        self.adjuster.finished.connect(self._on_adjusted)
        self.adjuster.failed.connect(lambda _id, msg: self.error.emit("Adjustment failed", msg))
        # Slider drags fire many values per second; coalesce them per event-loop turn.
        self._adjust_timer = QTimer(self, singleShot=True, interval=0)
        self._adjust_timer.timeout.connect(self._submit_adjust)

    def _bump_mask_version(self, *_rect: object) -> None:
        self.mask_version += 1

    def shutdown(self) -> None:
        for w in (self.loader, self.remover, self.adjuster):
            w.shutdown()

    # -- opening ---------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> int:
        p = Path(path)
        self.status.emit(f"Opening {p.name}…")
        return self.loader.submit(jobs.OpenRequest(path=p))

    def open_pixels(self, rgb: np.ndarray, name: str = "Pasted image") -> int:
        return self.loader.submit(jobs.OpenRequest(rgb=rgb, name=name))

    def _on_opened(self, _job: int, photo: jobs.OpenedPhoto) -> None:
        if self.remover.busy:
            self.remover.cancel()
        self.photo = photo
        self.photo_path = photo.loaded.path
        self.photo_id += 1
        self.doc = None
        self.last_removal = None
        self._stroke = None
        self._saved_mask = None
        self.photo_changed.emit()
        self.mask_reset.emit()
        self.history_changed.emit()
        h, w = photo.loaded.rgb.shape[:2]
        notes = f" ({'; '.join(photo.loaded.warnings)})" if photo.loaded.warnings else ""
        self.status.emit(f"Opened {photo.name}: {w}×{h}, {photo.seconds:.2f} s{notes}")

    @property
    def rgb(self) -> np.ndarray | None:
        return self.photo.loaded.rgb if self.photo is not None else None

    # -- background removal ----------------------------------------------------------------
    def remove_background(
        self, model_path: Path, convention: str | None = None, second_pass: bool = False
    ) -> int | None:
        if self.photo is None:
            self.error.emit("Nothing to do", "Open a photo first.")
            return None
        rgb = model_input(self.photo.loaded)
        req = jobs.RemoveRequest(self.photo_id, rgb, Path(model_path), convention, second_pass)
        self.status.emit(f"Removing background with {Path(model_path).stem}…")
        return self.remover.submit(req)

    def cancel_removal(self) -> bool:
        """Stop a running removal; False (and no "cancelled" message) if none is running."""
        if not self.remover.busy:
            return False
        self.remover.cancel()
        return True

    def _on_removed(self, _job: int, result: jobs.RemoveResult) -> None:
        if result.photo_id != self.photo_id:
            return  # the photo changed while the model ran
        self.last_removal = result
        self._finish_stroke()
        if self.doc is None:
            self._saved_mask = result.mask  # one click reproduces it: not an edit to lose
            self.doc = MaskDocument(result.mask, max_bytes=self.history_bytes)
            self.doc.on_session_closed = self.adjust_session_closed.emit
            self.mask_reset.emit()
        else:
            self.doc.model_mask = result.mask.copy()
            self.mask_changed.emit(self.doc.replace(f"Remove background ({result.summary()})", result.mask))
        self.history_changed.emit()
        self.status.emit(f"Background removed with {result.summary()} on {result.provider} in {result.seconds:.2f} s")
        self.removal_finished.emit(result)

    def paste_mask(self, label: str, patch: np.ndarray, x: int = 0, y: int = 0) -> None:
        """Paste a region of new mask (e.g. a click's zoom box; a whole mask at (0, 0)) as one
        undoable step; only the changed pixels are stored."""
        doc = self.ensure_document()
        if doc is None:
            return
        self._finish_stroke()
        self._emit_if_changed(doc.paste(label, patch, x, y))
        self.history_changed.emit()

    def apply_change(self, label: str, change: RegionChange | None) -> None:
        """Apply ``change``, diffed off the GUI thread against the current mask, as one undoable
        step (a click's result: the click tool checks that the mask version is still the one
        its worker read). Unlike ``paste_mask`` nothing is compared on the GUI thread."""
        doc = self.ensure_document()
        if doc is None:
            return
        self._finish_stroke()
        self._emit_if_changed(doc.push(label, change, already_applied=False))
        self.history_changed.emit()

    # -- strokes (StrokeTarget) --------------------------------------------------------------
    def ensure_document(self) -> MaskDocument | None:
        """A document to paint on; an empty mask if the model has not run (manual masking)."""
        if self.doc is None and self.photo is not None:
            h, w = self.photo.loaded.rgb.shape[:2]
            self.doc = MaskDocument(np.zeros((h, w), np.uint8), max_bytes=self.history_bytes)
            self.doc.on_session_closed = self.adjust_session_closed.emit
            self.mask_reset.emit()
        return self.doc

    def begin_stroke(self, x: float, y: float, brush: Brush) -> None:
        doc = self.ensure_document()
        if doc is None:
            return
        doc.close_adjust_session()
        self._stroke = Stroke(doc.mask, brush)
        self.mask_changed.emit(self._stroke.add_point(x, y))

    def extend_stroke(self, x: float, y: float) -> None:
        if self._stroke is not None:
            rect = self._stroke.add_point(x, y)
            if rect is not None:
                self.mask_changed.emit(rect)

    def end_stroke(self) -> None:
        self._finish_stroke()

    def _finish_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None or self.doc is None:
            return
        label = "Erase" if stroke.brush.erase else "Brush"
        self.doc.push(label, stroke.finish())
        self.history_changed.emit()

    def _emit_if_changed(self, rect: Rect | None) -> None:
        """Tell the views about a change; the document's None means "no pixel changed" (a click
        on what is already selected, nothing to undo), while the canvas reads None as "repaint
        everything" and would rebuild its whole zoom pyramid for nothing."""
        if rect is not None:
            self.mask_changed.emit(rect)

    # -- whole-mask actions ------------------------------------------------------------------
    def _action(self, fn) -> None:
        if self.doc is None:
            self.error.emit("No mask yet", "Run “Remove background” or paint with the brush first.")
            return
        self._finish_stroke()
        self._emit_if_changed(fn(self.doc))
        self.history_changed.emit()

    def invert(self) -> None:
        self._action(lambda d: d.invert())

    def fill_holes(self) -> None:
        self._action(lambda d: d.replace("Fill holes", fill_holes(d.mask)))

    def reset_mask(self) -> None:
        self._action(lambda d: d.reset())

    def undo(self) -> None:
        if self.doc is not None and self._stroke is None:
            self._emit_if_changed(self.doc.undo())
            self.history_changed.emit()

    def redo(self) -> None:
        if self.doc is not None and self._stroke is None:
            self._emit_if_changed(self.doc.redo())
            self.history_changed.emit()

    # -- adjustments ------------------------------------------------------------------------
    def request_adjustments(self, adj: Adjustments) -> None:
        """Preview ``adj`` applied to the mask as it was when this adjustment session began."""
        if self.doc is None:
            return
        self._pending_adjust = adj
        self._adjust_timer.start()

    def _submit_adjust(self) -> None:
        if self.doc is None or self._pending_adjust is None:
            return
        self._finish_stroke()
        serial, source = self.doc.adjust_source()
        self.adjuster.submit(jobs.AdjustRequest(serial, source, self.rgb, self._pending_adjust))

    def _on_adjusted(self, _job: int, result: jobs.AdjustResult) -> None:
        if self.doc is None or self._stroke is not None:
            return
        ok, rect = self.doc.apply_adjusted(result.serial, result.change, result.label)
        if ok:
            self.mask_changed.emit(rect)
            self.history_changed.emit()

    def commit_adjustments(self) -> None:
        """End the adjustment session: the next slider move starts from the current mask."""
        if self.doc is not None:
            self.doc.close_adjust_session()

    # -- saved or not ------------------------------------------------------------------------
    def has_unsaved_edits(self) -> bool:
        """True when the mask differs from the one last exported (or, before any export, from
        the model's result or the empty mask): opening another photo or quitting would lose it.

        One comparison of two masks (milliseconds even at 24 MP), made only when a person is
        about to replace the photo, rather than bookkeeping on every edit and undo."""
        if self.doc is None:
            return False
        mask = self.doc.mask
        if self._stroke is not None:
            return True
        if self._saved_mask is None:
            return bool(mask.any())
        return not np.array_equal(mask, self._saved_mask)

    def mark_saved(self, photo_id: int, mask: np.ndarray) -> None:
        """An export of ``mask`` (a snapshot) for photo ``photo_id`` has been written."""
        if photo_id == self.photo_id:
            self._saved_mask = mask

    # -- queries -----------------------------------------------------------------------------
    @property
    def mask(self) -> np.ndarray | None:
        return self.doc.mask if self.doc is not None else None
