"""The main window's status bar: the busy indicator with its Cancel button, and the readouts on
the right (pointer position and mask value, model, zoom), kept true to what is on screen.

A mixin for MainWindow, so main_window.py stays about layout. The readouts are refreshed by
events, not polled: the pointer's mask value when the mask changes under a still pointer (undo,
a click's result), and the model readout when another photo is opened (the previous photo's
"model · provider · time" would describe a mask that is no longer there).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class StatusReadoutsMixin:
    """Needs the window's ``editor``, ``canvas``, ``model_chooser``, ``remove_action``,
    ``remove_button``, ``undo_action`` and ``redo_action``."""

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._busy_jobs: dict[str, tuple[str, object]] = {}
        self._pointer: tuple[float, float] | None = None
        self.busy_box = QWidget()
        lay = QHBoxLayout(self.busy_box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.busy_label = QLabel("")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setFixedWidth(120)
        self.cancel_button = QPushButton("Cancel")
        lay.addWidget(self.busy_label)
        lay.addWidget(self.busy_bar)
        lay.addWidget(self.cancel_button)
        self.busy_box.hide()
        bar.addWidget(self.busy_box)
        self.model_label = QLabel("")
        self.zoom_label = QLabel("")
        self.pos_label = QLabel("")
        for w in (self.pos_label, self.model_label, self.zoom_label):
            bar.addPermanentWidget(w)

    def _connect_readouts(self) -> None:
        ed, cv = self.editor, self.canvas
        ed.remover.busy_changed.connect(self._on_remove_busy)
        ed.loader.busy_changed.connect(lambda b: self.set_busy("open", b, "Opening…", ed.loader.cancel))
        ed.adjuster.busy_changed.connect(lambda b: self.set_busy("adjust", b, "Adjusting mask…"))
        ed.history_changed.connect(self._update_history_actions)
        ed.mask_changed.connect(lambda _rect: self._show_pointer())
        ed.mask_reset.connect(self._show_pointer)
        self.cancel_button.clicked.connect(self._cancel_busy)
        self.model_chooser.model_changed.connect(lambda _p: self._update_model_label())
        cv.view_changed.connect(lambda: self.zoom_label.setText(f"{cv.scale * 100:.0f} %"))
        cv.pointer_moved.connect(self._on_pointer)
        self._update_history_actions()
        self._update_model_label()

    # -- busy indicator ------------------------------------------------------------------------
    def set_busy(self, key: str, busy: bool, label: str = "", cancel=None) -> None:
        """Show or hide the status-bar busy indicator for one kind of job; Cancel stops all."""
        if busy:
            self._busy_jobs[key] = (label, cancel)
        else:
            self._busy_jobs.pop(key, None)
        self.busy_box.setVisible(bool(self._busy_jobs))
        if self._busy_jobs:
            self.busy_label.setText(" · ".join(text for text, _c in self._busy_jobs.values()))
            self.cancel_button.setEnabled(any(c is not None for _t, c in self._busy_jobs.values()))

    def _cancel_busy(self) -> None:
        for _label, cancel in list(self._busy_jobs.values()):
            if cancel is not None:
                cancel()

    def _on_remove_busy(self, busy: bool) -> None:
        self.set_busy("remove", busy, "Removing background…", self.editor.cancel_removal)
        self.remove_action.setEnabled(not busy)
        self.remove_button.setEnabled(not busy)

    # -- readouts ------------------------------------------------------------------------------
    def _update_history_actions(self) -> None:
        doc = self.editor.doc
        can_undo = doc is not None and doc.history.can_undo
        can_redo = doc is not None and doc.history.can_redo
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"&Undo {doc.history.undo_label}" if can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {doc.history.redo_label}" if can_redo else "&Redo")

    def _update_model_label(self) -> None:
        entry = self.model_chooser.current_entry()
        self.model_label.setText(f"Model: {entry.spec.name}" if entry else "No model")

    def _show_removal_readout(self, result) -> None:
        """``result`` is a jobs.RemoveResult: what made the mask on screen, where, how fast."""
        self.model_label.setText(f"{result.summary()} · {result.provider} · {result.seconds:.2f} s")

    def _reset_readouts(self) -> None:
        """Another photo: nothing on the right may describe the previous one."""
        self._pointer = None
        self.pos_label.setText("")
        self._update_model_label()

    def _on_pointer(self, x: float, y: float) -> None:
        self._pointer = (x, y)
        self._show_pointer()

    def _show_pointer(self) -> None:
        """Position and mask value under the pointer; called on moves and on mask changes."""
        size = self.canvas.image_size()
        if self._pointer is None:
            return
        x, y = self._pointer
        if 0 <= x < size.width() and 0 <= y < size.height():
            mask = self.editor.mask
            extra = f"  mask {int(mask[int(y), int(x)])}" if mask is not None else ""
            self.pos_label.setText(f"{int(x)}, {int(y)}{extra}")
        else:
            self.pos_label.setText("")
