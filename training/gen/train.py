"""``python -m training gen train|sample``: the latent-slider generator (a VAE).

Training reuses the model-agnostic :class:`~training.trainer.Trainer`; this module supplies the
task (loss, validation PSNR/SSIM, previews) and the ``train`` and ``sample`` commands. The
command line is :mod:`training.gen.cli`, export (PCA directions + ONNX) :mod:`training.gen.export`,
pictures :mod:`training.gen.figures`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.emoji import ArraySet, load_emoji, split
from ..models.vae import PRESETS, VAE, VAEConfig, count_parameters
from ..run_args import run_config
from ..trainer import TrainConfig, Trainer
from .figures import recon_grid, sample_grid, save_png, tile
from .losses import LossConfig, psnr, ssim, vae_loss

PREVIEW_RECON = 16
PREVIEW_SAMPLES = 32


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """N x 3 x H x W in [0, 1] -> N x H x W x 3 uint8."""
    return (images.detach().float().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """N x H x W x 3 uint8 -> N x 3 x H x W float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float() / 255.0


@torch.no_grad()
def reconstruct(model: nn.Module, images: np.ndarray, batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(reconstructions from the posterior mean as uint8, posterior means) of uint8 images."""
    model.eval()
    recons, means = [], []
    for start in range(0, len(images), batch):
        x = to_tensor(images[start : start + batch])
        mean, _ = model.encoder(x)
        recons.append(to_uint8(model.decoder(mean)))
        means.append(mean.numpy())
    return np.concatenate(recons), np.concatenate(means)


@torch.no_grad()
def evaluate_vae(model: nn.Module, images: np.ndarray, batch: int = 128) -> dict[str, float]:
    """Validation PSNR/SSIM of mean reconstructions, and the KL per image (nats)."""
    model.eval()
    p, s, kl = [], [], []
    for start in range(0, len(images), batch):
        x = to_tensor(images[start : start + batch])
        mean, logvar = model.encoder(x)
        r = model.decoder(mean)
        p.append(psnr(r, x))
        s.append(ssim(r, x))
        kl.append(0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(1))
    return {
        "psnr": float(torch.cat(p).mean()),
        "ssim": float(torch.cat(s).mean()),
        "kl": float(torch.cat(kl).mean()),
        "n": len(images),
    }


class TimeBudget:
    """Fit training into ``minutes`` of wall time by re-planning the trainer's step count.

    Why: this machine is shared and the VAE runs niced, so images per second vary several-fold
    with the other jobs. A fixed epoch count either stops early or overruns; instead, every
    ``every`` steps the total is set to what the measured rate can finish in the remaining
    time, and the cosine learning-rate schedule (which reads ``trainer.total_steps``) follows.
    """

    def __init__(self, trainer: Trainer, minutes: float, every: int = 20):
        self.trainer, self.seconds, self.every = trainer, minutes * 60, every
        # a --max-steps given with --minutes still stops the run there: the plan below rewrites
        # cfg.max_steps, and once overrode it (a phase meant to stop at a step ran on)
        self.step_cap = trainer.cfg.max_steps
        self.t0, self.step0, self.elapsed0 = time.time(), trainer.step, trainer.elapsed
        if trainer.step and trainer.elapsed > 0:  # resumed: plan at once from the run's own rate
            self._plan(trainer.step / trainer.elapsed, 0.0)

    def update(self) -> None:
        done = self.trainer.step - self.step0
        if done and self.trainer.step % self.every == 0:
            spent = time.time() - self.t0
            self._plan(done / max(spent, 1e-6), spent)

    def _plan(self, steps_per_s: float, spent: float) -> None:
        tr = self.trainer
        remaining = self.seconds - self.elapsed0 - spent
        cap = tr.cfg.epochs * tr.steps_per_epoch
        if self.step_cap:
            cap = min(cap, self.step_cap)
        tr.total_steps = tr.cfg.max_steps = min(cap, max(tr.step + 1, tr.step + int(remaining * steps_per_s)))


class GenTask:
    """Trainer task for the VAE (see :class:`training.trainer.Task`)."""

    def __init__(self, val_images: np.ndarray, loss_cfg: LossConfig, latent: int):
        self.val, self.loss_cfg, self.latent = val_images, loss_cfg, latent
        self.step = 0
        self.budget: TimeBudget | None = None
        self.preview_ids = np.linspace(0, len(val_images) - 1, min(PREVIEW_RECON, len(val_images))).astype(int)

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def train_loss(self, model: nn.Module, batch: torch.Tensor):
        recon, mean, logvar = model(batch)
        self.step += 1
        if self.budget is not None:
            self.budget.update()
        return vae_loss(batch, recon, mean, logvar, self.loss_cfg, self.step)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        t = time.time()
        out = evaluate_vae(model, self.val)
        out["eval_s"] = round(time.time() - t, 1)
        return out

    def score(self, metrics: dict[str, float]) -> float:
        return metrics["ssim"]

    def save_previews(self, model: nn.Module, path: Path) -> None:
        originals = self.val[self.preview_ids]
        recons, _ = reconstruct(model, originals)

        @torch.no_grad()
        def decode(z: np.ndarray) -> np.ndarray:
            return to_uint8(model.decoder(torch.from_numpy(z)))

        top = recon_grid(originals, recons, cols=8)
        bottom = sample_grid(decode, self.latent, PREVIEW_SAMPLES, seed=0)
        width = max(top.shape[1], bottom.shape[1])
        pad = lambda a: np.pad(a, ((0, 8), (0, width - a.shape[1]), (0, 0)), constant_values=255)  # noqa: E731
        save_png(np.concatenate([pad(top), pad(bottom)]), path)


def gen_train_config(args: argparse.Namespace, **overrides) -> TrainConfig:
    """The trainer settings both generator kinds take from their shared command-line flags;
    ``overrides`` are what a kind sets differently (a GAN: constant LR, no weight decay)."""
    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup,
        bf16=args.bf16,
        channels_last=True,
        num_workers=0,
        ema_decay=args.ema,
        **run_config(args),
        **overrides,
    )


def cmd_train(args: argparse.Namespace) -> int:
    images, stems = load_emoji(args.data, args.size, limit=args.limit)
    train_idx, val_idx = split(stems, args.val_fraction)
    overrides = {"size": args.size, **({"latent": args.latent} if args.latent else {})}
    config = VAEConfig.from_dict({**PRESETS[args.preset].to_dict(), **overrides})
    model = VAE(config)
    loss_cfg = LossConfig(
        l1=args.l1, ssim=args.ssim, grad=args.grad, kl=args.kl, kl_warmup=args.kl_warmup, free_bits=args.free_bits
    )
    cfg = gen_train_config(args)
    task = GenTask(images[val_idx], loss_cfg, config.latent)
    task_config = {
        "task": "gen",
        "data": str(Path(args.data).resolve()),
        "size": args.size,
        "limit": args.limit,
        "val_fraction": args.val_fraction,
        "background": "white",
        "loss": vars(loss_cfg),
        "n_train": len(train_idx),
        "n_val": len(val_idx),
    }
    train_set = ArraySet(images[train_idx], flip=args.flip, seed=args.seed)
    trainer = Trainer(model, "vae", config.to_dict(), task, train_set, cfg, task_config)
    if args.resume and trainer.resume():
        task.step = trainer.step
    if args.minutes:
        task.budget = TimeBudget(trainer, args.minutes)
    trainer.log(
        f"VAE-{args.preset}: {count_parameters(model):,} parameters, latent {config.latent}, "
        f"{len(train_idx)} training / {len(val_idx)} validation images at {args.size}px"
    )
    history = trainer.train()
    if history:
        print(json.dumps(history[-1]))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Sample grid through an exported generator (VAE decoder or GAN generator), via the app's
    own core, each with its natural prior (the VAE's data fit, the GAN's N(0, I))."""
    from desktop_app.core.latent.generator import Generator, find_generator

    gen = Generator(find_generator(args.model))
    space = gen.info.space
    fitted = args.prior == "fitted" and space.has_fit
    # seeds seed .. seed+n-1, each drawn exactly as the latent panel's seed box draws it
    z = np.stack([space.sample(args.seed + i, args.temperature, fitted) for i in range(args.n)])
    images = gen.decode_batch(z.astype(np.float32))
    path = save_png(tile(images, cols=int(np.ceil(np.sqrt(args.n))), scale=args.scale), args.out)
    kind = ("mixture" if space.mixture is not None else "Gaussian") + " fit" if fitted else "N(0, I)"
    word = gen.info.draw_word
    print(
        f"wrote {path} ({args.n} samples from {gen.info.path.name}, a {gen.info.kind_label}, {kind} prior, "
        f"seeds {args.seed}-{args.seed + args.n - 1}, {word} {args.temperature})"
    )
    return 0
