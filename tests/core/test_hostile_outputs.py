"""Issue #25, output side: write failures are clear sentences found before any photo is decoded.

Unwritable output folders and report paths, stdin mode with an unwritable ``-o``, stdout on a
full device, ``-o`` naming an existing file, and names at the file-system limit (where the temp
name used to be ~25 bytes longer than the final name).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.corpus import photo
from helpers.tiny_models import make_seg_model
from PIL import Image

from desktop_app.cli import main as cli_main
from desktop_app.core.batch import photo as batch_photo  # where both engines decode
from desktop_app.core.batch.engine import run_batch
from desktop_app.core.imageio import TEMP_SUFFIX, write_bytes_atomic
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    return Segmenter(make_seg_model(tmp_path_factory.mktemp("hostile-out") / "seed.onnx"))


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every photo the batch engine decodes (the real decoder, counted)."""
    seen: list[Path] = []
    real = batch_photo.load_image

    def counting(source, *args, **kwargs):
        seen.append(Path(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(batch_photo, "load_image", counting)
    return seen


def save(path: Path, fmt: str = "JPEG", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, fmt)
    return path


def photos(folder: Path, n: int = 3) -> Path:
    for i in range(n):
        save(folder / f"p{i}.jpg", seed=i)
    return folder


def run_cli(args: list[str], stdin: bytes = b"", stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], input=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, cwd=REPO, env=env, timeout=120)  # fmt: skip


# ----------------------------------------------------------------------------- 5. unwritable outputs


def test_unwritable_output_folder_fails_every_item_before_decoding(
    tmp_path: Path, segmenter: Segmenter, decodes: list[Path]
) -> None:
    src = photos(tmp_path / "in")
    (tmp_path / "file").write_text("in the way")
    report = run_batch([src], tmp_path / "file" / "out", RemoveOptions(), segmenter)
    assert report.count("failed") == 3 and not decodes  # not one photo decoded or inferred
    for it in report.items:
        assert "cannot write to the output folder" in it.reason and "is a file, not a folder" in it.reason
        assert "Errno" not in it.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the file-in-the-way case covers it")
def test_read_only_output_folder_is_found_before_decoding(
    tmp_path: Path, segmenter: Segmenter, decodes: list[Path]
) -> None:
    src, out = photos(tmp_path / "in"), tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        report = run_batch([src], out, RemoveOptions(), segmenter)
    finally:
        out.chmod(0o755)
    assert report.count("failed") == 3 and not decodes
    assert all("permission denied" in it.reason for it in report.items)


def test_cli_unwritable_output_is_a_usage_error_before_any_photo(
    tmp_path: Path, seg_model: Path, decodes: list[Path], capsys
) -> None:
    src = photos(tmp_path / "in")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli_main(["remove", str(src), "-o", str(blocker / "out"), "--model", str(seg_model)]) == 2
    err = capsys.readouterr().err
    assert "cannot write to the output folder" in err and "Traceback" not in err and not decodes


def test_cli_output_naming_an_existing_file_is_a_clear_usage_error(
    tmp_path: Path, seg_model: Path, decodes: list[Path], capsys
) -> None:
    src = photos(tmp_path / "in")
    existing = tmp_path / "existing"
    existing.write_text("keep me")
    assert cli_main(["remove", str(src), "-o", str(existing), "--model", str(seg_model)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "FileExistsError" not in err and not decodes
    assert existing.read_text() == "keep me"


def test_cli_unwritable_json_report_is_found_before_the_batch(
    tmp_path: Path, seg_model: Path, decodes: list[Path], capsys
) -> None:
    src = photos(tmp_path / "in")
    (tmp_path / "file").write_text("x")
    for report in (tmp_path / "file" / "r.json", tmp_path):  # under a file; a folder
        rc = cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model),
                       "--json-report", str(report)])  # fmt: skip
        assert rc == 2
        err = capsys.readouterr().err
        assert "--json-report" in err and "Traceback" not in err
    assert not decodes and not (tmp_path / "out").exists()


def test_stdin_with_unwritable_output_is_a_clear_error(tmp_path: Path, seg_model: Path) -> None:
    data = save(tmp_path / "a.jpg").read_bytes()
    (tmp_path / "file").write_text("x")
    proc = run_cli(["remove", "-", "-o", str(tmp_path / "file" / "cut.png"), "--model", str(seg_model)], data)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err and "cannot write" in err
    proc = run_cli(["remove", "-", "-o", str(tmp_path), "--model", str(seg_model)], data)  # a folder
    assert proc.returncode == 2 and "Traceback" not in proc.stderr.decode() and "folder" in proc.stderr.decode()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_device_is_a_clear_error(tmp_path: Path, seg_model: Path) -> None:
    data = save(tmp_path / "a.jpg").read_bytes()
    with open("/dev/full", "wb") as full:
        proc = run_cli(["remove", "-", "--model", str(seg_model)], data, stdout=full)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "cannot write to stdout" in err and "Traceback" not in err and "Exception ignored" not in err


# ----------------------------------------------------------------------------- 8. names at the limit


def test_long_names_fit_their_temp_names(tmp_path: Path, segmenter: Segmenter) -> None:
    stem = "x" * 251  # x...x.jpg -> x...x.png: 255 bytes, the ext4/APFS limit
    src = save(tmp_path / "in" / f"{stem}.jpg")
    report = run_batch([src.parent], tmp_path / "out", RemoveOptions(), segmenter)
    assert report.ok, report.items[0].reason
    assert (tmp_path / "out" / f"{stem}.png").is_file()
    multibyte = "é" * 125  # 250 bytes of UTF-8 (+ .png = 254): clipping must not split a character
    write_bytes_atomic(tmp_path / "out" / f"{multibyte}.png", b"data")
    assert (tmp_path / "out" / f"{multibyte}.png").read_bytes() == b"data"
    assert not list((tmp_path / "out").glob(f"*{TEMP_SUFFIX}"))


def test_output_name_over_the_limit_is_a_clear_failure(tmp_path: Path, segmenter: Segmenter) -> None:
    stem = "y" * 250
    src = save(tmp_path / "in" / f"{stem}.jpg")
    opts = RemoveOptions(name_pattern="{stem}-cutout.{ext}")  # 250 + 11 bytes: too long
    report = run_batch([src], tmp_path / "out", opts, segmenter)
    item = report.items[0]
    assert item.status == "failed" and "too long" in item.reason and "OSError" not in item.reason
    assert "name pattern" in item.reason


def test_name_pattern_that_can_never_fit_is_refused_up_front(tmp_path: Path, seg_model: Path, capsys) -> None:
    with pytest.raises(ValueError, match="too long"):
        RemoveOptions(name_pattern="{stem:>300}")
    src = save(tmp_path / "a.jpg")
    rc = cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model),
                   "--name-pattern", "{stem:>300}"])  # fmt: skip
    assert rc == 2 and "too long" in capsys.readouterr().err
