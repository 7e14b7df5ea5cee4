"""The command line: exit codes, outputs, stdin/stdout, model listing, GUI routing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from helpers.corpus import photo
from helpers.tiny_models import make_generator_model, make_seg_model
from PIL import Image

from desktop_app import __main__ as entry
from desktop_app.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]


def save(path: Path, fmt: str = "JPEG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo()).save(path, fmt)
    return path


def test_remove_one_file_to_folder_and_to_file(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = save(tmp_path / "cat.jpg")
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model)]) == 0
    assert Image.open(tmp_path / "out" / "cat.png").mode == "RGBA"
    assert "1 done" in capsys.readouterr().err
    target = tmp_path / "named.webp"
    assert cli_main(["remove", str(src), "-o", str(target), "--model", str(seg_model), "--crop"]) == 0
    assert Image.open(target).format == "WEBP"


def test_folder_with_bad_file_exits_1_after_processing_the_rest(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = tmp_path / "in"
    save(src / "good.jpg")
    save(src / "sub" / "good2.png", "PNG")
    (src / "bad.jpg").write_bytes(b"garbage" * 20)
    report = tmp_path / "report.json"
    rc = cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model),
                   "--format", "jpg", "--bg", "blur", "--json-report", str(report)])  # fmt: skip
    assert rc == 1
    assert (tmp_path / "out" / "good.jpg").is_file() and (tmp_path / "out" / "sub" / "good2.jpg").is_file()
    err = capsys.readouterr().err
    assert "bad.jpg" in err and "not a recognised image" in err and "2 done" in err
    data = json.loads(report.read_text())
    assert data["counts"] == {"done": 2, "skipped": 0, "failed": 1, "cancelled": 0}


def test_no_default_model_exits_2(tmp_path: Path, models_env: Path, capsys) -> None:
    src = save(tmp_path / "a.jpg")
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out")]) == 2
    assert "no embedded default model yet" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_embedded_default_is_used(tmp_path: Path, models_env: Path) -> None:
    make_seg_model(models_env / "seednet.onnx")
    src = save(tmp_path / "a.jpg")
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--mask-only"]) == 0
    assert Image.open(tmp_path / "out" / "a.png").mode == "L"


def test_usage_errors_exit_2(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = save(tmp_path / "a.jpg")
    assert cli_main(["remove", str(src)]) == 2  # no -o
    assert cli_main(["remove", "-", str(src), "--model", str(seg_model)]) == 2
    assert cli_main(["remove", str(src), "-o", str(tmp_path), "--model", str(tmp_path / "none.onnx")]) == 2
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "o"), "--model", str(seg_model),
                     "--convention", "bogus"]) == 2  # fmt: skip
    with pytest.raises(SystemExit) as info:
        cli_main(["remove", str(src), "-o", str(tmp_path), "--bg", "#zzzzzz"])
    assert info.value.code == 2


def run_cli(args: list[str], stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], input=stdin, capture_output=True,
                          cwd=REPO, env=full_env, timeout=120)  # fmt: skip


def test_stdin_to_stdout_end_to_end(tmp_path: Path, seg_model: Path) -> None:
    data = save(tmp_path / "a.jpg").read_bytes()
    proc = run_cli(["remove", "-", "--model", str(seg_model)], stdin=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.startswith(b"\x89PNG\r\n\x1a\n")


class FakeStream:
    def __init__(self, data: bytes = b"") -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_formats_and_errors(tmp_path: Path, seg_model: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    data = save(tmp_path / "a.jpg").read_bytes()
    for fmt, magic in (("jpg", b"\xff\xd8"), ("webp", b"RIFF")):
        out = FakeStream()
        monkeypatch.setattr(sys, "stdin", FakeStream(data))
        monkeypatch.setattr(sys, "stdout", out)
        assert cli_main(["remove", "-", "--model", str(seg_model), "--format", fmt]) == 0
        assert out.buffer.getvalue().startswith(magic)
    out = FakeStream()
    monkeypatch.setattr(sys, "stdin", FakeStream(b"not an image"))
    monkeypatch.setattr(sys, "stdout", out)
    assert cli_main(["remove", "-", "--model", str(seg_model)]) == 1
    assert out.buffer.getvalue() == b""
    monkeypatch.setattr(sys, "stdin", FakeStream(data))
    assert cli_main(["remove", "-", "-o", str(tmp_path / "from-stdin.png"), "--model", str(seg_model)]) == 0
    assert (tmp_path / "from-stdin.png").is_file()


def test_models_and_info(models_env: Path, capsys) -> None:
    make_seg_model(models_env / "seednet.onnx")
    make_generator_model(models_env / "faces-decoder.onnx")
    (models_env / "broken.onnx").write_bytes(b"nope")
    assert cli_main(["models"]) == 0
    out = capsys.readouterr().out
    assert "* [embedded] seednet.onnx: segmentation, seed convention (metadata)" in out
    assert "faces-decoder.onnx: not usable for background removal" in out and "generator-decoder" in out
    assert "broken.onnx: not usable" in out
    assert cli_main(["info", "seednet"]) == 0
    out = capsys.readouterr().out
    assert "input_size: (32, 32)" in out and "producer = seed-studio" in out
    assert cli_main(["info", "faces-decoder", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["spec"] is None and doc["metadata"]["kind"] == "generator-decoder"
    assert cli_main(["info", "missing-model"]) == 2


def test_gui_routing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    fake = types.ModuleType("desktop_app.app")
    fake.run_gui = lambda argv: calls.append(list(argv)) or 0
    monkeypatch.setitem(sys.modules, "desktop_app.app", fake)
    photo_path = save(tmp_path / "p.jpg")
    assert entry.main([]) == 0
    assert entry.main([str(photo_path)]) == 0
    assert entry.main(["--batch", str(tmp_path)]) == 0
    monkeypatch.chdir(tmp_path)
    save(tmp_path / "models", "PNG")  # an existing file named like a subcommand opens in the GUI
    assert entry.main(["models"]) == 0
    assert calls == [[], [str(photo_path)], ["--batch", str(tmp_path)], ["models"]]
    assert entry.wants_cli(["info", "x"]) and entry.wants_cli(["--help"]) and not entry.wants_cli([])


def test_gui_missing_gives_clear_message(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "desktop_app.app", None)  # import fails like a missing module
    assert entry.main([]) == 2
    assert "GUI is not available" in capsys.readouterr().err


def test_stdin_to_named_file_uses_its_extension(tmp_path: Path, seg_model: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStream(save(tmp_path / "a.png", "PNG").read_bytes()))
    target = tmp_path / "cut.jpg"
    assert cli_main(["remove", "-", "-o", str(target), "--model", str(seg_model)]) == 0
    assert Image.open(target).format == "JPEG"


def test_remove_builds_one_session_for_its_lanes(tmp_path: Path, seg_model: Path, monkeypatch) -> None:
    """On a multi-core CPU the batch runs in lanes of single-threaded sessions; the command
    builds that one session up front instead of a default one the lanes would replace."""
    import onnxruntime as ort

    from desktop_app.core import session as sessions
    from desktop_app.core.batch import engine

    built: list[int] = []
    real_session = ort.InferenceSession

    def counting_session(path, sess_options=None, providers=None):
        built.append(sess_options.intra_op_num_threads)
        return real_session(path, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(sessions.ort, "InferenceSession", counting_session)
    monkeypatch.setattr(sessions, "_cache", type(sessions._cache)())  # nothing cached from other tests
    monkeypatch.setattr(engine, "physical_cores", lambda: 2)
    src = tmp_path / "in"
    for i in range(3):
        save(src / f"p{i}.jpg")
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model), "-q"]) == 0
    assert len(list((tmp_path / "out").iterdir())) == 3
    assert built == [1]  # one single-threaded session, shared by both lanes
