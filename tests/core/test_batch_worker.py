"""What the Ray engine is built from, tested without Ray: the worker class in process (same bytes
as the threaded engine, a bad photo is a result, not an exception), provider names, the CLI's
engine flags, and that nothing imports Ray unless the Ray engine runs (start-up stays fast)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnxruntime as ort
import pytest
from helpers.corpus import photo
from PIL import Image

from desktop_app.cli import main
from desktop_app.core.batch.engine import run_batch
from desktop_app.core.batch.plan import PENDING, BatchItem
from desktop_app.core.batch.worker import PhotoWorker, node_copy
from desktop_app.core.errors import ModelError
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter
from desktop_app.core.session import check_providers, parse_providers


def save(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, "JPEG")
    return path


def test_worker_writes_what_the_threaded_engine_writes(tmp_path: Path, seg_model: Path) -> None:
    src = save(tmp_path / "in" / "a.jpg")
    bad = tmp_path / "in" / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    options = RemoveOptions(model_path=seg_model, crop=True)
    local = run_batch([tmp_path / "in"], tmp_path / "local", options, Segmenter(seg_model))
    worker = PhotoWorker(options, threads=1, model_bytes=seg_model.read_bytes())
    assert worker.options.model_path != seg_model and worker.options.model_path.read_bytes() == seg_model.read_bytes()
    done = worker.process(BatchItem(src, tmp_path / "w" / "a.png"))
    failed = worker.process(BatchItem(bad, tmp_path / "w" / "bad.png"))  # returned, not raised
    by_name = {it.source.name: it for it in local.items}
    assert (
        done.status == "done" and (tmp_path / "w" / "a.png").read_bytes() == (tmp_path / "local" / "a.png").read_bytes()
    )
    assert (failed.status, failed.reason) == (by_name["bad.jpg"].status, by_name["bad.jpg"].reason)
    assert failed.status == "failed" and not (tmp_path / "w" / "bad.png").exists()
    info = worker.info()
    assert info["photos"] == 2 and info["provider"] == "CPUExecutionProvider" and info["load_seconds"] >= 0


def test_node_copy_is_written_once_per_content(tmp_path: Path, seg_model: Path) -> None:
    data = seg_model.read_bytes()
    first = node_copy(seg_model, data)
    mtime = first.stat().st_mtime_ns
    assert node_copy(seg_model, data) == first and first.stat().st_mtime_ns == mtime
    assert first.name.endswith(seg_model.name) and node_copy(seg_model, data + b"x") != first


def test_provider_names() -> None:
    assert parse_providers("cuda, cpu") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert parse_providers("CPU,cpu") == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="unknown execution provider tpu"):
        parse_providers("cpu,tpu")
    with pytest.raises(ValueError, match="no execution provider"):
        parse_providers(" , ")
    assert check_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    missing = next(
        p for p in ("DmlExecutionProvider", "CoreMLExecutionProvider") if p not in ort.get_available_providers()
    )
    with pytest.raises(ModelError, match="is not available in this onnxruntime build"):
        check_providers([missing])


def test_worker_refuses_a_missing_provider(seg_model: Path) -> None:
    with pytest.raises(ModelError, match="dml is not available"):
        PhotoWorker(RemoveOptions(model_path=seg_model), providers=["DmlExecutionProvider"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "2"], "--workers needs --engine ray"),
        (["--ray-address", "auto", "--workers", "2"], "--ray-address and --workers need --engine ray"),
        (["--providers", "tpu"], "unknown execution provider tpu"),
        (["--providers", "dml"], "dml is not available"),
    ],
)
def test_cli_engine_flags(tmp_path: Path, seg_model: Path, capsys, extra: list[str], message: str) -> None:
    save(tmp_path / "in" / "a.jpg")
    code = main(["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", str(seg_model), *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out" / "a.png").exists()


def test_cli_providers_cpu_runs_locally(tmp_path: Path, seg_model: Path) -> None:
    save(tmp_path / "in" / "a.jpg")
    args = [
        "remove",
        str(tmp_path / "in"),
        "-o",
        str(tmp_path / "out"),
        "--model",
        str(seg_model),
        "--providers",
        "cpu",
    ]
    assert main([*args, "-q"]) == 0 and (tmp_path / "out" / "a.png").is_file()


def test_cli_ray_engine_refuses_stdin(seg_model: Path, capsys) -> None:
    assert main(["remove", "-", "--model", str(seg_model), "--engine", "ray"]) == 2
    assert "not on stdin" in capsys.readouterr().err


def test_app_and_cli_never_import_ray() -> None:
    """``import ray`` costs seconds and hundreds of MB: only the Ray engine's run may do it."""
    code = (
        "import sys, desktop_app.cli, desktop_app.__main__, desktop_app.core.batch.engine\n"
        "import desktop_app.core.batch.ray_engine, desktop_app.core.batch.worker, desktop_app.core.batch.queue\n"
        "import desktop_app.app, desktop_app.ui.main_window\n"
        "bad = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))\n"
        "assert not bad, bad[:5]\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)


def test_pending_items_pickle_small() -> None:
    """What crosses the object store per photo: two paths and a status, a few hundred bytes."""
    import pickle

    item = BatchItem(Path("/data/photos/2024/IMG_0001.jpg"), Path("/data/out/2024/IMG_0001.png"), PENDING)
    assert len(pickle.dumps(item)) < 400
