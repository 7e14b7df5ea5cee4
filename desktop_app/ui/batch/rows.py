"""Row actions of the batch page: selection, remove, queue again, clear, open in the editor,
show in folder, the context menu and the status filter.

A mixin for BatchPage (so page.py stays about running the batch); it relies on the page's
``table``, ``proxy``, ``model``, ``thumbs``, ``running``, ``open_in_editor``, ``open_url``,
``banner`` and ``_queue_changed``.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMenu

from desktop_app.core.batch.queue import DONE, QUEUED, QueueItem


class BatchRowsMixin:
    """What a person can do with the rows they selected."""

    def selected_items(self) -> list[QueueItem]:
        rows = {self.proxy.mapToSource(ix).row() for ix in self.table.selectionModel().selectedRows()}
        return [self.model.item(r) for r in sorted(rows)]

    def remove_selected(self) -> int:
        if self.running:
            return 0
        items = self.selected_items()
        self.thumbs.forget(items)
        return self.model.remove_rows(r for r in (self.model.row_of(it) for it in items) if r is not None)

    def requeue_selected(self) -> int:
        """Queue finished rows again, e.g. to redo them with other options (with Overwrite)."""
        if self.running:
            return 0
        items = [it for it in self.selected_items() if not it.permanent_skip and it.status != QUEUED]
        for it in items:
            it.reset()
        self.model.refresh(items)
        self._queue_changed()
        return len(items)

    def clear(self) -> None:
        if not self.running:
            self.model.clear()
            self.elapsed_total, self.last_outcome = 0.0, None
            self.banner.hide()

    def open_selected_in_editor(self) -> None:
        items = self.selected_items()
        if items:
            self.open_in_editor.emit(items[0].source)

    def show_selected_in_folder(self) -> None:
        """The output's folder for a done photo, else the photo's own folder."""
        items = self.selected_items()
        if items:
            it = items[0]
            folder = it.output.parent if it.status == DONE and it.output is not None else it.source.parent
            self.open_url(QUrl.fromLocalFile(str(folder)))

    def _context_menu(self, pos) -> None:
        if not self.selected_items():
            return
        menu = QMenu(self)
        menu.addAction("Open in editor", self.open_selected_in_editor)
        menu.addAction("Show in folder", self.show_selected_in_folder)
        menu.addSeparator()
        for text, slot in (("Queue again", self.requeue_selected), ("Remove from queue", self.remove_selected)):
            menu.addAction(text, slot).setEnabled(not self.running)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def set_filter(self, status: str) -> None:
        """Show only rows with this status ('' for all): "show me the failures"."""
        self.proxy.setFilterRegularExpression(f"^{status}$" if status else "")
