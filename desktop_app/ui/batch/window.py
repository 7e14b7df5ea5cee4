"""The batch page inside the main window: a page beside the editor, File ▸ Batch remove…,
``seed-studio --batch PATHS``, and "open in editor" from a failed row.

A mixin for MainWindow (like FileActionsMixin) so main_window.py only gains a few lines; it
relies on the window's ``add_page``, ``pages``, ``page_actions`` and ``open_path_asking``. (The
window hides the editor's tool panel on every page but the editor's.)
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

    def show_batch(self, paths: Iterable[str | Path] = ()) -> BatchPage:
        """Switch to the batch page and queue ``paths`` (files and folders, scanned off the GUI thread)."""
        self.batch_page_action.setChecked(True)
        self.pages.setCurrentWidget(self.batch_page)
        paths = list(paths)
        if paths:
            self.batch_page.add_paths(paths)
        return self.batch_page

    def open_from_batch(self, path: Path) -> None:
        """A row's "Open in editor": back to the editor page with that photo (after Save /
        Discard / Cancel if the editor holds unsaved edits)."""
        for action in self.page_actions.actions():
            if action.data() == "editor":
                action.setChecked(True)
        self.pages.setCurrentWidget(self.canvas)
        self.open_path_asking(path)

    def shutdown_batch(self) -> None:
        self.batch_page.shutdown()
