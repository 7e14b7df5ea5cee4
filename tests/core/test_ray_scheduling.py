"""The Ray engine's own logic on an in-process stand-in for Ray (tests/helpers/fake_ray.py):
runs everywhere, even where Ray is missing or cannot start. Same plan and report as the local
engine, a photo whose worker died is sent again once, then reported; Ctrl-C leaves no temp
file; providers decide GPUs; nothing to do starts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.corpus import make_corpus, photo
from helpers.fake_ray import FakeRay
from PIL import Image

from desktop_app.core.batch import ray_engine
from desktop_app.core.batch.engine import BatchControl, BatchItem, run_batch
from desktop_app.core.batch.ray_engine import RaySettings, run_batch_ray
from desktop_app.core.errors import ModelError
from desktop_app.core.imageio import TEMP_SUFFIX
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter


def save(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, "JPEG")
    return path


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRay:
    ray = FakeRay()
    monkeypatch.setattr(ray_engine, "import_ray", lambda: ray)
    return ray


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_plan_outputs_and_report_as_local(tmp_path: Path, seg_model: Path, fake: FakeRay) -> None:
    src = tmp_path / "in"
    save(src / "a.jpg")
    save(src / "sub" / "b.jpg", seed=1)
    make_corpus(src / "corpus")
    options = RemoveOptions(model_path=seg_model)
    local = run_batch([src], tmp_path / "local", options, Segmenter(seg_model))
    seen: list[int] = []
    remote = run_batch_ray([src], tmp_path / "ray", options, progress=lambda d, t, it: seen.append(d))
    key = lambda r, out: [(i.source.name, i.status, i.reason, i.output and i.output.relative_to(out)) for i in r.items]  # noqa: E731
    assert key(remote, tmp_path / "ray") == key(local, tmp_path / "local")
    assert files(tmp_path / "ray") == files(tmp_path / "local") and remote.count("failed") >= 4
    assert seen == list(range(1, len(remote.items) + 1))
    assert remote.engine["resubmitted"] == 0 and remote.provider == local.provider and remote.model == local.model
    assert fake.inits == fake.shutdowns == 1 and len(fake.actors) == 2 and all(a.killed for a in fake.actors)
    assert fake.actor_options["max_restarts"] == -1 and fake.actor_options["max_task_retries"] == 3
    assert fake.actor_options["num_gpus"] == 0
    again = run_batch_ray([src], tmp_path / "ray", options)  # the broken files are tried again, as locally
    assert again.count("done") == 0 and again.count("skipped") == local.count("done")


def test_worker_death_resends_once_then_reports(tmp_path: Path, seg_model: Path, monkeypatch) -> None:
    deaths: dict[str, int] = {}

    def crash(item: BatchItem) -> bool:  # p1 dies once (then works); p2 kills its worker every time
        deaths[item.source.name] = deaths.get(item.source.name, 0) + 1
        return item.source.name == "p2.jpg" or (item.source.name == "p1.jpg" and deaths["p1.jpg"] == 1)

    ray = FakeRay(crash=crash)
    monkeypatch.setattr(ray_engine, "import_ray", lambda: ray)
    for i in range(5):
        save(tmp_path / "in" / f"p{i}.jpg", seed=i)
    report = run_batch_ray([tmp_path / "in"], tmp_path / "out", RemoveOptions(model_path=seg_model))
    by = {it.source.name: it for it in report.items}
    assert by["p1.jpg"].status == "done" and deaths["p1.jpg"] == 2
    assert by["p2.jpg"].status == "failed" and "worker process died" in by["p2.jpg"].reason and deaths["p2.jpg"] == 2
    assert report.count("done") == 4 and report.engine["resubmitted"] == 2
    (tmp_path / "in" / "p2.jpg").unlink()
    inits = ray.inits
    rerun = run_batch_ray([tmp_path / "in"], tmp_path / "out", RemoveOptions(model_path=seg_model))
    assert rerun.count("skipped") == 4 and ray.inits == inits  # nothing to do: Ray is not even started


def test_ctrl_c_kills_workers_and_leaves_no_temp_file(tmp_path: Path, seg_model: Path, fake: FakeRay) -> None:
    for i in range(6):
        save(tmp_path / "in" / f"p{i}.jpg", seed=i)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".p5.png.99999999-abcd.seedtmp").write_bytes(b"half")  # what a SIGKILLed writer leaves

    def progress(done: int, total: int, item: BatchItem) -> None:
        if done == 2:
            (out / ".p4.png.99999998-abcd.seedtmp").write_bytes(b"half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch_ray([tmp_path / "in"], out, RemoveOptions(model_path=seg_model), progress=progress)
    assert not list(out.rglob(f"*{TEMP_SUFFIX}")) and all(a.killed for a in fake.actors)
    assert fake.shutdowns == 1
    for p in out.glob("*.png"):
        with Image.open(p) as im:
            im.load()


def test_cancel_and_pause(tmp_path: Path, seg_model: Path, fake: FakeRay) -> None:
    for i in range(8):
        save(tmp_path / "in" / f"p{i}.jpg", seed=i)
    control = BatchControl()

    def progress(done: int, total: int, item: BatchItem) -> None:
        if done == 3:
            control.cancel()

    report = run_batch_ray([tmp_path / "in"], tmp_path / "out", RemoveOptions(model_path=seg_model),
                           progress=progress, control=control)  # fmt: skip
    assert report.cancelled and report.count("done") + report.count("cancelled") == 8 and report.count("cancelled") > 0
    assert len(list((tmp_path / "out").glob("*.png"))) == report.count("done")


def test_gpu_and_worker_count(tmp_path: Path, seg_model: Path, fake: FakeRay) -> None:
    save(tmp_path / "in" / "a.jpg")
    options = RemoveOptions(model_path=seg_model)
    with pytest.raises(ModelError, match="no GPU"):
        run_batch_ray([tmp_path / "in"], tmp_path / "out", options, RaySettings(providers=("CUDAExecutionProvider",)))
    for i in range(1, 5):
        save(tmp_path / "in" / f"b{i}.jpg", seed=i)
    report = run_batch_ray([tmp_path / "in"], tmp_path / "out2", options, RaySettings(workers=3))
    assert len(report.engine["workers"]) == 3 and report.ok
    with pytest.raises(ModelError, match="dml is not available"):
        run_batch_ray([tmp_path / "in"], tmp_path / "out3", options, RaySettings(providers=("DmlExecutionProvider",)))


def test_a_ray_that_cannot_start_is_a_clear_error(tmp_path: Path, seg_model: Path, fake: FakeRay, monkeypatch) -> None:
    save(tmp_path / "in" / "a.jpg")

    def init(**kwargs) -> None:
        raise Exception("The current node timed out during startup.")

    monkeypatch.setattr(fake, "init", init)
    with pytest.raises(ray_engine.RayStartError, match="cannot join the Ray cluster at head:6379: The current node"):
        run_batch_ray([tmp_path / "in"], tmp_path / "out", RemoveOptions(model_path=seg_model),
                      RaySettings(address="head:6379"))  # fmt: skip
    assert not list((tmp_path / "out").rglob("*.png"))
