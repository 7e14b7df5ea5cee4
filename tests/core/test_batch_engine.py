"""Batch engine: mirrored trees, collisions, resume, cancel/pause, robustness over bad files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers.corpus import make_corpus, photo, tree_hashes
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from desktop_app.core.batch.engine import BatchControl, BatchItem, collect_inputs, plan_outputs, run_batch
from desktop_app.core.imageio import TEMP_SUFFIX
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    from helpers.tiny_models import make_seg_model

    return Segmenter(make_seg_model(tmp_path_factory.mktemp("bm") / "seed.onnx"))


def save(path: Path, fmt: str = "JPEG", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, fmt)
    return path


def make_tree(root: Path) -> None:
    save(root / "a.jpg")
    save(root / "sub" / "b.png", "PNG")
    save(root / "sub" / "deeper" / "c.webp", "WEBP")
    save(root / ".hidden.jpg")
    save(root / ".cache" / "d.jpg")
    save(root / "noext", "PNG")  # sniffed by content
    (root / "notes.txt").write_text("hello")


def outputs(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_tree_is_mirrored_and_resumable(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    make_tree(src)
    before = tree_hashes(src)
    seen: list[tuple[int, int, str]] = []
    caller = threading.get_ident()

    def progress(done: int, total: int, item: BatchItem) -> None:
        assert threading.get_ident() == caller  # GUI code may rely on this
        seen.append((done, total, item.status))

    report = run_batch([src], out, RemoveOptions(), segmenter, progress)
    assert outputs(out) == ["a.png", "noext.png", "sub/b.png", "sub/deeper/c.png"]
    assert report.count("done") == 4 and report.ok
    assert [s[0] for s in seen] == [1, 2, 3, 4] and all(s[1] == 4 for s in seen)
    rgba = np.asarray(Image.open(out / "a.png"))
    assert rgba.shape == (48, 64, 4) and rgba[24, 32, 3] > 200 and rgba[2, 2, 3] < 30  # red disc kept
    assert tree_hashes(src) == before
    (out / "sub" / "b.png").unlink()
    again = run_batch([src], out, RemoveOptions(), segmenter)
    assert again.count("skipped") == 3 and again.count("done") == 1
    assert run_batch([src], out, RemoveOptions(overwrite=True), segmenter).count("done") == 4
    data = json.loads(again.to_json())
    assert data["counts"]["skipped"] == 3 and len(data["items"]) == 4


def test_name_collisions_get_source_extension(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "x.jpg")
    save(src / "x.png", "PNG")
    save(src / "y.jpg")
    report = run_batch([src], out, RemoveOptions(format="webp"), segmenter)
    assert outputs(out) == ["x.jpg.webp", "x.png.webp", "y.webp"] and report.ok
    # same name from two different roots lands in the same folder: a counter separates them
    other = tmp_path / "other"
    save(other / "y.jpg", seed=1)
    out2 = tmp_path / "out2"
    run_batch([src / "y.jpg", other / "y.jpg"], out2, RemoveOptions(), segmenter)
    assert len(outputs(out2)) == 2


def test_inputs_are_never_overwritten(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "p.png", "PNG")
    save(src / "q.jpg")
    before = tree_hashes(src)
    report = run_batch([src], src, RemoveOptions(overwrite=True), segmenter)  # output folder = input folder
    statuses = {it.source.name: (it.status, it.reason) for it in report.items}
    assert statuses["p.png"][0] == "failed" and "would overwrite the input" in statuses["p.png"][1]
    assert statuses["q.jpg"][0] == "done"
    assert tree_hashes(src)["p.png"] == before["p.png"]


def test_output_folder_inside_input_is_not_walked(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "a.jpg")
    out = src / "cutouts"
    run_batch([src], out, RemoveOptions(), segmenter)
    second = run_batch([src], out, RemoveOptions(), segmenter)
    assert [it.source.name for it in second.items] == ["a.jpg"]
    assert [p for p, _ in collect_inputs([src], exclude=out)] == [src / "a.jpg"]


def test_cancel_leaves_no_partial_or_temp_files(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(8):
        save(src / f"img{i}.jpg", seed=i)
    control = BatchControl()

    def progress(done: int, total: int, item: BatchItem) -> None:
        if done == 2:
            control.cancel()

    report = run_batch([src], out, RemoveOptions(), segmenter, progress, control)
    assert report.cancelled and report.count("cancelled") >= 1 and report.count("failed") == 0
    assert report.count("done") + report.count("cancelled") == 8
    written = sorted(out.rglob("*")) if out.exists() else []
    assert not [p for p in written if p.name.endswith(TEMP_SUFFIX)]
    for p in written:  # every file present is a complete image
        assert Image.open(p).convert("RGBA").size == (64, 48)
    assert len(written) == report.count("done")


def test_pause_and_resume(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(4):
        save(src / f"img{i}.jpg", seed=i)
    control = BatchControl()
    paused_at: list[int] = []

    def progress(done: int, total: int, item: BatchItem) -> None:
        if done == 1:
            control.pause()
            paused_at.append(done)
            threading.Timer(0.3, control.resume).start()

    report = run_batch([src], out, RemoveOptions(), segmenter, progress, control)
    assert paused_at == [1] and report.count("done") == 4 and not control.paused


def test_batch_over_bad_corpus_finishes_and_reports(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "corpus", tmp_path / "out"
    cases = make_corpus(src)
    before = tree_hashes(src)
    report = run_batch([src], out, RemoveOptions(), segmenter)
    by_name = {it.source.name: it for it in report.items}
    assert "notes.txt" not in by_name  # not an image by name or content
    for case in cases:
        if case.path.is_dir():  # a folder named like a photo is walked as a folder
            continue
        item = by_name[case.path.name]
        if case.ok:
            assert item.status == "done", (case.path.name, item.reason)
            assert item.output is not None and item.output.is_file()
        else:
            assert item.status == "failed" and case.expect in item.reason, (case.path.name, item.reason)
    assert not report.ok and len(report.failed) == sum(not c.ok and c.path.is_file() for c in cases)
    assert tree_hashes(src) == before
    assert "failed" in report.summary()
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))


def test_missing_input_is_reported(tmp_path: Path, segmenter: Segmenter) -> None:
    report = run_batch([tmp_path / "nope.jpg"], tmp_path / "out", RemoveOptions(), segmenter)
    assert report.items[0].status == "failed" and "no such file" in report.items[0].reason


def test_explicit_output_name_and_options(tmp_path: Path, segmenter: Segmenter) -> None:
    src = save(tmp_path / "one.jpg")
    target = tmp_path / "res" / "cut.jpg"
    report = run_batch([src], target.parent, RemoveOptions(format="jpg", background="#00ff00"), segmenter,
                       explicit_output=target)  # fmt: skip
    assert report.ok and Image.open(target).format == "JPEG"
    mask = run_batch([src], tmp_path / "m", RemoveOptions(mask_only=True, crop=True), segmenter)
    assert Image.open(mask.items[0].output).mode == "L"


names = st.lists(
    st.tuples(
        st.sampled_from(["", "sub", "sub/deeper", "Sub"]),
        st.sampled_from(["a", "A", "b", "a.b", "photo"]),
        st.sampled_from([".jpg", ".JPG", ".png", ".webp", ".tif", ""]),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, database=None)  # no .hypothesis/ in the repo
@given(names, st.sampled_from(["png", "webp", "jpg"]), st.booleans())
def test_planned_outputs_are_unique_and_never_inputs(entries, fmt: str, in_place: bool) -> None:
    root = Path("/nonexistent-root")
    inputs = sorted({(root / d / f"{stem}{ext}", Path(d)) for d, stem, ext in entries})
    out_dir = root if in_place else Path("/nonexistent-out")
    items = plan_outputs(inputs, out_dir, RemoveOptions(format=fmt))
    outs = [str(it.output).lower() for it in items]
    assert len(set(outs)) == len(outs)  # distinct, even on case-insensitive file systems
    sources = {str(src) for src, _ in inputs}
    for it in items:
        if str(it.output) in sources:
            assert it.status == "failed" and "would overwrite the input" in it.reason


def test_interrupt_mid_batch_cleans_up(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(6):
        save(src / f"img{i}.jpg", seed=i)
    before = threading.active_count()

    def progress(done: int, total: int, item: BatchItem) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, RemoveOptions(), segmenter, progress)
    assert threading.active_count() == before  # reader and writer threads have ended
    assert not list(out.rglob(f"*{TEMP_SUFFIX}"))
    for p in out.rglob("*.png"):
        assert Image.open(p).convert("RGBA").size == (64, 48)


def test_lanes_split_the_cores_and_change_no_byte(tmp_path: Path, segmenter: Segmenter, monkeypatch) -> None:
    """On a CPU the engine runs one photo per core on single-threaded sessions; the outputs are
    byte-identical to one lane's, every photo is reported once, on the caller's thread."""
    from desktop_app.core.batch import engine

    lane_seg, lanes = engine.inference_lanes(segmenter, RemoveOptions(), cores=2)
    assert lanes == 2 and lane_seg is not segmenter
    assert lane_seg.session.get_session_options().intra_op_num_threads == 1
    assert lane_seg.spec == segmenter.spec and lane_seg.flip_average == segmenter.flip_average
    big_seg, big = engine.inference_lanes(segmenter, RemoveOptions(), cores=16)
    assert big == engine.MAX_LANES and big_seg.session.get_session_options().intra_op_num_threads == 4
    assert engine.inference_lanes(segmenter, RemoveOptions(), cores=1) == (segmenter, 1)
    assert engine.inference_lanes(segmenter, RemoveOptions(second_pass=True), cores=8) == (segmenter, 1)

    src = tmp_path / "in"
    for i in range(9):
        save(src / f"p{i}.jpg", seed=i)
    (src / "broken.jpg").write_bytes(b"not a jpeg")
    results = {}
    for n in (1, 3):
        monkeypatch.setattr(engine, "physical_cores", lambda n=n: n)
        seen: list[str] = []
        caller = threading.get_ident()

        def progress(done: int, total: int, item: BatchItem, seen=seen, caller=caller) -> None:
            assert threading.get_ident() == caller
            seen.append(item.source.name)

        out = tmp_path / f"out{n}"
        report = run_batch([src], out, RemoveOptions(), segmenter, progress)
        assert sorted(seen) == sorted(p.name for p in src.iterdir())
        assert [it.source.name for it in report.items if it.status == "failed"] == ["broken.jpg"]
        results[n] = tree_hashes(out)
    assert len(results[3]) == 9 and results[1] == results[3]
