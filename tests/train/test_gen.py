"""The generator (VAE) pipeline: data, PCA directions, a few training steps, export with parity.

Runs on a generated folder of RGBA images (always) and on a handful of the real Fluent Emoji
images when ../shared is present (required in CI: CI=1, true or True; see ``shared_dataset``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from desktop_app.core import model_meta as mm
from desktop_app.core.latent.generator import Generator
from training.data.emoji import composite_resize, is_validation, load_emoji, split
from training.gen.cli import add_gen_commands, run
from training.gen.export import pca_directions
from training.gen.losses import LossConfig, ssim
from training.gen.train import TimeBudget
from training.models.vae import PRESETS, VAE

from .conftest import shared_dataset


def gen_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    add_gen_commands(parser.add_subparsers(dest="task", required=True))
    return run(parser.parse_args(["gen", *argv]))


def make_rgba_folder(root: Path, n: int = 20, size: int = 48) -> Path:
    """Coloured discs with soft alpha on transparency, like emoji renders."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        r = rng.uniform(size / 6, size / 2.5)
        cx, cy = rng.uniform(r, size - r, 2)
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        rgba = np.zeros((size, size, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 256, 3)
        rgba[..., 3] = np.clip((r - d) * 128, 0, 255).astype(np.uint8)
        Image.fromarray(rgba, "RGBA").save(root / "images" / f"e{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny VAE trained for a few steps through the command line; returns the run folder."""
    root = tmp_path_factory.mktemp("gen")
    data = make_rgba_folder(root / "data")
    mp = pytest.MonkeyPatch()
    mp.setenv("SEED_CACHE", str(root / "cache"))
    try:
        code = gen_main(
            [
                "train",
                "--data",
                str(data),
                "--out",
                str(root / "run"),
                "--preset",
                "tiny",
                "--size",
                "32",
                "--epochs",
                "2",
                "--batch-size",
                "4",
                "--warmup",
                "2",
                "--threads",
                "1",
            ]
        )
    finally:
        mp.undo()
    assert code == 0
    return root / "run"


def test_composite_onto_white_and_downscale() -> None:
    rgba = np.zeros((128, 128, 4), np.uint8)
    rgba[:64, :, :3] = (255, 0, 0)
    rgba[:64, :, 3] = 255
    out = composite_resize(rgba, 64)
    assert out.shape == (64, 64, 3)
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[-1, -1]) == (255, 255, 255)


def test_split_is_deterministic_and_about_ten_percent() -> None:
    stems = [f"{i:05x}" for i in range(5000)]
    train, val = split(stems)
    assert 0.08 < len(val) / len(stems) < 0.12
    shuffled = list(reversed(stems))
    assert {stems[i] for i in val} == {shuffled[i] for i in split(shuffled)[1]}
    assert is_validation(stems[val[0]]) and not is_validation(stems[train[0]])


def test_pca_recovers_axes_and_sigmas() -> None:
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    scales = np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.01])
    data = (rng.standard_normal((20000, 8)) * scales) @ basis.T + 2.0
    d = pca_directions(data, 3)
    np.testing.assert_allclose(d.sigmas, scales[:3], rtol=0.03)
    np.testing.assert_allclose(np.abs(np.asarray(d.vectors) @ basis[:, :3]), np.eye(3), atol=0.02)
    np.testing.assert_allclose(d.mean, 2.0, atol=0.1)
    assert d.explained[0] > d.explained[1] > d.explained[2]


def test_vae_shapes_and_ssim_identity() -> None:
    model = VAE(PRESETS["tiny"]).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        recon, mean, logvar = model(x)
    assert recon.shape == x.shape and mean.shape == logvar.shape == (2, 16)
    assert float(recon.min()) >= 0 and float(recon.max()) <= 1
    torch.testing.assert_close(ssim(x, x), torch.ones(2))
    assert LossConfig(kl=1.0, kl_warmup=10).kl_weight(5) == 0.5


def test_training_smoke_writes_checkpoint_and_metrics(trained: Path) -> None:
    ckpt = torch.load(trained / "last.pt", weights_only=False)
    assert ckpt["model_kind"] == "vae" and ckpt["step"] == 8  # 2 epochs x (18 training images // 4)
    assert ckpt["task_config"]["n_val"] >= 1
    val = (trained / "val.csv").read_text().splitlines()
    assert val[0].startswith("epoch,step,elapsed_s,psnr,ssim,kl")
    assert (trained / "preview-epoch002.png").is_file()


def test_export_parity_metadata_and_app_round_trip(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "models" / "tiny-vae"
    code = gen_main(
        [
            "export",
            "--ckpt",
            str(trained / "last.pt"),
            "--out",
            str(out),
            "--k",
            "4",
            "--figures",
            str(tmp_path / "fig"),
        ]
    )
    assert code == 0  # parity below tolerance
    dec, enc = out.with_name("tiny-vae-decoder.onnx"), out.with_name("tiny-vae-encoder.onnx")
    props = {p.key: p.value for p in onnx.load(str(dec)).metadata_props}
    assert props[mm.KEY_KIND] == mm.KIND_GENERATOR_DECODER and props[mm.KEY_INPUT_SIZE] == "32,32"
    extra = json.loads(props[mm.KEY_EXTRA])
    assert extra["latent_size"] == 16 and len(extra["directions"]) == 4 and len(extra["sigmas"]) == 4
    assert extra["encoder"] == enc.name and "psnr" in json.loads(props[mm.KEY_METRICS])
    assert "MIT" in props[mm.KEY_TRAINING_DATA]
    enc_props = {p.key: p.value for p in onnx.load(str(enc)).metadata_props}
    assert enc_props[mm.KEY_KIND] == mm.KIND_GENERATOR_ENCODER
    for name in ("samples.png", "reconstructions.png", "sweep-01.png", "sweep-04.png", "sweeps.png"):
        assert (tmp_path / "fig" / name).is_file(), name
    gen = Generator(dec)
    image = np.asarray(Image.open(tmp_path / "fig" / "samples.png").convert("RGB"))[:40, :40]
    mean, logvar = gen.encode(image)
    assert gen.decode(mean).shape == (32, 32, 3) and np.all(np.isfinite(logvar))
    space = gen.info.space
    np.testing.assert_allclose(space.directions @ space.directions.T, np.eye(4), atol=1e-4)
    assert space.mixture is not None and sum(extra["mixture"]["weights"]) == pytest.approx(1.0)
    assert extra["mixture_selection"]["chosen_components"] == space.mixture.components
    assert np.array_equal(space.sample(3), space.sample(3)) and np.isfinite(space.sample(3)).all()


def test_sample_command(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "models" / "s"
    assert (
        gen_main(
            [
                "export",
                "--ckpt",
                str(trained / "last.pt"),
                "--out",
                str(out),
                "--k",
                "2",
                "--figures",
                str(tmp_path / "fig"),
            ]
        )
        == 0
    )
    assert gen_main(["sample", "--model", str(out), "--n", "9", "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (3 * 34 + 2, 3 * 34 + 2)


def test_time_budget_replans_the_schedule() -> None:
    class FakeTrainer:
        step, elapsed, steps_per_epoch = 0, 0.0, 10

        class cfg:
            epochs, max_steps = 1000, 0

        total_steps = 10000

    tr = FakeTrainer()
    budget = TimeBudget(tr, minutes=1 / 60)  # one second
    budget.t0 -= 0.5  # half the budget spent on 20 steps -> about 20 more
    tr.step = 20
    budget.update()
    assert 30 <= tr.total_steps <= 45 and tr.cfg.max_steps == tr.total_steps
    tr.step, tr.elapsed = 100, 50.0  # resumed at 2 steps/s with 10 s of a 60 s budget left
    tr.cfg.max_steps = 0  # a resumed run is a new process: its max_steps is the command line's
    TimeBudget(tr, minutes=1.0)
    assert tr.total_steps == 120
    tr.cfg.max_steps = 110  # --max-steps with --minutes: the budget never plans past it
    TimeBudget(tr, minutes=1.0)
    assert tr.total_steps == tr.cfg.max_steps == 110
    budget = TimeBudget(tr, minutes=60.0)  # plenty of time left, still capped
    budget.t0 -= 1.0
    budget.step0 = 85
    tr.step = 120
    budget.update()
    assert tr.total_steps == tr.cfg.max_steps == 110


def test_real_emoji_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = shared_dataset("fluent-emoji-3d")
    monkeypatch.setenv("SEED_CACHE", str(tmp_path / "cache"))
    images, stems = load_emoji(data, 64, limit=24)
    assert images.shape == (24, 64, 64, 3) and images.dtype == np.uint8 and len(stems) == 24
    assert images[:, 0, 0].mean() > 200  # corners are the white background
    code = gen_main(
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "run"),
            "--preset",
            "tiny",
            "--limit",
            "24",
            "--epochs",
            "1",
            "--max-steps",
            "3",
            "--batch-size",
            "4",
            "--threads",
            "1",
        ]
    )
    assert code == 0 and (tmp_path / "run" / "last.pt").is_file()
    # how long this takes (the CI budget was 60 s) is measured by benchmarks/bench_gen_smoke.py


def test_emoji_cache_survives_a_concurrent_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two trainings started together both decode the set and write the same cache file; the
    second writer finishing first must not make the first one fail (they shared a temp name)."""
    import cv2

    import training.data.emoji as emoji

    folder = tmp_path / "emoji"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        rgba = rng.integers(0, 256, (20, 20, 4), dtype=np.uint8)
        cv2.imwrite(str(folder / f"e{i}.png"), rgba)
    cache = tmp_path / "cache"
    real_save = np.save
    calls = []

    def save_while_another_writer_finishes(file, arr):  # the other process wins the race
        real_save(file, arr)
        if not calls:
            calls.append(file)
            emoji.load_emoji(folder, 16, cache_dir=cache)

    monkeypatch.setattr(emoji.np, "save", save_while_another_writer_finishes)
    images, stems = emoji.load_emoji(folder, 16, cache_dir=cache)
    assert images.shape == (3, 16, 16, 3) and stems == ["e0", "e1", "e2"]
    assert calls, "the concurrent writer did run"
    files = list(cache.iterdir())
    assert len(files) == 1 and ".part" not in files[0].name  # one cache file, no temp left behind
    np.testing.assert_array_equal(np.load(files[0]), images)
