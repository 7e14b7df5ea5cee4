"""Before/after of point-and-click in the real editor: the same clicks, two ways of clicking.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_click_before_after.py \
        --out docs/screenshots/clicks-before-after.png

For each photo (SOD 108005, the tiger; SOD 197017, the horses) the editor opens it, removes
the background with the default segmentation model, then a person's fix-up clicks go through
the canvas with the mouse: positive clicks on the parts the removal missed (a tail, legs). The
canvas is grabbed in overlay view after the removal, after the clicks as the previous release
made them (one zoom-in pass, every change kept: ``--old`` may name another click model) and
after the clicks as the editor makes them now (focus crop around each click, Tools > Keep
clicks local on), so the grid shows whether a click adds the region under it and nothing else.
Why a script and not a test: it needs the SOD photos and looks, it does not assert.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SEED_STUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="seed-shots-"))

import cv2
import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop_app.core.clicks.engine import ClickSegmenter, find_click_model
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.shared.qimage import qimage_to_rgb

ROOT = Path(__file__).resolve().parents[2]
SOD = ROOT.parent / "shared" / "datasets" / "sod" / "images"
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_click_latency import wait_until as wait_for  # noqa: E402  (an event loop that sleeps)

# photo -> positive clicks (image pixels) on what the removal missed
SCENES: dict[str, list[tuple[float, float]]] = {
    "108005": [(458, 185), (232, 255)],  # the tiger's tail; a front paw
    "197017": [(70, 245), (98, 235), (272, 215), (388, 205)],  # four legs the removal dropped
}


def grab_overlay(win: MainWindow) -> np.ndarray:
    win.set_view_mode("overlay")
    QTest.qWait(150)
    return qimage_to_rgb(win.canvas.grab().toImage())


def run_scene(
    app: QApplication, win: MainWindow, photo: Path, clicks, model: Path | None, now: bool = True
) -> list[np.ndarray]:
    """Open, remove, (optionally) click with ``model``, as the editor does now or as the previous
    release did (``now=False``); the overlay grabs along the way."""
    from desktop_app.ui.editor import click_tool

    click_tool.ClickSegmenter = ClickSegmenter if now else functools.partial(ClickSegmenter, focus=False)
    if win.keep_local_action.isChecked() != now:
        win.keep_local_action.trigger()  # the Tools menu's checkable action, as a person toggles it
    win.ask_unsaved = lambda _doing: "discard"
    before = win.editor.photo_id
    win.open_path(photo)
    wait_for(app, lambda: win.editor.photo_id != before and win.editor.photo is not None)
    done: list[object] = []
    win.editor.removal_finished.connect(done.append)
    win.remove_background()
    wait_for(app, lambda: bool(done))
    win.editor.removal_finished.disconnect(done.append)
    win.canvas.fit()
    shots = [grab_overlay(win)]
    if model is None:
        return shots
    win.set_tool("clicks")
    win.click_controller.model_path = model
    for i, (x, y) in enumerate(clicks, 1):
        pos = win.canvas.map_from_image(QPointF(x, y)).toPoint()
        QTest.mouseClick(win.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        wait_for(app, lambda n=i: win.click_controller.session.applied[-1:] == [n])
    shots.append(grab_overlay(win))
    return shots


def label(img: np.ndarray, text: str) -> np.ndarray:
    out = np.ascontiguousarray(img.copy())
    cv2.rectangle(out, (0, 0), (out.shape[1], 26), (255, 255, 255), -1)
    cv2.putText(out, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="click model of the 'before' column (default: the embedded one)")
    parser.add_argument("--new", type=Path, help="click model of the 'after' column (default: the embedded one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "clicks-before-after.png")
    parser.add_argument(
        "--old-as-now",
        action="store_true",
        help="click the 'before' column as the editor does now (compare two models, not two engines)",
    )
    args = parser.parse_args()
    args.old = args.old or find_click_model()
    args.new = args.new or find_click_model()
    app = QApplication.instance() or QApplication(sys.argv)
    win = MainWindow()
    win.resize(900, 700)
    win.show()
    rows = []
    before = "focus crop + keep local" if args.old_as_now else "one pass"
    for name, clicks in SCENES.items():
        photo = SOD / f"{name}.webp"
        removal, old = run_scene(app, win, photo, clicks, args.old, now=args.old_as_now)
        _, new = run_scene(app, win, photo, clicks, args.new, now=True)
        n = len(clicks)
        rows.append(
            np.hstack(
                [
                    label(removal, f"SOD {name}: after Remove background"),
                    label(old, f"+{n} clicks, before: {before} ({args.old.stem})"),
                    label(new, f"+{n} clicks, now: focus crop + keep local ({args.new.stem})"),
                ]
            )
        )
    grid = np.vstack(rows)
    if grid.shape[1] > 1800:  # the canvas follows the platform's screen; keep the file small
        grid = cv2.resize(grid, (1800, round(grid.shape[0] * 1800 / grid.shape[1])), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(args.out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} {grid.shape[1]}x{grid.shape[0]}")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
