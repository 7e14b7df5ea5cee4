"""The GAN: DiffAugment, adversarial steps on the shared trainer, exact resume, SeFa, export."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from desktop_app.core import model_meta as mm
from desktop_app.core.latent.catalog import list_generators
from desktop_app.core.latent.generator import Generator, find_generator
from training.gen.adversarial import GANTask, init_from_gan
from training.gen.diffaug import diff_augment, translation
from training.gen.finishing import average_ema_weights, standing_statistics
from training.gen.sefa import sefa_directions, sefa_for_prior
from training.models.gan import GAN, PRESETS, GANConfig, warm_start_from_vae, widen_into
from training.models.vae import PRESETS as VAE_PRESETS
from training.models.vae import VAE
from training.trainer import TrainConfig, Trainer, load_checkpoint

from .test_gen import gen_main, make_rgba_folder


def test_diffaugment_is_seeded_differentiable_and_fills_white() -> None:
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    a = diff_augment(x, torch.Generator().manual_seed(1))
    b = diff_augment(x, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.equal(a, diff_augment(x, torch.Generator().manual_seed(2)))
    a.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    black = torch.zeros(8, 3, 16, 16)
    shifted = translation(black, torch.Generator().manual_seed(0))
    assert set(torch.unique(shifted).tolist()) <= {0.0, 1.0}  # only the image and white borders
    assert float(shifted.mean()) > 0  # some image moved, and the gap is white, not black


def _tiny_trainer(
    out: Path, max_steps: int, images: np.ndarray, critic: str = "plain", snapshot_every: int = 0
) -> Trainer:
    from training.data.emoji import ArraySet

    torch.manual_seed(0)
    model = GAN(GANConfig.from_dict({**PRESETS["tiny"].to_dict(), "critic": critic}))
    cfg = TrainConfig(
        out=str(out), epochs=3, batch_size=4, lr=2e-3, min_lr_ratio=1.0, weight_decay=0.0, warmup_steps=2,
        bf16=False, channels_last=True, num_workers=0, max_steps=max_steps, checkpoint_minutes=60, ema_decay=0.9,
        threads=1, snapshot_every=snapshot_every,
    )  # fmt: skip
    groups = [
        {"params": list(model.generator.parameters()), "betas": (0.0, 0.99), "weight_decay": 0.0},
        {"params": list(model.discriminator.parameters()), "betas": (0.0, 0.99), "weight_decay": 0.0},
    ]
    task = GANTask(images[:4], images, latent=model.cfg.latent, seed=3)
    return Trainer(model, "gan", model.cfg.to_dict(), task, ArraySet(images), cfg, param_groups=groups)


@pytest.mark.parametrize("critic", ["plain", "projected"])
def test_adversarial_steps_update_both_networks_and_resume_exactly(tmp_path: Path, critic: str) -> None:
    images = np.random.default_rng(0).integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)  # 2 steps per epoch
    full = _tiny_trainer(tmp_path / "full", 5, images, critic)
    before = {k: v.clone() for k, v in full.model.state_dict().items()}
    features = full.model.discriminator.__dict__.get("_features", torch.nn.Module())
    frozen = {k: v.clone() for k, v in features.state_dict().items()}
    full.train()
    after = full.model.state_dict()
    for prefix in ("generator.", "discriminator."):
        changed = [k for k in after if k.startswith(prefix) and not torch.equal(before[k], after[k])]
        assert any(k.endswith("weight") or k.endswith("original") for k in changed), prefix
    if critic == "projected":  # the pretrained features and the random projections never move,
        d = full.model.discriminator  # and neither is a trainable parameter or a checkpoint burden
        assert frozen and all(torch.equal(v, d._features.state_dict()[k]) for k, v in frozen.items())
        projections = [k for k in after if ".proj" in k]
        assert len(projections) == 4 and all(torch.equal(before[k], after[k]) for k in projections)
        assert not any("_features" in k for k in after)
        assert sum(p.numel() for p in d.parameters()) < 1_000_000
    log = (tmp_path / "full" / "log.csv").read_text() if (tmp_path / "full" / "log.csv").exists() else ""
    assert full.step == 5 and not log  # logs every 20 steps: nothing yet

    first = _tiny_trainer(tmp_path / "split", 3, images, critic)  # stops mid-epoch 2, saves last.pt
    first.train()
    assert load_checkpoint(tmp_path / "split" / "last.pt")["step"] == 3
    second = _tiny_trainer(tmp_path / "split", 5, images, critic)
    assert second.resume()
    second.train()
    for key, value in full.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[key], value, rtol=0, atol=0, msg=key)
    for key, value in full.ema.model.state_dict().items():
        torch.testing.assert_close(second.ema.model.state_dict()[key], value, rtol=0, atol=0, msg=key)


def test_snapshots_keep_each_steps_ema_weights_without_the_optimizer(tmp_path: Path) -> None:
    images = np.random.default_rng(1).integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
    _tiny_trainer(tmp_path / "snapped", 5, images, snapshot_every=2).train()
    snaps = sorted(p.name for p in (tmp_path / "snapped").glob("snap-step*.pt"))
    assert snaps == ["snap-step000002.pt", "snap-step000004.pt"]
    snap = load_checkpoint(tmp_path / "snapped" / snaps[1])
    assert snap["step"] == 4 and "optimizer" not in snap and "model" not in snap
    _tiny_trainer(tmp_path / "stopped", 4, images).train()  # the same run, stopped at step 4
    reference = load_checkpoint(tmp_path / "stopped" / "last.pt")["ema"]
    for key, value in reference.items():
        torch.testing.assert_close(snap["ema"][key], value, rtol=0, atol=0, msg=key)
    assert not list((tmp_path / "stopped").glob("snap-*"))  # off by default


def test_sefa_recovers_the_eigenvectors_of_a_hand_built_layer() -> None:
    rng = np.random.default_rng(0)
    v, _ = np.linalg.qr(rng.standard_normal((6, 6)))  # right singular vectors, known
    u, _ = np.linalg.qr(rng.standard_normal((40, 6)))
    s = np.array([9.0, 5.0, 3.0, 2.0, 1.0, 0.5])
    weight = torch.from_numpy(u @ np.diag(s) @ v.T).float()  # a Linear(6 -> 40)'s weight
    vecs, values = sefa_directions(weight, 3)
    np.testing.assert_allclose(values, s[:3] ** 2, rtol=1e-4)
    np.testing.assert_allclose(np.abs(vecs @ v[:, :3]), np.eye(3), atol=1e-4)
    dirs = sefa_for_prior(weight, 3)
    assert dirs.sigmas == [1.0, 1.0, 1.0] and dirs.mean == [0.0] * 6
    np.testing.assert_allclose(dirs.explained, s[:3] ** 2 / (s**2).sum(), rtol=1e-4)


def test_warm_start_folds_the_vae_fit_into_the_first_layer() -> None:
    torch.manual_seed(0)
    vae = VAE(VAE_PRESETS["tiny"]).eval()
    gan = GAN(PRESETS["tiny"].__class__(latent=16, size=64, g_preset="tiny")).eval()
    a = torch.randn(16, 16, dtype=torch.float64)
    cov, mean = a @ a.T / 16 + torch.eye(16, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    warm_start_from_vae(gan.generator, vae.decoder.state_dict(), mean.float(), cov.float())
    z = torch.randn(3, 16, dtype=torch.float64)
    chol = torch.linalg.cholesky(cov + 1e-6 * torch.eye(16, dtype=torch.float64))
    with torch.no_grad():
        expected = vae.decoder((mean + z @ chol.T).float())
        torch.testing.assert_close(gan.generator(z.float()), expected, atol=1e-5, rtol=1e-4)


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gan")
    data = make_rgba_folder(root / "data", n=14)
    mp = pytest.MonkeyPatch()
    mp.setenv("SEED_CACHE", str(root / "cache"))
    try:
        argv = ["train", "--kind", "gan", "--data", str(data), "--out", str(root / "run"), "--preset", "tiny"]
        argv += ["--size", "16", "--epochs", "1", "--batch-size", "4", "--warmup", "1", "--threads", "1"]
        assert gen_main([*argv, "--snapshot-every", "2"]) == 0
    finally:
        mp.undo()
    return root / "run"


def test_cli_trains_exports_with_parity_and_the_app_reads_a_gan(gan_run: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(gan_run / "last.pt")
    assert ckpt["model_kind"] == "gan" and ckpt["step"] == 3 and ckpt["task_config"]["kind"] == "gan"
    assert (gan_run / "preview-epoch001.png").is_file() and "d_val" in (gan_run / "val.csv").read_text()
    out = tmp_path / "models" / "tiny-gan"
    argv = ["export", "--ckpt", str(gan_run / "last.pt"), "--out", str(out), "--k", "4"]
    assert gen_main([*argv, "--figures", str(tmp_path / "fig"), "--names", "size,colour"]) == 0  # parity < 1e-4
    path = out.with_name("tiny-gan-generator.onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props[mm.KEY_KIND] == mm.KIND_GENERATOR_DECODER
    extra = json.loads(props[mm.KEY_EXTRA])
    assert extra["generator_kind"] == "gan" and extra["direction_names"] == ["size", "colour"]
    fc = GAN(PRESETS["tiny"])
    fc.load_state_dict(ckpt["ema"])
    expected, _ = sefa_directions(fc.generator.fc.weight, 4)
    np.testing.assert_allclose(np.asarray(extra["directions"]), expected, atol=1e-5)
    gen = Generator(find_generator(out))
    info = gen.info
    assert info.kind == "gan" and not gen.has_encoder and not info.space.has_fit
    assert info.direction_names[:2] == ("size", "colour") and info.draw_word == "truncation"
    np.testing.assert_allclose(info.space.directions @ info.space.directions.T, np.eye(4), atol=1e-4)
    assert gen.decode(info.space.sample(5, 0.7)).shape == (16, 16, 3)
    assert [e.kind for e in list_generators([path])] == ["gan"]
    for name in ("samples.png", "samples-trunc07.png", "sweep-01.png", "sweeps.png"):
        assert (tmp_path / "fig" / name).is_file(), name
    grid = tmp_path / "grid.png"
    assert gen_main(["sample", "--model", str(path), "--n", "4", "--out", str(grid)]) == 0
    assert Image.open(grid).size == (2 * 18 + 2, 2 * 18 + 2)


def test_a_wider_generator_grown_from_a_trained_one_draws_the_same_images_and_learns() -> None:
    from training.models.vae import Decoder, VAEConfig

    small_cfg = VAEConfig(latent=16, size=16, widths=(8, 16), out_width=4, blocks=1)
    wide_cfg = VAEConfig(latent=16, size=16, widths=(16, 32), out_width=8, blocks=1)
    torch.manual_seed(0)
    small, wide = Decoder(small_cfg), Decoder(wide_cfg)
    small.train()
    with torch.no_grad():  # give the small one's BatchNorms non-trivial running statistics
        for _ in range(3):
            small(torch.randn(8, 16))
        for m in small.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    before = wide.fc.weight.clone()
    assert widen_into(wide, small) == sum(1 for _ in small.state_dict())
    z = torch.randn(6, 16)
    for mode in (True, False):  # batch statistics and running statistics alike
        small.train(mode)
        wide.train(mode)
        with torch.no_grad():
            torch.testing.assert_close(wide(z), small(z), atol=1e-6, rtol=0)
    assert not torch.equal(wide.fc.weight, before)
    # the extra channels are off, not dead: their BatchNorm gains get gradients at once
    wide.train()
    (wide(z) - 0.5).pow(2).mean().backward()
    extra_gain = wide.body[-2][1].weight  # last conv-BN's gamma: 4 old channels, 4 extra
    assert extra_gain.grad[4:].abs().sum() > 0
    with pytest.raises(ValueError, match="does not fit"):
        widen_into(small, Decoder(wide_cfg))  # narrower cannot hold wider


def test_init_gan_loads_the_critic_and_grows_the_generator(gan_run: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(gan_run / "last.pt")
    teacher = GAN(GANConfig.from_dict(ckpt["model_config"])).eval()
    teacher.load_state_dict(ckpt["model"])
    teacher.load_state_dict(ckpt["ema"], strict=False)  # the EMA generator is the one to start from
    torch.manual_seed(5)
    student = GAN(GANConfig.from_dict(ckpt["model_config"]))
    info = init_from_gan(student, gan_run / "last.pt")
    assert info["init_gan_step"] == ckpt["step"]
    z = torch.randn(8, student.cfg.latent)
    student.eval()
    with torch.no_grad():
        torch.testing.assert_close(student.generator(z), teacher.generator(z))
    for key, value in student.discriminator.state_dict().items():  # the critic is the checkpoint's
        torch.testing.assert_close(value, ckpt["model"][f"discriminator.{key}"])
    # through the command line: the warm start is recorded in the run's checkpoint
    data = gan_run.parent / "data"
    argv = ["train", "--kind", "gan", "--data", str(data), "--out", str(tmp_path / "run"), "--preset", "tiny"]
    argv += ["--size", "16", "--epochs", "1", "--batch-size", "4", "--warmup", "1", "--threads", "1"]
    assert gen_main([*argv, "--init-gan", str(gan_run / "last.pt"), "--max-steps", "1"]) == 0
    warm = load_checkpoint(tmp_path / "run" / "last.pt")["task_config"]["warm_start"]
    assert warm.startswith(str(gan_run / "last.pt")) and "grown to tiny" in warm
    not_gan = tmp_path / "not-a-gan.pt"
    torch.save({"model_kind": "vae"}, not_gan)
    with pytest.raises(SystemExit, match="not a GAN checkpoint"):
        init_from_gan(student, not_gan)


def test_export_refuses_a_kind_that_does_not_match(gan_run: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="gan checkpoint"):
        gen_main(["export", "--ckpt", str(gan_run / "last.pt"), "--out", str(tmp_path / "x"), "--kind", "vae"])


def test_projected_critic_reads_pretrained_features_and_passes_gradients_to_images() -> None:
    """Its features are ImageNet's (a real photo and its noise differ), gradients reach the image
    for the generator's update, and the critic's own step builds no graph through the network."""
    from training.models.projected_d import ProjectedDiscriminator

    d = ProjectedDiscriminator()
    assert not d._features.training and not any(p.requires_grad for p in d._features.parameters())
    x = torch.rand(2, 3, 64, 64, requires_grad=True)
    d(x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    feats = d.features(torch.rand(2, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4] and all(f.grad_fn is None for f in feats)
    d.train()  # GAN.train() must not put the frozen ImageNet BatchNorm statistics into training mode
    assert not d._features.training


def test_diffaug_policy_is_chosen_on_the_command_line_and_checked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEED_CACHE", str(tmp_path / "cache"))
    data = make_rgba_folder(tmp_path / "data", n=6)
    argv = ["train", "--kind", "gan", "--data", str(data), "--out", str(tmp_path / "run"), "--preset", "tiny"]
    argv += ["--size", "16", "--epochs", "1", "--batch-size", "4", "--warmup", "1", "--threads", "1"]
    with pytest.raises(SystemExit, match=r"unknown operation.*colour"):
        gen_main([*argv, "--diffaug", "translation,colour"])
    assert gen_main([*argv, "--diffaug", "translation,cutout"]) == 0
    loss = load_checkpoint(tmp_path / "run" / "last.pt")["task_config"]["loss"]
    assert loss["diffaugment"] == ["translation", "cutout"]


def test_standing_statistics_are_the_mean_of_the_batch_statistics_the_final_weights_make() -> None:
    torch.manual_seed(0)
    gen = GAN(PRESETS["tiny"]).generator
    weights = {k: v.clone() for k, v in gen.state_dict().items() if "running" not in k and "tracked" not in k}
    # what the batches will show, recorded on a copy fed the same draws
    twin, seen = copy.deepcopy(gen).train(), {}
    norms = [m for m in twin.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for i, m in enumerate(norms):
        m.register_forward_pre_hook(
            lambda _m, args, i=i: seen.setdefault(i, []).append(
                (args[0].mean(dim=(0, 2, 3)), args[0].var(dim=(0, 2, 3), unbiased=True))
            )
        )
    rng = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for _ in range(6):
            twin(torch.randn(4, PRESETS["tiny"].latent, generator=rng))
    assert standing_statistics(gen, PRESETS["tiny"].latent, batches=6, batch_size=4, seed=5) == len(norms) > 0
    assert not gen.training
    for i, m in enumerate(m for m in gen.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        means, variances = zip(*seen[i], strict=True)
        torch.testing.assert_close(m.running_mean, torch.stack(means).mean(0), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(m.running_var, torch.stack(variances).mean(0), atol=1e-5, rtol=1e-5)
        assert m.momentum == 0.1  # restored for any later training
    for k, v in weights.items():
        assert torch.equal(gen.state_dict()[k], v), k  # weights untouched


def test_export_averages_checkpoints_of_one_run_and_re_estimates_batchnorm(gan_run: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(gan_run / "last.pt")
    shifted = copy.deepcopy(ckpt)
    shifted["ema"]["generator.fc.weight"] = shifted["ema"]["generator.fc.weight"] + 0.5
    shifted["step"] = 99
    torch.save(shifted, tmp_path / "shifted.pt")
    out = tmp_path / "models" / "avg-gan"
    argv = ["export", "--ckpt", str(gan_run / "last.pt"), "--out", str(out), "--k", "4"]
    assert gen_main([*argv, "--figures", str(tmp_path / "fig"), "--average", str(tmp_path / "shifted.pt")]) == 0
    path = out.with_name("avg-gan-generator.onnx")
    extra = _extra(path)
    assert extra["averaged_steps"] == [3, 99]
    assert extra["standing_statistics"] == {"batches": 300, "batch_size": 4}  # on by default, training batch
    mean_fc = ckpt["ema"]["generator.fc.weight"] + 0.25
    expected, _ = sefa_directions(mean_fc, 4)
    np.testing.assert_allclose(np.abs(np.asarray(extra["directions"])), np.abs(expected), atol=1e-4)
    other = copy.deepcopy(ckpt)
    other["model_config"] = {**other["model_config"], "latent": other["model_config"]["latent"] + 1}
    with pytest.raises(ValueError, match="same GAN"):
        average_ema_weights([ckpt, other])
    snap_out = tmp_path / "models" / "snap-gan"  # a run's own snapshot is a valid --average input
    snap_argv = ["export", "--ckpt", str(gan_run / "last.pt"), "--out", str(snap_out), "--k", "4"]
    assert gen_main([*snap_argv, "--average", str(gan_run / "snap-step000002.pt")]) == 0
    assert _extra(snap_out.with_name("snap-gan-generator.onnx"))["averaged_steps"] == [3, 2]


def _extra(path: Path) -> dict:
    """The ``extra`` metadata of an exported file."""
    return mm.parse_json({p.key: p.value for p in onnx.load(str(path)).metadata_props}, mm.KEY_EXTRA)


def test_two_warm_starts_are_refused_on_the_command_line(tmp_path: Path, capsys) -> None:
    argv = ["train", "--kind", "gan", "--data", str(tmp_path), "--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exit_info:
        gen_main([*argv, "--init-vae", "a.pt", "--init-gan", "b.pt"])
    assert exit_info.value.code == 2  # argparse's usage error, before anything is loaded
    assert "not allowed with argument" in capsys.readouterr().err
