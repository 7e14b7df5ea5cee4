"""Scripted runs of the real window, for docs screenshots and smoke checks.

``seed-studio PHOTO --remove --view overlay --screenshot OUT.png --quit`` opens the photo,
runs the model, switches the view, grabs the window and exits. Each step waits for the
previous one's signal (the same asynchronous path a user's clicks take), so a screenshot shows
exactly what a person would see. Any failure ends the run with a message and exit status 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.ui.editor.canvas import ViewMode
from desktop_app.ui.main_window import MainWindow


@dataclass
class Script:
    photo: Path | None = None
    remove: bool = False
    view: ViewMode | None = None
    screenshot: Path | None = None
    quit: bool = False
    grab_canvas: bool = False  # grab only the image canvas instead of the whole window
    timeout_s: float = 300.0

    @property
    def needed(self) -> bool:
        return self.remove or self.view is not None or self.screenshot is not None or self.quit


class Automation(QObject):
    """Runs a Script against a MainWindow; ``exit_code`` is 0 on success, 1 on failure."""

    def __init__(self, window: MainWindow, script: Script) -> None:
        super().__init__(window)
        self.window = window
        self.script = script
        self.exit_code = 0
        self.done = False
        self._watchdog = QTimer(self, singleShot=True)
        self._watchdog.timeout.connect(lambda: self.fail(f"timed out after {script.timeout_s:.0f} s"))

    def start(self) -> None:
        self._watchdog.start(int(self.script.timeout_s * 1000))
        ed = self.window.editor
        if self.script.photo is not None:
            ed.loader.finished.connect(self._after_open)
            ed.loader.failed.connect(lambda _i, msg: self.fail(msg))
            self.window.open_path(self.script.photo)
        else:
            QTimer.singleShot(0, self._after_remove)

    def _after_open(self, *_args) -> None:
        self.window.editor.loader.finished.disconnect(self._after_open)
        if not self.script.remove:
            self._after_remove()
            return
        ed = self.window.editor
        ed.removal_finished.connect(self._after_remove)
        ed.remover.failed.connect(lambda _i, msg: self.fail(msg))
        ed.remover.cancelled.connect(lambda _i: self.fail("background removal was cancelled"))
        if self.window.remove_background() is None:
            last = self.window.errors[-1][1] if self.window.errors else "cannot remove the background"
            self.fail(last)

    def _after_remove(self, *_args) -> None:
        if self.script.view is not None:
            self.window.set_view_mode(self.script.view)
        # Let pending paints and layout settle before grabbing.
        QTimer.singleShot(150, self._grab)

    def _grab(self) -> None:
        shot = self.script.screenshot
        if shot is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            widget = self.window.canvas if self.script.grab_canvas else self.window
            pixmap = widget.grab()
            if pixmap.isNull() or not pixmap.save(str(shot)):
                self.fail(f"could not write the screenshot to {shot}")
                return
            print(f"seed-studio: screenshot saved to {shot}", file=sys.stderr)
        self.finish(0)

    def fail(self, message: str) -> None:
        if self.done:
            return
        print(f"seed-studio: {message}", file=sys.stderr)
        self.finish(1)

    def finish(self, code: int) -> None:
        if self.done:
            return
        self.done = True
        self.exit_code = code
        self._watchdog.stop()
        if self.script.quit or code != 0:
            app = QApplication.instance()
            # Closing the last window would also post a quit() that could land after exec()
            # returned and end the *next* event loop at once (matters when run in-process).
            app.setQuitOnLastWindowClosed(False)
            self.window.close()
            app.exit(code)
