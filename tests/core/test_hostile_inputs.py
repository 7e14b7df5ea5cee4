"""Issue #25, input side: hostile file systems never abort, hang or flood memory; the batch goes on.

Symlink loops, FIFOs, sockets, ``/dev/zero`` behind a photo name, huge non-images, an output
folder equal to the input folder, odd argument types, empty folders and formats we know but
may not decode. Every test runs a real batch over real files in ``tmp_path``; the ones that
could hang on a regression carry a ``timeout`` so they fail instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers.corpus import photo, tree_hashes
from helpers.tiny_models import make_seg_model
from PIL import Image

from desktop_app.cli import main as cli_main
from desktop_app.core.batch.engine import collect_inputs, run_batch
from desktop_app.core.errors import ImageLoadError
from desktop_app.core.imageio import IMAGE_EXTENSIONS, load_image, looks_like_image
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter

AVIF_SUPPORTED = ".avif" in IMAGE_EXTENSIONS  # this build decodes AVIF (Pillow with libavif)


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    return Segmenter(make_seg_model(tmp_path_factory.mktemp("hostile") / "seed.onnx"))


def save(path: Path, fmt: str = "JPEG", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, fmt)
    return path


def statuses(report) -> dict[str, tuple[str, str]]:
    return {it.source.name: (it.status, it.reason) for it in report.items}


# ----------------------------------------------------------------------------- 1. symlink loops


def test_symlink_loop_is_one_failed_entry_and_the_batch_goes_on(tmp_path: Path, segmenter: Segmenter) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    save(src / "good.jpg")
    (src / "a.jpg").symlink_to("b.jpg")
    (src / "b.jpg").symlink_to("a.jpg")
    (src / "self.png").symlink_to("self.png")
    report = run_batch([src], out, RemoveOptions(), segmenter)
    got = statuses(report)
    assert got["good.jpg"][0] == "done" and (out / "good.png").is_file()
    for name in ("a.jpg", "b.jpg", "self.png"):
        assert got[name][0] == "failed" and "symlink loop" in got[name][1], got[name]
    assert len(report.items) == 4
    json.loads(report.to_json())  # the report is still written


def test_symlink_loop_cli_writes_the_report(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = tmp_path / "in"
    save(src / "chelsea.jpg")
    (src / "a.jpg").symlink_to("b.jpg")
    (src / "b.jpg").symlink_to("a.jpg")
    report = tmp_path / "r.json"
    rc = cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model), "-q",
                   "--json-report", str(report)])  # fmt: skip
    assert rc == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "symlink loop" in err and "1 done" in err
    assert json.loads(report.read_text())["counts"]["failed"] == 2


def test_dangling_symlink_is_a_clear_failure(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "good.jpg")
    (src / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    got = statuses(run_batch([src], tmp_path / "out", RemoveOptions(), segmenter))
    assert got["good.jpg"][0] == "done"
    assert got["gone.jpg"][0] == "failed" and "broken symlink" in got["gone.jpg"][1]


# ----------------------------------------------------------------------------- 2. FIFOs, sockets


@pytest.mark.timeout(60)
def test_fifo_and_socket_are_skipped_without_being_opened(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "good.jpg")
    os.mkfifo(src / "pipe.jpg")
    os.mkfifo(src / "noext")  # no extension: even the content sniff must not open it
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(src / "s.png"))
        report = run_batch([src], tmp_path / "out", RemoveOptions(), segmenter)
    finally:
        sock.close()
    got = statuses(report)
    assert got["good.jpg"][0] == "done"
    assert got["pipe.jpg"][0] == "skipped" and "FIFO" in got["pipe.jpg"][1]
    assert got["s.png"][0] == "skipped" and "socket" in got["s.png"][1]
    assert "noext" not in got  # not named like a photo, and not sniffed: not an input at all
    assert not looks_like_image(src / "noext")
    with pytest.raises(ImageLoadError, match="FIFO"):
        load_image(src / "pipe.jpg")


@pytest.mark.timeout(60)
def test_fifo_named_explicitly_is_skipped(tmp_path: Path, segmenter: Segmenter) -> None:
    os.mkfifo(tmp_path / "p.jpg")
    report = run_batch([tmp_path / "p.jpg"], tmp_path / "out", RemoveOptions(), segmenter)
    assert [(it.status, "FIFO" in it.reason) for it in report.items] == [("skipped", True)]


# ----------------------------------------------------------------------------- 3. /dev/zero, size cap


@pytest.mark.timeout(60)
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_symlink_to_dev_zero_is_refused_without_reading(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "good.jpg")
    (src / "zero.jpg").symlink_to("/dev/zero")
    tracemalloc.start()
    try:
        report = run_batch([src], tmp_path / "out", RemoveOptions(), segmenter)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    got = statuses(report)
    assert got["good.jpg"][0] == "done"
    assert got["zero.jpg"][0] == "skipped" and "character device" in got["zero.jpg"][1]
    assert peak < 64 * 1024 * 1024  # Python-side allocations: the photo, never a stream of zeros


def test_file_over_the_size_cap_is_refused_from_its_size(tmp_path: Path, segmenter: Segmenter) -> None:
    big = tmp_path / "in" / "big.jpg"
    big.parent.mkdir()
    with open(big, "wb") as fh:
        fh.truncate(int(1.5 * 2**30))  # sparse: 1.5 GB on paper, nothing on disk
    save(tmp_path / "in" / "small.jpg")
    tracemalloc.start()
    try:
        report = run_batch([tmp_path / "in"], tmp_path / "out", RemoveOptions(), segmenter)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    got = statuses(report)
    assert got["big.jpg"][0] == "failed" and "1.5 GB" in got["big.jpg"][1] and "limit" in got["big.jpg"][1]
    assert got["small.jpg"][0] == "done"
    assert peak < 64 * 1024 * 1024
    # configurable: a small cap refuses an ordinary photo, with the numbers in the message
    capped = run_batch([tmp_path / "in" / "small.jpg"], tmp_path / "out2", RemoveOptions(max_file_bytes=512), segmenter)
    assert capped.items[0].status == "failed" and "limit" in capped.items[0].reason


def test_large_non_image_under_the_cap_costs_only_its_header(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    with open(junk, "wb") as fh:
        fh.write(b"this is not a photo" * 4)
        fh.truncate(300 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError, match="not a recognised image"):
            load_image(junk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # was the whole file (300 MB here, 1.76 GB for a 1.5 GB file)


# ----------------------------------------------------------------------------- 4. -o == input folder


def test_output_folder_equal_to_input_never_reingests_outputs(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    for i in range(3):
        save(src / f"p{i}.jpg", seed=i)
    save(src / "sub" / "q.jpg")
    before = tree_hashes(src)
    first = run_batch([src], src, RemoveOptions(), segmenter)
    assert first.count("done") == 4 and first.ok
    visible = sorted(str(p.relative_to(src)) for p in src.rglob("*") if not p.name.startswith("."))
    assert visible == ["p0.jpg", "p0.png", "p1.jpg", "p1.png", "p2.jpg", "p2.png", "sub", "sub/q.jpg", "sub/q.png"]
    for _ in range(2):  # reruns: same inputs, every output already there, nothing new
        again = run_batch([src], src, RemoveOptions(), segmenter)
        assert sorted(it.source.name for it in again.items) == ["p0.jpg", "p1.jpg", "p2.jpg", "q.jpg"]
        assert again.count("skipped") == 4 and again.count("done") == 0 and again.ok
    assert len([p for p in src.rglob("*") if p.is_file() and not p.name.startswith(".")]) == 8
    for name, digest in before.items():  # originals untouched
        assert tree_hashes(src)[name] == digest


def test_output_folder_equal_to_input_cli(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = tmp_path / "in"
    for i in range(5):
        save(src / f"p{i}.jpg", seed=i)
    args = ["remove", str(src), "-o", str(src), "--model", str(seg_model), "-q"]
    counts = []
    for _ in range(3):
        assert cli_main(args) == 0
        counts.append(len([p for p in src.iterdir() if not p.name.startswith(".")]))
    assert counts == [10, 10, 10]
    assert "0 done, 5 skipped, 0 failed" in capsys.readouterr().err


# ----------------------------------------------------------------------------- argument types, empty input


def test_run_batch_takes_one_path_string_or_an_iterable(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "a.jpg")
    assert [it.source for it in run_batch(str(src), tmp_path / "o1", RemoveOptions(), segmenter).items] == [
        src / "a.jpg"
    ]
    assert run_batch(src / "a.jpg", tmp_path / "o2", RemoveOptions(), segmenter).count("done") == 1
    assert run_batch((p for p in [src]), tmp_path / "o3", RemoveOptions(), segmenter).count("skipped") == 0
    for bad in (123, b"/tmp", [src, 7], None):
        with pytest.raises(TypeError):
            run_batch(bad, tmp_path / "o4", RemoveOptions(), segmenter)  # type: ignore[arg-type]
    assert [p for p, _ in collect_inputs(str(src))] == [src / "a.jpg"]


def test_empty_folder_says_no_photos_found(tmp_path: Path, seg_model: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no photos here")
    assert cli_main(["remove", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "--model", str(seg_model)]) == 0
    assert "no photos found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- AVIF and friends


def test_avif_is_decoded_or_listed_and_heic_is_listed(tmp_path: Path, segmenter: Segmenter) -> None:
    src = tmp_path / "in"
    save(src / "a.jpg")
    if AVIF_SUPPORTED:
        save(src / "b.avif", "AVIF")
    else:
        (src / "b.avif").write_bytes(b"\0\0\0\x1cftypavif" + b"\0" * 64)
    (src / "c.heic").write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 64)
    got = statuses(run_batch([src], tmp_path / "out", RemoveOptions(), segmenter))
    assert got["a.jpg"][0] == "done"
    if AVIF_SUPPORTED:
        assert got["b.avif"][0] == "done"
        rgba = np.asarray(Image.open(tmp_path / "out" / "b.png"))
        assert rgba.shape == (48, 64, 4) and rgba[24, 32, 3] > 200  # the red disc is the subject
    else:
        assert got["b.avif"][0] == "skipped" and "AVIF" in got["b.avif"][1]
    assert got["c.heic"][0] == "skipped" and "HEIC" in got["c.heic"][1] and "not supported" in got["c.heic"][1]


@pytest.mark.timeout(60)
def test_cancel_returns_even_while_a_read_hangs(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What one Ctrl-C on a hung read (a dead network share; a FIFO before the fix) must do: end
    the batch, with the photos it did not get to reported as cancelled, instead of waiting forever."""
    from desktop_app.core.batch import engine
    from desktop_app.core.batch import photo as batch_photo  # where both engines decode

    src = tmp_path / "in"
    for i in range(3):
        save(src / f"p{i}.jpg", seed=i)
    reading, release = threading.Event(), threading.Event()

    def hanging_read(*args, **kwargs):
        reading.set()
        release.wait()  # blocks until the test ends
        raise OSError("never mind")

    monkeypatch.setattr(batch_photo, "load_image", hanging_read)
    monkeypatch.setattr(engine, "READER_GRACE_S", 0.2)
    control = engine.BatchControl()
    threading.Thread(target=lambda: reading.wait() and control.cancel(), daemon=True).start()
    try:
        report = run_batch([src], tmp_path / "out", RemoveOptions(), segmenter, control=control)
    finally:
        release.set()
    assert report.cancelled and report.count("cancelled") == 3


def test_cli_max_file_size(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = save(tmp_path / "a.jpg")
    args = ["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model)]
    assert cli_main([*args, "--max-file-size", "100"]) == 1
    assert "over the 100 bytes limit" in capsys.readouterr().err
    assert cli_main([*args, "--max-file-size", "2M"]) == 0
    with pytest.raises(SystemExit):
        cli_main([*args, "--max-file-size", "lots"])
