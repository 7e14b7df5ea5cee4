"""Batch page: drops fill the queue, runs through the core engine give the right statuses,
cancel leaves no partial files, reruns skip finished work, failed rows can be retried, and the
JSON report says what happened. Tiny generated photos and a 32x32 ONNX model keep it fast.

Runs are started, paused, resumed and cancelled by clicking the page's buttons, as a person
does; the progress line is read as shown."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers.corpus import photo, tree_hashes
from helpers.tiny_models import make_click_model
from PIL import Image
from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtWidgets import QWidget
from ui_helpers import click, drop

from desktop_app.core.batch.queue import CANCELLED, DONE, FAILED, QUEUED, REPORT_NAME, SKIPPED, QueueItem
from desktop_app.core.imageio import TEMP_SUFFIX
from desktop_app.core.segment import Segmenter
from desktop_app.ui.batch.page import BatchPage

WAIT_MS = 60_000  # generous: the test machine is shared with training runs


def save(path: Path, fmt: str = "PNG", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, fmt)
    return path


class SlowSegmenter(Segmenter):
    """The real tiny model, 40 ms slower per photo, so a test can act in the middle of a run."""

    def predict(self, *args, **kwargs):
        time.sleep(0.04)
        return super().predict(*args, **kwargs)


@pytest.fixture
def make_page(qtbot, seg_model: Path, models_env: Path):
    pages: list[BatchPage] = []

    def make(slow: bool = False) -> BatchPage:
        factory = (lambda o: SlowSegmenter(o.model_path)) if slow else (lambda o: Segmenter(o.model_path))
        page = BatchPage(make_segmenter=factory)
        qtbot.addWidget(page)
        page.options_panel.model_chooser.use_transient(seg_model)
        page.resize(1100, 600)
        page.show()
        pages.append(page)
        return page

    yield make
    for p in pages:
        p.shutdown()


def add_and_wait(qtbot, page: BatchPage, paths: list[Path]) -> int:
    with qtbot.waitSignal(page.scan_finished, timeout=WAIT_MS) as blocker:
        page.add_paths(paths)
    return blocker.args[0]


def run_and_wait(qtbot, page: BatchPage, button=None):
    """Click Start (or ``button``, e.g. Retry failed) and wait until the run has finished."""
    with qtbot.waitSignal(page.run_finished, timeout=WAIT_MS) as blocker:
        click(qtbot, button or page.start_button)
    return blocker.args[0]


def by_name(page: BatchPage) -> dict[str, object]:
    return {it.source.name: it for it in page.model.items}


def test_drop_fills_queue_ignores_duplicates_and_lists_unsupported(qtbot, make_page, tmp_path: Path) -> None:
    folder = tmp_path / "products"
    save(folder / "a.png")
    save(folder / "sub" / "b.jpg", "JPEG")
    save(folder / ".hidden.png")
    (folder / "notes.txt").write_text("not a photo")
    loose = save(tmp_path / "c.png")
    readme = tmp_path / "readme.md"
    readme.write_text("#")
    page = make_page()
    with qtbot.waitSignal(page.scan_finished, timeout=WAIT_MS):
        assert drop(page, [folder, loose, readme, loose])
    rows = by_name(page)
    assert sorted(rows) == ["a.png", "b.jpg", "c.png", "notes.txt", "readme.md"]
    assert rows["b.jpg"].rel == Path("sub") and rows["a.png"].rel == Path()
    assert {n for n, it in rows.items() if it.status == QUEUED} == {"a.png", "b.jpg", "c.png"}
    for name in ("notes.txt", "readme.md"):
        assert rows[name].status == SKIPPED and "unsupported file type" in rows[name].reason
    assert page.options_panel.output_dir() == tmp_path / "products-cutouts"
    assert "3 photos" in page.queue_label.text()
    assert page.progress.text() == "0 / 3"  # what Start would do, not a placeholder "0 / 100"
    with qtbot.waitSignal(page.scan_finished, timeout=WAIT_MS) as again:  # same folder and file again
        assert drop(page, [folder, loose])
    assert again.args == [0] and len(page.model.items) == 5


def test_run_mixed_files_statuses_outputs_and_report(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "a.png")
    save(src / "b.jpg", "JPEG", seed=1)
    save(src / "sub" / "c.webp", "WEBP", seed=2)
    (src / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 4)
    (src / "empty.png").write_bytes(b"")
    before = tree_hashes(src)
    page = make_page()
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    outcome = run_and_wait(qtbot, page)
    rows = by_name(page)
    assert {n: it.status for n, it in rows.items()} == {
        "a.png": DONE, "b.jpg": DONE, "c.webp": DONE, "corrupt.jpg": FAILED, "empty.png": FAILED,
    }  # fmt: skip
    assert "empty" in rows["empty.png"].reason and rows["corrupt.jpg"].reason
    assert tree_hashes(src) == before  # inputs never modified
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "a.png", "b.png", REPORT_NAME, "sub/c.png",
    ]  # fmt: skip
    with Image.open(out / "sub" / "c.png") as im:
        assert im.mode == "RGBA"
    report = json.loads((out / REPORT_NAME).read_text())
    assert report["counts"] == {"done": 3, "skipped": 0, "failed": 2, "cancelled": 0}
    assert report["cancelled"] is False and report["model"] == "tiny-seed"
    failed = {Path(i["source"]).name: i["reason"] for i in report["items"] if i["status"] == "failed"}
    assert set(failed) == {"corrupt.jpg", "empty.png"} and all(failed.values())
    assert outcome.report_path == out / REPORT_NAME and outcome.processed == 5
    assert page.progress.value() == page.progress.maximum() == 5
    assert "3 done" in page.banner.text() and "2 failed" in page.banner.text()
    assert page.retry_button.isEnabled() and not page.cancel_button.isEnabled()
    page.set_filter(FAILED)
    assert page.proxy.rowCount() == 2


def test_cancel_mid_run_leaves_no_partial_files_and_rerun_skips_done(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(16):
        save(src / f"p{i:02d}.png", seed=i)
    page = make_page(slow=True)
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    assert page.progress.text() == "0 / 16"
    with qtbot.waitSignal(page.run_finished, timeout=WAIT_MS) as blocker:
        click(qtbot, page.start_button)
        qtbot.waitUntil(lambda: page.model.counts()[DONE] >= 3, timeout=WAIT_MS)
        click(qtbot, page.cancel_button)
        assert "cancelling" in page.progress_label.text()
    report = blocker.args[0].report
    assert report.cancelled
    done = [it for it in page.model.items if it.status == DONE]
    cancelled = [it for it in page.model.items if it.status == CANCELLED]
    assert len(done) + len(cancelled) == 16 and cancelled
    # the photos done, not the rows the cancel touched; and no "cancelling…" left behind
    assert page.progress.text() == f"{len(done)} / 16" and page.progress.value() == len(done)
    assert "cancelling" not in page.progress_label.text() and "cancelled" in page.progress_label.text()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in out.rglob("*") if p.name.endswith(TEMP_SUFFIX)]
    assert sorted(p.name for p in files if p.suffix == ".png") == sorted(it.output.name for it in done)
    for p in files:
        if p.suffix == ".png":
            with Image.open(p) as im:
                im.load()  # complete, decodable files only
    stamps = {it.output: it.output.stat().st_mtime_ns for it in done}
    # Start again: only the cancelled rows run
    assert page.progress.text() == f"{len(done)} / 16"  # still the last run until the queue changes
    outcome = run_and_wait(qtbot, page)
    assert page.progress.text() == f"{len(cancelled)} / {len(cancelled)}"
    assert page.model.counts()[DONE] == 16 and not outcome.report.cancelled
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    # A new window given the same folder (a restart): everything is already done, nothing rewritten
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.png")}
    page2 = make_page()
    page2.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page2, [src])
    outcome = run_and_wait(qtbot, page2)
    assert page2.model.counts()[SKIPPED] == 16 and outcome.processed == 0
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    assert json.loads((out / REPORT_NAME).read_text())["counts"]["skipped"] == 16


def test_pause_holds_the_batch_and_resume_finishes_it(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(10):
        save(src / f"p{i}.png", seed=i)
    page = make_page(slow=True)
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    with qtbot.waitSignal(page.run_finished, timeout=WAIT_MS):
        click(qtbot, page.start_button)
        qtbot.waitUntil(lambda: page.model.counts()[DONE] >= 1, timeout=WAIT_MS)
        click(qtbot, page.pause_button)
        assert page.pause_button.text() == "Resume" and "paused" in page.progress_label.text()
        qtbot.wait(400)  # photos in flight finish, then nothing moves
        held = page.model.counts()[DONE]
        qtbot.wait(400)
        assert page.model.counts()[DONE] == held < 10
        click(qtbot, page.pause_button)
    assert page.model.counts()[DONE] == 10


def test_retry_failed_reruns_only_failed_rows(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "good.png")
    bad = src / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    page = make_page()
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    run_and_wait(qtbot, page)
    assert by_name(page)["bad.png"].status == FAILED
    good_stamp = (out / "good.png").stat().st_mtime_ns
    save(bad, seed=3)  # the operator fixes the file
    outcome = run_and_wait(qtbot, page, page.retry_button)
    assert by_name(page)["bad.png"].status == DONE and outcome.processed == 1
    assert (out / "good.png").stat().st_mtime_ns == good_stamp
    report = json.loads((out / REPORT_NAME).read_text())
    assert report["counts"] == {"done": 2, "skipped": 0, "failed": 0, "cancelled": 0}
    assert not page.retry_button.isEnabled()


def test_remove_before_start_and_row_actions(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for name in ("a.png", "b.png", "c.png"):
        save(src / name)
    (src / "d.png").write_bytes(b"junk")
    page = make_page()
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    page.table.selectRow(1)  # b.png, in queue order
    assert page.remove_button.isEnabled()
    page.remove_button.click()
    assert [it.source.name for it in page.model.items] == ["a.png", "c.png", "d.png"]
    run_and_wait(qtbot, page)
    assert not (out / "b.png").exists() and (out / "a.png").exists()
    opened: list[Path] = []
    urls: list[QUrl] = []
    page.open_in_editor.connect(opened.append)
    page.open_url = urls.append
    page.set_filter(FAILED)
    page.table.selectRow(0)
    page.editor_button.click()
    page.folder_button.click()
    assert opened == [src / "d.png"] and urls == [QUrl.fromLocalFile(str(src))]
    page.set_filter("")
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by name, z..a
    page.table.selectRow(1)  # c.png
    page.folder_button.click()
    assert urls[-1] == QUrl.fromLocalFile(str(out))  # a done row shows its cut-out's folder


def rows_on_screen(page: BatchPage) -> list[QueueItem]:
    """The queue rows the table shows now, partly shown ones included."""
    table, proxy = page.table, page.proxy
    top, bottom = table.rowAt(0), table.rowAt(table.viewport().height() - 1)
    bottom = proxy.rowCount() - 1 if bottom < 0 else bottom
    return [page.model.item(proxy.mapToSource(proxy.index(r, 0)).row()) for r in range(max(top, 0), bottom + 1)]


def thumbnails_settled(page: BatchPage) -> bool:
    """Every row on screen shows its thumbnail and nothing more is asked for or being decoded:
    the count of decoded previews is final until something is painted again. Waiting for this,
    not for a fixed time, keeps the count exact on a loaded machine."""
    rows, thumbs = rows_on_screen(page), page.thumbs
    return bool(rows) and all(thumbs.cached(it) for it in rows) and thumbs.pending == 0 and not thumbs.worker.busy


class PaintCounter(QObject):
    """Counts the paint events a widget receives ("the rows on screen were drawn again")."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        self.count += event.type() == QEvent.Type.Paint
        return False


def test_thumbnails_are_lazy_and_cached(qtbot, make_page, tmp_path: Path) -> None:
    src = tmp_path / "many"
    for i in range(150):
        save(src / f"p{i:03d}.png", seed=i % 7)
    page = make_page()
    page.options_panel.set_output_dir(tmp_path / "out")
    paints = PaintCounter(page.table.viewport())
    add_and_wait(qtbot, page, [src])
    qtbot.waitUntil(lambda: thumbnails_settled(page), timeout=WAIT_MS)
    visible = page.table.viewport().height() // page.table.verticalHeader().defaultSectionSize() + 2
    assert 0 < page.thumbs.made <= visible + 2  # only what is on screen, not 150
    first = page.thumbs.made
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: thumbnails_settled(page), timeout=WAIT_MS)
    assert first < page.thumbs.made <= 2 * (visible + 2)
    made, painted = page.thumbs.made, paints.count
    page.table.scrollToTop()  # cached: drawn again, nothing decoded again
    qtbot.waitUntil(lambda: paints.count > painted and thumbnails_settled(page), timeout=WAIT_MS)
    assert page.thumbs.made == made


def test_without_a_model_start_explains_and_rows_stay_queued(qtbot, models_env: Path, tmp_path: Path) -> None:
    save(tmp_path / "in" / "a.png")
    page = BatchPage()  # the real default: options' model, else the embedded default (none here)
    qtbot.addWidget(page)
    page.show()
    try:
        page.options_panel.set_output_dir(tmp_path / "out")
        add_and_wait(qtbot, page, [tmp_path / "in"])
        qtbot.waitUntil(lambda: not page.runner.busy, timeout=WAIT_MS)  # the warm-up fails quietly
        click(qtbot, page.start_button)
        assert page.running
        qtbot.waitUntil(lambda: not page.running, timeout=WAIT_MS)
        assert "could not run" in page.banner.text() and "model" in page.banner.text().lower()
        assert [it.status for it in page.model.items] == [QUEUED] and page.start_button.isEnabled()
        assert not (tmp_path / "out").exists()
    finally:
        page.shutdown()


def test_queue_again_with_overwrite_redoes_done_rows(qtbot, make_page, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "a.png")
    save(src / "b.png", seed=1)
    page = make_page()
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    run_and_wait(qtbot, page)
    stamp = (out / "a.png").stat().st_mtime_ns
    page.table.selectRow(0)
    assert page.requeue_selected() == 1 and page.model.items[0].status == QUEUED
    page.options_panel.existing.setCurrentIndex(1)  # Overwrite
    time.sleep(0.01)
    outcome = run_and_wait(qtbot, page)
    assert outcome.processed == 1 and (out / "a.png").stat().st_mtime_ns != stamp
    assert json.loads((out / REPORT_NAME).read_text())["options"]["overwrite"] is True


def test_second_pass_checkbox_reaches_the_batch_and_is_remembered(qtbot, make_page, models_env, tmp_path: Path) -> None:
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=2.0)
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "a.png")
    page = make_page()
    page.options_panel.second_pass.setChecked(True)
    assert page.options_panel.options().second_pass is True
    page.options_panel.set_output_dir(out)
    add_and_wait(qtbot, page, [src])
    run_and_wait(qtbot, page)
    report = json.loads((out / REPORT_NAME).read_text())
    assert report["options"]["second_pass"] is True and report["counts"]["done"] == 1
    assert make_page().options_panel.second_pass.isChecked()  # restored from the settings
