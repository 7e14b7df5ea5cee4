"""Never lose edits without a word: Save / Discard / Cancel before the photo is replaced or the
window closes.

A mixin for MainWindow. Every way a person can replace the photo (File ▸ Open, Open Recent,
drop, paste, "Open in editor" on the batch page) and quitting go through
:meth:`proceed_if_saved`. It asks only when the mask differs from what was last exported
(``EditorController.has_unsaved_edits``); *Save* opens the export dialog and carries on once
the file is written, *Cancel* (or Esc) leaves everything as it was.

The question is one method, :meth:`ask_unsaved`, showing a real modal QMessageBox with the
platform's button order; tests find that box with ``QApplication.activeModalWidget()`` and
click its buttons, or replace the method.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
PROMPT_NAME = "unsaved-edits"  # objectName of the box, for tests and automation

_ANSWERS = {
    QMessageBox.StandardButton.Save: SAVE,
    QMessageBox.StandardButton.Discard: DISCARD,
}


class UnsavedEditsMixin:
    """Needs the window's ``editor`` and ``export_dialog`` (which returns the export's job id,
    or None when the person cancelled the file dialog)."""

    _after_save: Callable[[], None] | None = None

    def ask_unsaved(self, doing: str) -> str:
        """Ask whether to save the edited mask before ``doing`` ("opening another photo", ...);
        returns "save", "discard" or "cancel"."""
        photo = self.editor.photo
        name = photo.name if photo is not None else "this photo"
        box = QMessageBox(self)
        box.setObjectName(PROMPT_NAME)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved edits")
        box.setText(f"Save the edited mask of {name} before {doing}?")
        box.setInformativeText("Your changes to the mask will be lost if you don't save them.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return _ANSWERS.get(box.standardButton(box.clickedButton()), CANCEL)

    def proceed_if_saved(self, doing: str, then: Callable[[], None], later: Callable[[], None] | None = None) -> bool:
        """Run ``then`` now if nothing would be lost (or the person chose Discard); if they chose
        Save, run ``later`` (default ``then``) once the export is written; never if they
        cancelled. True if ``then`` ran now (closing uses that to accept its event)."""
        if not self.editor.has_unsaved_edits():
            then()
            return True
        answer = self.ask_unsaved(doing)
        if answer == DISCARD:
            then()
            return True
        if answer == SAVE and self.export_dialog("cutout") is not None:
            self._after_save = later or then
        else:
            self._after_save = None
            self.statusBar().showMessage("Kept the edited mask", 5000)
        return False

    def _saved_then_continue(self) -> None:
        """The export started from the prompt has been written: do what was asked."""
        then, self._after_save = self._after_save, None
        if then is not None and not self.editor.has_unsaved_edits():
            then()

    def _forget_pending_after_save(self) -> None:
        """The export failed or was cancelled: nothing was saved, so do not go on."""
        self._after_save = None
