"""The batch page inside the main window: a page beside the editor, File ▸ Batch remove…,
``seed-studio --batch PATHS``, and "open in editor" from a failed row.

A mixin for MainWindow (like FileActionsMixin) so main_window.py only gains a few lines; it
relies on the window's ``add_page``, ``pages``, ``page_actions``, ``side_dock`` and ``open_path``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtGui import QKeySequence

from desktop_app.ui.batch.page import BatchPage

BATCH_SHORTCUT = "Ctrl+Shift+B"


class BatchWindowMixin:
    """``_install_batch_page`` in ``__init__``, ``show_batch`` to go there, ``shutdown_batch`` on close."""

    def _install_batch_page(self) -> None:
        self.batch_page = BatchPage()
        self.batch_page_action = self.add_page("batch", "Batch queue", self.batch_page, QKeySequence(BATCH_SHORTCUT))
        self.batch_page.open_in_editor.connect(self.open_from_batch)
        self._tools_dock_shown: bool | None = None
        self.pages.currentChanged.connect(self._on_page_changed)

    def _on_page_changed(self, _index: int) -> None:
        """The editor's tool panel means nothing on the batch page (it has its own options):
        hide it there, and bring it back as it was on returning to the editor."""
        if self.pages.currentWidget() is self.batch_page:
            if self._tools_dock_shown is None:
                self._tools_dock_shown = not self.side_dock.isHidden()
            self.side_dock.hide()
        elif self._tools_dock_shown is not None:
            self.side_dock.setVisible(self._tools_dock_shown)
            self._tools_dock_shown = None

    def show_batch(self, paths: Iterable[str | Path] = ()) -> BatchPage:
        """Switch to the batch page and queue ``paths`` (files and folders, scanned off the GUI thread)."""
        self.batch_page_action.setChecked(True)
        self.pages.setCurrentWidget(self.batch_page)
        paths = list(paths)
        if paths:
            self.batch_page.add_paths(paths)
        return self.batch_page

    def open_from_batch(self, path: Path) -> None:
        """A row's "Open in editor": back to the editor page with that photo."""
        for action in self.page_actions.actions():
            if action.data() == "editor":
                action.setChecked(True)
        self.pages.setCurrentWidget(self.canvas)
        self.open_path(path)

    def shutdown_batch(self) -> None:
        self.batch_page.shutdown()
