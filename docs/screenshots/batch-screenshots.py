"""Regenerate batch-running.png and batch-finished.png with the real window (offscreen).

    .venv/bin/python docs/screenshots/batch-screenshots.py [--model PATH] [--photos 80]

A temporary "catalogue" folder (data-set photos symlinked into three subfolders, two broken
files and a stray PDF) is queued with ``MainWindow.show_batch`` -- what ``seed-studio --batch``
does -- then Start is clicked; the window is grabbed while the batch runs and again when it has
finished (sorted by status, so the failures are on top). Settings are isolated in a temp folder.
The model is --model, else the embedded default as shipped (not bench_batch's rembg-compatible
copy, whose name would show in the pictures), else bench_batch's stand-in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
SOD = ROOT.parent / "shared" / "datasets" / "sod" / "images"


def make_catalogue(folder: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    sources = sorted(SOD.glob("*.webp"))[:n] if SOD.is_dir() else []
    subs = ("bags", "shoes", "watches")
    for i in range(n):
        sub = folder / subs[i % len(subs)]
        sub.mkdir(parents=True, exist_ok=True)
        if sources:
            (sub / f"item-{i:03d}.webp").symlink_to(sources[i])
        else:
            rng = np.random.default_rng(i)
            Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(sub / f"item-{i:03d}.jpg")
    (folder / "shoes" / "item-007b.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)  # truncated upload
    (folder / "bags" / "scan-0001.png").write_bytes(b"")  # empty file
    (folder / "price-list.pdf").write_bytes(b"%PDF-1.4\n")


def wait(app, condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        app.processEvents()
        time.sleep(0.005)
        if time.monotonic() > end:
            raise TimeoutError("the batch did not get there in time")


def settle(app, page) -> None:
    """Let the view paint (which is what asks for thumbnails) and the thumbnails arrive."""
    for _ in range(3):
        page.window().grab()
        for _ in range(10):
            app.processEvents()
            time.sleep(0.01)
        wait(app, lambda: page.thumbs.pending == 0 and not page.thumbs.worker.busy, 10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="ONNX model to use")
    ap.add_argument("--photos", type=int, default=80)
    ap.add_argument("--size", default="1280x800")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="seed-batch-shots-"))
    os.environ["SEED_STUDIO_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from bench_batch import pick_model
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QAbstractItemView, QApplication

        from desktop_app.core.errors import ModelError
        from desktop_app.core.models import default_model_path
        from desktop_app.ui.batch.model import COL_STATUS
        from desktop_app.ui.main_window import MainWindow

        try:
            model, note = (Path(args.model), "given") if args.model else (default_model_path(), "embedded default")
        except ModelError:
            model, note = pick_model(None, tmp)
        print(f"model: {model} ({note})")
        catalogue = tmp / "catalogue"
        make_catalogue(catalogue, args.photos)
        app = QApplication.instance() or QApplication([sys.argv[0]])
        window = MainWindow()
        window.resize(*(int(v) for v in args.size.split("x")))
        window.show()
        page = window.batch_page
        page.options_panel.model_chooser.use_transient(model)
        window.model_chooser.use_transient(model)  # as `seed-studio --batch --model M` does
        window.show_batch([catalogue])
        wait(app, lambda: page.model.items and not page.scanner.busy and not page.runner.busy)
        page.start()
        wait(app, lambda: page.progress.value() >= args.photos // 2)
        page.pause()  # hold the scene still while it is framed: the row in flight, thumbnails loaded
        running = next((it for it in page.todo if it.status == "running"), page.todo[-1])
        row = page.proxy.mapFromSource(page.model.index(page.model.row_of(running), 1)).row()
        page.table.scrollTo(page.proxy.index(row, 1), QAbstractItemView.ScrollHint.PositionAtCenter)
        settle(app, page)
        page.resume()  # grabbed while running again, as a person would see it
        page.flush()
        window.grab().save(str(HERE / "batch-running.png"))
        wait(app, lambda: not page.running)
        page.table.sortByColumn(COL_STATUS, Qt.SortOrder.DescendingOrder)
        page.table.scrollToTop()
        page.table.selectRow(0)
        settle(app, page)
        window.grab().save(str(HERE / "batch-finished.png"))
        print(page.banner.text())
        window.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
