"""Screenshots of the Clicks tool on a sample photo with the embedded models (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_click_screenshots.py

Opens the astronaut, removes the background with the default model, then fixes the result with
negative clicks (the flag, the rocket) and grabs the window after each stage.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEED_STUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="seed-shots-"))

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.ui.main_window import MainWindow

HERE = Path(__file__).resolve().parent
PHOTO = HERE.parents[1] / "assets" / "samples" / "astronaut.png"
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from bench_click_latency import wait_until as wait_for  # noqa: E402  (an event loop that sleeps)


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    win.open_path(PHOTO)
    wait_for(app, lambda: win.editor.photo is not None)
    done: list[object] = []
    win.editor.removal_finished.connect(done.append)
    win.remove_background()
    wait_for(app, lambda: bool(done))
    win.set_view_mode("overlay")
    # a person looks at the result before clicking: let the start-up warm-ups (colour
    # estimator, click model) finish, so the status bar shows what a click costs
    warmed: list[object] = []
    win.click_controller.worker.warmed_up.connect(lambda: warmed.append(1))
    win.exporter.warmed_up.connect(lambda: warmed.append(2))
    t_settle = time.perf_counter()
    wait_for(app, lambda: len(warmed) >= 2 or time.perf_counter() - t_settle > 5)
    win.set_tool("clicks")
    clicks = [
        (45, 60, Qt.MouseButton.RightButton),
        (22, 300, Qt.MouseButton.RightButton),
        (412, 45, Qt.MouseButton.RightButton),
        (55, 160, Qt.MouseButton.RightButton),
    ]
    for i, (x, y, button) in enumerate(clicks, 1):
        pos = win.canvas.map_from_image(QPointF(x, y)).toPoint()
        QTest.mouseClick(win.canvas, button, Qt.KeyboardModifier.NoModifier, pos)
        wait_for(app, lambda n=i: win.click_controller.session.applied[-1:] == [n])
        QTest.qWait(100)
    win.grab().save(str(HERE / "clicks-overlay.png"))
    win.set_view_mode("cutout")
    QTest.qWait(200)
    win.canvas.grab().save(str(HERE / "clicks-cutout.png"))
    print(win.statusBar().currentMessage())
    win.ask_unsaved = lambda _doing: "discard"  # nothing to save: no Save/Discard/Cancel box
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
