"""Point-and-click selection in the editor: the Clicks canvas tool and its controller.

Left click = "this belongs to the subject", right click or Alt+click = "this does not". Each
click goes to ONE persistent newest-wins worker: clicks made while a prediction runs are
never lost, the next run simply includes them (see ``core.clicks.session``). Every applied
result is one undoable document step, so undoing a click restores the previous mask exactly.
Esc discards the session's clicks and their mask changes; Enter keeps the mask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QMenu

from desktop_app.core.clicks.engine import Click, ClickSegmenter, find_click_model
from desktop_app.core.clicks.session import ClickSession
from desktop_app.core.history import RegionChange, diff_region
from desktop_app.ui.editor.tool_protocol import CanvasTool, ToolCanvas
from desktop_app.ui.shared.workers import CancelToken, LatestWinsWorker

if TYPE_CHECKING:
    from desktop_app.ui.editor.controller import EditorController

POSITIVE = QColor(40, 200, 80)
NEGATIVE = QColor(230, 50, 50)
DOT_RADIUS = 7.0


def warm_up_clicks() -> Path | None:
    """Find the default click model and run it once on the worker at start-up, so the first
    click costs a click (~20 ms) instead of a search, a session load and first-run allocations
    (~0.4 s). Returns the model's path (None: no click model installed)."""
    path = find_click_model()
    if path is not None:
        ClickSegmenter(path).predict(np.zeros((32, 32, 3), np.uint8), [Click(16.0, 16.0, True)])
    return path


@dataclass
class ClickRequest:
    photo_id: int
    session_id: int
    clicks: tuple[Click, ...]
    rgb: np.ndarray
    preview: np.ndarray | None
    # The document's LIVE uint8 mask (None: no document yet), not a copy: copying 24 MP per
    # click cost ~5 ms on the GUI thread before the worker could start. The GUI may change it
    # while the worker reads; ``mask_version`` (the editor's at submission) tells the result
    # apart from one computed from a mask that stayed the same.
    prev: np.ndarray | None
    mask_version: int
    model_path: Path
    # progressive merge: only the change under the newest click lands (Tools > Keep clicks local)
    local: bool = True


@dataclass
class ClickResult:
    photo_id: int
    session_id: int
    n_clicks: int
    mask_version: int  # the editor's mask version the prediction read
    change: RegionChange | None  # the new mask's changed pixels vs that mask (None: no change)
    seconds: float


def run_clicks(req: ClickRequest, token: CancelToken) -> ClickResult:
    """Worker job: the click's change to the mask, diffed here against the mask it read.

    The GUI thread used to diff the zoom box (up to 19 MP on a 24 MP photo, ~8 ms) before it
    could show the result; now it only applies the change, valid as long as the mask version
    is still the one submitted (checked in ``ClickController._on_result``)."""
    t0 = time.perf_counter()
    engine = ClickSegmenter(req.model_path)
    (x0, y0, x1, y1), patch = engine.predict_patch(req.rgb, list(req.clicks), req.prev, req.preview, local=req.local)
    token.raise_if_cancelled()
    # no document yet: the editor starts one from an empty mask (np.zeros maps lazily)
    before = np.zeros(patch.shape, np.uint8) if req.prev is None else req.prev[y0:y1, x0:x1]
    change = diff_region(before, patch, x0, y0)
    seconds = time.perf_counter() - t0
    return ClickResult(req.photo_id, req.session_id, len(req.clicks), req.mask_version, change, seconds)


class ClickController(QObject):
    """Owns the click session, the worker and the mapping of results to document steps."""

    clicks_changed = Signal()
    status = Signal(str)

    def __init__(self, editor: EditorController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.session = ClickSession()
        self.model_path: Path | None = None
        self.last_ms: float | None = None
        # A click changes only the region connected to it (FocalClick's progressive merge), so
        # a later click never re-fills what an earlier one cleared elsewhere. On by default:
        # people correct a mask one spot at a time; the NoC protocol, which rewards global
        # changes, is measured both ways (core/clicks/focus.py, docs/decisions.md). Tools >
        # Keep clicks local sets it; the window saves and restores it with its other settings.
        self.keep_local = True
        self.worker = LatestWinsWorker(run_clicks, "clicks", self, warmup=self._warm_up)
        self.worker.finished.connect(self._on_result)
        self.worker.failed.connect(lambda _id, msg: self.editor.error.emit("Click selection failed", msg))
        editor.photo_changed.connect(self._forget)

    def _warm_up(self) -> None:
        """Worker thread, at start-up: the search reads model files, which the GUI must not."""
        path = warm_up_clicks()
        if self.model_path is None:
            self.model_path = path

    @property
    def available(self) -> bool:
        """A click model was found (known once the worker has warmed up, or after a click)."""
        return self.model_path is not None

    @property
    def clicks(self) -> list[Click]:
        return self.session.clicks

    def shutdown(self) -> None:
        self.worker.shutdown()

    def add_click(self, x: float, y: float, positive: bool) -> None:
        photo = self.editor.photo
        if photo is None:
            return
        h, w = photo.loaded.rgb.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return
        if self.model_path is None:
            self.model_path = find_click_model()
            if self.model_path is None:
                self.editor.error.emit("No click model", "No ONNX model of kind 'clicks' is installed.")
                return
        self.session.add(Click(float(x), float(y), positive))
        self.clicks_changed.emit()
        self._submit()

    def _submit(self) -> None:
        photo = self.editor.photo
        if photo is None or self.model_path is None or not self.session.clicks:
            return
        preview = photo.pyramid[-1] if len(photo.pyramid) > 1 else None
        self.worker.submit(
            ClickRequest(
                self.editor.photo_id,
                self.session.session_id,
                tuple(self.session.clicks),
                photo.loaded.rgb,
                preview,
                self.editor.mask,
                self.editor.mask_version,
                self.model_path,
                self.keep_local,
            )
        )

    def _on_result(self, _job: int, result: ClickResult) -> None:
        if result.photo_id != self.editor.photo_id or result.session_id != self.session.session_id:
            return
        if result.mask_version != self.editor.mask_version:
            # The mask changed while the model read it (an adjustment or a removal landed, an
            # undo...), so its input may have been half old, half new: predict again from the
            # mask as it is now. Newest wins, as for clicks made during a run.
            if self.session.pending:
                self._submit()
            return
        if not self.session.accept_result(result.n_clicks):
            return
        self.editor.apply_change(f"Click selection ({result.n_clicks} clicks)", result.change)
        self.last_ms = result.seconds * 1000
        self.status.emit(f"Click: {self.last_ms:.0f} ms for {result.n_clicks} click(s) ({self.model_path.stem})")

    def undo_click(self) -> None:
        """Ctrl+Z while clicks are on screen: the mask as it was before the last click."""
        plan = self.session.undo_click()
        for _ in range(plan.undo_document_steps):
            self.editor.undo()
        if plan.rerun:
            self._submit()
        else:
            self.worker.cancel()
        left = len(self.session.clicks)
        # replaces the last "Click: N ms" readout, which described a click that is gone now
        self.status.emit(f"Undid the last click ({left} left)" if left else "Undid the last click")
        self.clicks_changed.emit()

    def discard(self) -> None:
        """Esc: drop the clicks and undo every mask change they made."""
        self.worker.cancel()
        for _ in range(self.session.clear()):
            self.editor.undo()
        self.status.emit("Click selection discarded: the mask is as it was before the clicks")
        self.clicks_changed.emit()

    def accept(self) -> None:
        """Enter: keep the mask, start a fresh click session."""
        self.worker.cancel()
        n = len(self.session.clicks)
        self.session.clear()
        self.status.emit(f"Click selection kept ({n} click{'s' if n != 1 else ''}); the next click starts a new one")
        self.clicks_changed.emit()

    def _forget(self) -> None:
        self.worker.cancel()
        self.session.clear()
        self.clicks_changed.emit()


class ClickTool(CanvasTool):
    """Canvas tool: forwards clicks to the controller and draws them as green/red dots."""

    name = "clicks"
    cursor_shape = Qt.CursorShape.PointingHandCursor
    accepts_right_button = True

    def __init__(self, controller: ClickController) -> None:
        self.controller = controller

    def press(self, canvas: ToolCanvas, pos: QPointF, event: QMouseEvent) -> None:
        negative = event.button() == Qt.MouseButton.RightButton or bool(
            event.modifiers() & Qt.KeyboardModifier.AltModifier
        )
        self.controller.add_click(pos.x(), pos.y(), not negative)

    def paint_marks(self, canvas: ToolCanvas, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for click in self.controller.clicks:
            centre = canvas.map_from_image(QPointF(click.x + 0.5, click.y + 0.5))
            # dark halo + white ring: visible on the red overlay and on light or dark photos
            painter.setPen(QPen(QColor(0, 0, 0, 200), 4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, DOT_RADIUS, DOT_RADIUS)
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.setBrush(POSITIVE if click.positive else NEGATIVE)
            painter.drawEllipse(centre, DOT_RADIUS, DOT_RADIUS)
        painter.restore()

    def dot_marks(self, canvas: ToolCanvas) -> list[tuple[QRect, bool]]:
        """Widget area (halo included) and colour of each dot, in drawing order."""
        marks = []
        for click in self.controller.clicks:
            c = canvas.map_from_image(QPointF(click.x + 0.5, click.y + 0.5))
            marks.append((QRectF(c.x() - 11, c.y() - 11, 22, 22).toAlignedRect(), click.positive))
        return marks


class ClickToolMixin:
    """The Clicks tool in the main window, in two steps because the window is built in order:
    ``_build_click_tool`` (with the other tools, before the menus and panels, so the Tools menu,
    the Tools panel's button row and the C shortcut all get its action) and
    ``_wire_click_tool`` (once the menus exist: Enter, and Ctrl+Z undoing the last click while
    clicks are on screen). Esc goes through the window's single Cancel action."""

    def _build_click_tool(self) -> None:
        self.click_controller = ClickController(self.editor, self)
        self.click_tool = ClickTool(self.click_controller)
        self.click_action = self.add_tool("clicks", "Clicks", self.click_tool, "C")
        self.click_action.setToolTip("Clicks (C): left click adds to the subject, right or Alt+click removes")
        self._dots: list[tuple[QRect, bool]] = []

    def _wire_click_tool(self, tools_menu: QMenu) -> None:
        self.click_controller.clicks_changed.connect(self._repaint_dots)
        self.click_controller.clicks_changed.connect(self._update_accept_action)
        self.click_controller.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        # Enter keeps the clicks. Enabled only while clicks are on the editor page: a disabled
        # action leaves Enter to the focused widget (e.g. the latent page's seed box).
        self.accept_clicks_action = QAction("Accept click selection", self)
        self.accept_clicks_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        self.accept_clicks_action.triggered.connect(self._accept_clicks)
        tools_menu.addSeparator()
        tools_menu.addAction(self.accept_clicks_action)
        self.keep_local_action = QAction("Keep clicks local", self)
        self.keep_local_action.setCheckable(True)
        self.keep_local_action.setChecked(self.click_controller.keep_local)
        self.keep_local_action.setToolTip(
            "A click changes only the region connected to it; what earlier clicks fixed elsewhere stays"
        )
        self.keep_local_action.toggled.connect(lambda on: setattr(self.click_controller, "keep_local", on))
        tools_menu.addAction(self.keep_local_action)
        self.undo_action.triggered.disconnect()
        self.undo_action.triggered.connect(self._undo_or_undo_click)
        self.pages.currentChanged.connect(lambda _i: self._update_accept_action())
        self._update_accept_action()

    def _repaint_dots(self) -> None:
        """Repaint only the dots that appeared or went away (clicks are appended, popped or
        cleared, so they follow the common prefix). Painting right after a click competes
        with the click's inference for the two cores: the box around all dots, repainted
        before, spanned much of the canvas once clicks were apart (3-10 ms of painting per
        click on a 24 MP photo) where one new dot is 22 x 22 pixels."""
        now = self.click_tool.dot_marks(self.canvas)
        same = 0
        while same < min(len(now), len(self._dots)) and now[same] == self._dots[same]:
            same += 1
        for rect, _positive in self._dots[same:] + now[same:]:
            self.canvas.update(rect)
        self._dots = now

    def _clicks_active(self) -> bool:
        return self.canvas.tool is self.click_tool and bool(self.click_controller.clicks)

    def _update_accept_action(self) -> None:
        on_editor = self.pages.currentWidget() is self.canvas
        self.accept_clicks_action.setEnabled(on_editor and self._clicks_active())

    def _undo_or_undo_click(self) -> None:
        if self._clicks_active():
            self.click_controller.undo_click()
        else:
            self.editor.undo()

    def discard_clicks(self) -> bool:
        """Esc with clicks on screen: drop them and what they changed; False if there were none."""
        if not self._clicks_active():
            return False
        self.click_controller.discard()
        return True

    def _accept_clicks(self) -> None:
        if self._clicks_active():
            self.click_controller.accept()
