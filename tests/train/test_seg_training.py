"""Segmentation training end to end on a tiny generated dataset (seconds, CI-sized)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from training.__main__ import main as training_main
from training.data.folder import load_decoded
from training.data.seg_dataset import SegTrainSet
from training.models.segnet import PRESETS, SegNet
from training.seg.train import SegTask, parse_schedule
from training.trainer import TrainConfig, Trainer, load_checkpoint, lr_at

from .conftest import REPO


def _trainer(tiny_dataset, out, max_steps, epochs=4, lr=3e-3, epoch_steps=0):
    data = load_decoded(tiny_dataset)
    train_set = SegTrainSet(data, size=48, seed=0)
    torch.manual_seed(0)  # same initial weights in every trainer of a test
    model = SegNet(PRESETS["xs"])
    task = SegTask(train_set, data, parse_schedule(f"48:{epochs}"), eval_size=48, side_weight=0.4)
    cfg = TrainConfig(
        out=str(out),
        epochs=epochs,
        batch_size=4,
        lr=lr,
        warmup_steps=2,
        num_workers=0,
        max_steps=max_steps,
        epoch_steps=epoch_steps,
        threads=1,
        checkpoint_minutes=100,
    )
    return Trainer(model, "segnet", PRESETS["xs"].to_dict(), task, train_set, cfg)


def test_training_reduces_loss(tiny_dataset, cache_dir, tmp_path):
    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=0, epochs=10, lr=5e-3)
    trainer.train()
    with open(tmp_path / "run" / "log.csv") as fh:
        losses = [float(r["loss"]) for r in csv.DictReader(fh)]
    assert len(losses) == 1  # logged every 20 steps; 30 steps
    history = trainer.history
    assert len(history) == 10
    assert history[-1]["mae"] < history[0]["mae"]
    assert (tmp_path / "run" / "best.pt").is_file() and (tmp_path / "run" / "curves.png").is_file()
    assert (tmp_path / "run" / "preview-epoch010.png").is_file()


def test_resume_is_equivalent_to_uninterrupted(tiny_dataset, cache_dir, tmp_path):
    straight = _trainer(tiny_dataset, tmp_path / "a", max_steps=6)
    straight.train()
    first = _trainer(tiny_dataset, tmp_path / "b", max_steps=3)
    first.train()
    second = _trainer(tiny_dataset, tmp_path / "b", max_steps=6)
    assert second.resume()
    assert second.step == 3
    second.train()
    for (name, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_checkpoint_rebuilds_the_model_and_exports(tiny_dataset, cache_dir, tmp_path):
    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=4, epochs=1)
    trainer.train()
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert (
        ckpt["model_config"]["widths"] == list(PRESETS["xs"].widths)
        or tuple(ckpt["model_config"]["widths"]) == PRESETS["xs"].widths
    )
    out = tmp_path / "seg.onnx"
    code = training_main(
        ["seg", "export", "--ckpt", str(tmp_path / "run" / "last.pt"), "--out", str(out), "--size", "64"]
    )
    assert code == 0 and out.is_file()  # exit 0 means parity < 1e-4

    from desktop_app.core.models import load_spec
    from desktop_app.core.segment import Segmenter

    spec = load_spec(out)
    assert spec.kind == "segmentation" and spec.input_size == (64, 64) and spec.source == "metadata"
    assert spec.resize == "keep-aspect" and spec.network_size(37, 53) == (64, 96)
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    segmenter = Segmenter(out)
    assert segmenter.preprocess(rgb).shape == (1, 3, 64, 96)  # the file runs at a 3:2 size
    alpha = segmenter.predict(rgb)
    assert alpha.shape == (37, 53) and alpha.dtype == np.float32
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0

    squashed = tmp_path / "seg-stretch.onnx"
    assert (
        training_main(
            [
                "seg",
                "export",
                "--ckpt",
                str(tmp_path / "run" / "last.pt"),
                "--out",
                str(squashed),
                "--size",
                "64",
                "--stretch",
            ]
        )
        == 0
    )
    assert load_spec(squashed).resize == "stretch"
    assert Segmenter(squashed).preprocess(rgb).shape == (1, 3, 64, 64)
    assert not segmenter.flip_average  # off unless exported with --flip-average

    mirrored = tmp_path / "seg-flip.onnx"
    args = ["seg", "export", "--ckpt", str(tmp_path / "run" / "last.pt"), "--out", str(mirrored), "--size", "64"]
    assert training_main([*args, "--flip-average"]) == 0
    averaged = Segmenter(mirrored)
    assert averaged.flip_average and not Segmenter(mirrored, flip_average=False).flip_average
    by_hand = (alpha + segmenter.predict(np.ascontiguousarray(rgb[:, ::-1]))[:, ::-1]) / 2
    both = averaged.predict(rgb)
    np.testing.assert_allclose(both, by_hand, atol=2e-3)  # the average of the photo and its mirror
    assert np.abs(both - alpha).max() > 1e-3  # a trained network is not mirror-symmetric


def test_fp16_weight_storage_halves_the_file_and_keeps_the_output(tiny_dataset, cache_dir, tmp_path, capsys):
    import onnx

    from desktop_app.core.models import load_spec
    from desktop_app.core.segment import Segmenter

    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=4, epochs=1)
    trainer.train()
    ckpt = str(tmp_path / "run" / "last.pt")
    full, half = tmp_path / "fp32.onnx", tmp_path / "fp16.onnx"
    assert training_main(["seg", "export", "--ckpt", ckpt, "--out", str(full), "--size", "64"]) == 0
    assert training_main(["seg", "export", "--ckpt", ckpt, "--out", str(half), "--size", "64", "--fp16-weights"]) == 0
    assert "weights stored as float16" in capsys.readouterr().out
    assert half.stat().st_size < 0.6 * full.stat().st_size

    graph = onnx.load(str(half)).graph
    big = [i for i in graph.initializer if np.prod(i.dims) >= 64]
    assert big and all(i.data_type == onnx.TensorProto.FLOAT16 for i in big)
    extra = load_spec(half).extra
    assert extra["weight_storage"].startswith("float16") and 0 <= extra["fp16_rounding_max_abs_diff"] < 1e-2

    rgb = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    a32, a16 = Segmenter(full).predict(rgb), Segmenter(half).predict(rgb)
    assert a16.dtype == np.float32 and a16.shape == (37, 53)
    assert np.abs(a32 - a16).max() < 1e-2  # float32 arithmetic on rounded weights


def test_rembg_compatible_export_is_320_batch1(tiny_dataset, cache_dir, tmp_path):
    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=1, epochs=1)
    trainer.train()
    out = tmp_path / "u2net_custom.onnx"
    assert (
        training_main(
            ["seg", "export", "--ckpt", str(tmp_path / "run" / "last.pt"), "--out", str(out), "--rembg-compatible"]
        )
        == 0
    )
    import onnxruntime as ort

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 320, 320]
    (prob,) = session.run(None, {session.get_inputs()[0].name: np.zeros((1, 3, 320, 320), np.float32)})
    assert prob.shape == (1, 1, 320, 320) and prob.min() >= 0 and prob.max() <= 1


@pytest.mark.slow
def test_ddp_two_processes(tiny_dataset, cache_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SEED_CACHE": str(cache_dir)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "training",
        "seg",
        "train",
        "--data",
        str(tiny_dataset),
        "--val",
        str(tiny_dataset),
        "--out",
        str(tmp_path / "ddp"),
        "--preset",
        "xs",
        "--schedule",
        "48:1",
        "--batch-size",
        "2",
        "--workers",
        "0",
        "--max-steps",
        "3",
        "--threads",
        "1",
    ]
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    ckpt = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert ckpt["step"] == 3


def test_compact_checkpoint_halves_the_optimizer_and_still_resumes(tmp_path):
    """The committed form of a checkpoint: fp32 weights, bf16 AdamW moments, resumable."""
    from training.trainer import save_compact_checkpoint

    model = torch.nn.Linear(64, 64)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(8, 64)).pow(2).mean().backward()
    opt.step()
    full = tmp_path / "full.pt"
    torch.save({"model": model.state_dict(), "ema": model.state_dict(), "optimizer": opt.state_dict(), "step": 1}, full)
    small = save_compact_checkpoint(full, tmp_path / "small.pt")
    assert small.stat().st_size < 0.8 * full.stat().st_size
    ckpt = torch.load(small, weights_only=False)
    assert torch.equal(ckpt["model"]["weight"], model.weight.detach())  # weights exact
    fresh = torch.optim.AdamW(model.parameters(), lr=1e-3)
    fresh.load_state_dict(ckpt["optimizer"])
    restored = fresh.state[model.weight]["exp_avg_sq"]
    assert restored.dtype == torch.float32
    torch.testing.assert_close(restored, opt.state[model.weight]["exp_avg_sq"], rtol=1e-2, atol=0)


def test_bf16_is_turned_off_where_the_cpu_would_emulate_it(tiny_dataset, cache_dir, tmp_path, monkeypatch):
    import training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "native_bf16", lambda: False)
    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=1, epochs=1)
    assert trainer.cfg.bf16 is False
    trainer.train()
    assert load_checkpoint(tmp_path / "run" / "last.pt")["train_config"]["bf16"] is False

    monkeypatch.setattr(trainer_module, "native_bf16", lambda: True)
    assert _trainer(tiny_dataset, tmp_path / "run2", max_steps=1, epochs=1).cfg.bf16 is True


def test_weights_only_checkpoint_starts_a_new_phase_with_the_same_network(tiny_dataset, cache_dir, tmp_path):
    """The committed form of a finished run: EMA weights and configs only, enough for --init
    and export, a fraction of the bytes."""
    from training.seg.export import model_from_checkpoint
    from training.trainer import save_compact_checkpoint

    trainer = _trainer(tiny_dataset, tmp_path / "run", max_steps=3, epochs=1)
    trainer.train()
    full = tmp_path / "run" / "last.pt"
    small = save_compact_checkpoint(full, tmp_path / "weights.pt", weights_only=True)
    assert small.stat().st_size < 0.4 * full.stat().st_size
    ckpt = load_checkpoint(small)
    assert "optimizer" not in ckpt and "model" not in ckpt and ckpt["step"] == 3
    x = torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(model_from_checkpoint(ckpt)(x), model_from_checkpoint(load_checkpoint(full))(x))
    args = ["seg", "train", "--data", str(tiny_dataset), "--val", str(tiny_dataset), "--out", str(tmp_path / "next")]
    args += ["--preset", "xs", "--init", str(small), "--schedule", "48:1", "--batch-size", "4", "--max-steps", "1"]
    code = training_main([*args, "--workers", "0", "--threads", "1"])
    assert code == 0


def test_capped_epochs_end_early_complete_their_schedule_and_resume(tiny_dataset, cache_dir, tmp_path):
    """``epoch_steps`` makes a short phase: each epoch stops after N batches of a fresh shuffle,
    validation runs at each capped epoch's end, the LR schedule spans the capped length (so it
    decays to its floor) and an interrupted phase resumes exactly where it stopped."""
    assert _trainer(tiny_dataset, tmp_path / "full", max_steps=0, epochs=2).steps_per_epoch == 3  # 12 / 4
    straight = _trainer(tiny_dataset, tmp_path / "a", max_steps=0, epochs=2, epoch_steps=2)
    assert straight.total_steps == 4
    straight.train()
    assert straight.step == 4 and [h["epoch"] for h in straight.history] == [1, 2]
    # the last step runs further down the cosine than it would in an uncapped phase of 2 x 3 steps
    assert lr_at(3, straight.total_steps, straight.cfg) < lr_at(3, 6, straight.cfg)
    first = _trainer(tiny_dataset, tmp_path / "b", max_steps=3, epochs=2, epoch_steps=2)
    first.train()
    second = _trainer(tiny_dataset, tmp_path / "b", max_steps=0, epochs=2, epoch_steps=2)
    assert second.resume() and second.step == 3
    second.train()
    assert second.step == 4
    for (name, a), b in zip(straight.model.state_dict().items(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
