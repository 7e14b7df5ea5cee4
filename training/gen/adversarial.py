"""``gen train --kind gan``: the adversarial task on the shared trainer.

The step is the task's (``train_step``, see :class:`training.trainer.Trainer`): one critic
update on DiffAugmented real and fake images with the non-saturating logistic loss (plus a
lazy R1 penalty on the augmented reals every ``r1_every`` steps), then one generator update
through the (frozen) critic, both on the same fake batch so the generator runs forward once.
Everything generic (Adam state, EMA of the weights, time-based checkpoints, resume, logs, the
epoch sampler) stays the trainer's, so a GAN run has the same one checkpoint and ``--resume``
as the VAE. The EMA generator (Karras et al.) is what previews and export use.

All randomness of a step (z and the augmentations) comes from a generator seeded with the
step number, and data order from the trainer's epoch sampler, so resuming from a checkpoint
reproduces the uninterrupted run exactly (the tests check it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.emoji import ArraySet, load_emoji, split
from ..models.gan import GAN, PRESETS, GANConfig, count_parameters, warm_start_from_vae, widen_into
from ..trainer import Trainer, load_checkpoint
from .diffaug import OPS, POLICY, diff_augment
from .figures import save_png, tile
from .gan_export import gan_from_checkpoint
from .train import TimeBudget, gen_train_config, to_tensor, to_uint8

PREVIEW_SAMPLES = 64
PROBE_IMAGES = 128  # per set in the per-epoch critic check: 3 x 335 images through a projected
# critic's 128 px EfficientNet took 33 s, a fifth of an epoch; 128 each tell the same story
BETAS = (0.5, 0.99)  # DCGAN's beta1 = 0.5: some momentum smooths batch-16 gradients (StyleGAN's 0
# relies on equalised learning rates, which these plainly parametrised layers do not have)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The random source of one step, a function of (seed, step) only: exact resume."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class GANTask:
    """Trainer task for the GAN (see :class:`training.trainer.Task`)."""

    def __init__(
        self,
        val_images: np.ndarray,
        train_images: np.ndarray,
        latent: int,
        seed: int = 0,
        policy=POLICY,
        r1_gamma: float = 0.1,
        r1_every: int = 8,
    ):
        self.latent, self.seed, self.policy = latent, seed, tuple(policy)
        keep = np.random.default_rng(seed + 1).choice(len(val_images), min(PROBE_IMAGES, len(val_images)), False)
        self.val = val_images[np.sort(keep)]
        self.r1_gamma, self.r1_every, self.last_r1 = r1_gamma, r1_every, 0.0
        pick = np.random.default_rng(seed).choice(len(train_images), min(len(self.val), len(train_images)), False)
        self.train_probe = train_images[np.sort(pick)]
        self.budget: TimeBudget | None = None
        self.preview_z = torch.from_numpy(
            np.random.default_rng(seed).standard_normal((PREVIEW_SAMPLES, latent))
        ).float()

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def train_loss(self, model: nn.Module, batch: torch.Tensor):  # pragma: no cover - train_step is used
        raise NotImplementedError("the GAN task updates through train_step")

    def train_step(self, model: nn.Module, batch: torch.Tensor, optimizer: torch.optim.Optimizer, step: int):
        gen = step_generator(self.seed, step)
        g, d = model.generator, model.discriminator
        z = torch.randn(batch.shape[0], self.latent, generator=gen)
        fake = g(z)
        # critic: non-saturating logistic loss on augmented reals and (detached) fakes
        optimizer.zero_grad(set_to_none=True)
        real_aug = diff_augment(batch, gen, self.policy)
        lazy_r1 = self.r1_gamma > 0 and step % self.r1_every == 0
        if lazy_r1:
            real_aug = real_aug.detach().requires_grad_(True)
        d_real = d(real_aug)
        d_fake = d(diff_augment(fake.detach(), gen, self.policy))
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        r1 = torch.tensor(self.last_r1)
        if lazy_r1:  # R1 on the augmented reals the critic saw, scaled by the interval (lazy)
            (grad,) = torch.autograd.grad(d_real.sum(), real_aug, create_graph=True)
            r1 = grad.pow(2).sum(dim=(1, 2, 3)).mean()
            self.last_r1 = float(r1.detach())  # logged on the next steps too: logs fall on other steps
            (d_loss + 0.5 * self.r1_gamma * self.r1_every * r1).backward()
        else:
            d_loss.backward()
        optimizer.step()  # only the critic has gradients
        # generator: through the critic, whose weights get no gradient (saves their backward)
        optimizer.zero_grad(set_to_none=True)
        _set_requires_grad(d, False)
        try:
            g_loss = F.softplus(-d(diff_augment(fake, gen, self.policy))).mean()
            g_loss.backward()
        finally:
            _set_requires_grad(d, True)
        g_norm = torch.norm(torch.stack([p.grad.norm() for p in g.parameters() if p.grad is not None]))
        optimizer.step()
        if self.budget is not None:
            self.budget.update()
        logs = {
            "d_loss": float(d_loss.detach()),
            "g_loss": float(g_loss.detach()),
            "d_real": float(d_real.detach().mean()),
            "d_fake": float(d_fake.detach().mean()),
            "rt": float(d_real.detach().sign().mean()),  # ADA's overfitting heuristic
            "r1": float(r1.detach()),
        }
        return g_loss.detach(), logs, float(g_norm)

    @torch.no_grad()
    def _critic(self, d: nn.Module, images: np.ndarray) -> float:
        return float(torch.cat([d(to_tensor(images[i : i + 256])) for i in range(0, len(images), 256)]).mean())

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Critic outputs (EMA weights) on training reals, held-out reals and fakes: a gap between
        the first two is the critic memorising the training set."""
        model.eval()
        fakes = to_uint8(
            model.generator(torch.randn(len(self.val), self.latent, generator=step_generator(self.seed, -1)))
        )
        return {
            "d_train": round(self._critic(model.discriminator, self.train_probe), 4),
            "d_val": round(self._critic(model.discriminator, self.val), 4),
            "d_fake": round(self._critic(model.discriminator, fakes), 4),
        }

    def score(self, metrics: dict[str, float]) -> float:
        return 0.0  # no validation score ranks GAN checkpoints; the last one is kept

    @torch.no_grad()
    def save_previews(self, model: nn.Module, path: Path) -> None:
        model.eval()
        save_png(tile(to_uint8(model.generator(self.preview_z)), cols=8), path)


def vae_fit(vae_ckpt: str | Path, images: np.ndarray) -> tuple[dict, torch.Tensor, torch.Tensor, dict]:
    """(decoder state dict, mean, covariance of the posterior means, VAE model config) of a VAE run."""
    from ..models.vae import VAE, VAEConfig

    ckpt = load_checkpoint(vae_ckpt)
    if ckpt.get("model_kind") != "vae":
        raise SystemExit(f"{vae_ckpt}: not a VAE checkpoint (model_kind {ckpt.get('model_kind')!r})")
    vae = VAE(VAEConfig.from_dict(ckpt["model_config"]))
    vae.load_state_dict(ckpt["ema"])
    vae.eval()
    with torch.no_grad():
        means = torch.cat([vae.encoder(to_tensor(images[i : i + 256]))[0] for i in range(0, len(images), 256)])
    means = means.double()
    centred = means - means.mean(0)
    cov = centred.T @ centred / max(1, len(means) - 1)
    return vae.decoder.state_dict(), means.mean(0), cov, ckpt["model_config"]


def init_from_gan(model: GAN, ckpt_path: str | Path) -> dict:
    """Warm start from a trained GAN checkpoint: its critic's weights as they are (same critic
    kind), its EMA generator grown into this run's (possibly wider) generator exactly
    (:func:`training.models.gan.widen_into`): the run starts from the samples that one makes."""
    ckpt = load_checkpoint(ckpt_path)
    if ckpt.get("model_kind") != "gan":
        raise SystemExit(f"{ckpt_path}: not a GAN checkpoint (model_kind {ckpt.get('model_kind')!r})")
    teacher_cfg = GANConfig.from_dict(ckpt["model_config"])
    if teacher_cfg.latent != model.cfg.latent or teacher_cfg.critic != model.cfg.critic:
        raise SystemExit(
            f"--init-gan: the checkpoint's latent/critic is {teacher_cfg.latent}/{teacher_cfg.critic}, "
            f"this run's {model.cfg.latent}/{model.cfg.critic}"
        )
    teacher = gan_from_checkpoint(ckpt)  # the EMA generator: the one its samples and export use
    try:
        widen_into(model.generator, teacher.generator)
    except ValueError as exc:
        raise SystemExit(f"--init-gan: {teacher_cfg.g_preset} does not grow into {model.cfg.g_preset}: {exc}") from exc
    teacher.load_state_dict(ckpt["model"])  # the critic as it was training, not its average
    model.discriminator.load_state_dict(teacher.discriminator.state_dict())
    return {"init_gan": str(ckpt_path), "init_gan_step": ckpt.get("step"), "init_gan_preset": teacher_cfg.g_preset}


def cmd_train_gan(args: argparse.Namespace) -> int:
    images, stems = load_emoji(args.data, args.size, limit=args.limit)
    train_idx, val_idx = split(stems, args.val_fraction)
    preset = args.preset if args.preset in PRESETS else "xs"
    config = GANConfig.from_dict({**PRESETS[preset].to_dict(), "size": args.size})
    last = Path(args.out) / "last.pt"
    previous = load_checkpoint(last) if args.resume and last.is_file() else {}
    # a resumed run keeps the critic its checkpoint was made with
    config.critic = previous.get("model_config", {}).get("critic", "plain") if previous else args.critic
    if args.latent:
        config.latent = args.latent
    model = GAN(config)
    warm = ""
    if args.init_vae and not args.resume:
        state, mean, cov, vae_cfg = vae_fit(args.init_vae, images[train_idx])
        if vae_cfg.get("latent") != config.latent:
            raise SystemExit(f"--init-vae: the VAE's latent is {vae_cfg.get('latent')}, the GAN's {config.latent}")
        warm_start_from_vae(model.generator, state, mean.float(), cov.float())
        warm = str(args.init_vae)
    if args.init_gan and not args.resume:
        grown = init_from_gan(model, args.init_gan)
        step, small = grown["init_gan_step"], grown["init_gan_preset"]
        warm = f"{args.init_gan} (step {step}, generator {small} grown to {preset})"
    # constant learning rate after warm-up: a GAN has no loss to anneal toward
    cfg = gen_train_config(args, min_lr_ratio=1.0, weight_decay=0.0)
    groups = [
        {"params": list(model.generator.parameters()), "lr_scale": 1.0, "betas": BETAS, "weight_decay": 0.0},
        {
            "params": list(model.discriminator.parameters()),
            "lr_scale": args.d_lr_ratio,
            "betas": BETAS,
            "weight_decay": 0.0,
        },
    ]
    policy = tuple(p for p in args.diffaug.split(",") if p)
    unknown = [p for p in policy if p not in OPS]
    if unknown:
        raise SystemExit(f"--diffaug: unknown operation(s) {', '.join(unknown)} (choose from {', '.join(OPS)})")
    task = GANTask(images[val_idx], images[train_idx], config.latent, args.seed, policy, r1_gamma=args.r1)
    task_config = {
        "task": "gen",
        "kind": "gan",
        "data": str(Path(args.data).resolve()),
        "size": args.size,
        "limit": args.limit,
        "val_fraction": args.val_fraction,
        "background": "white",
        "loss": {
            "adversarial": "non-saturating logistic",
            "r1_gamma": args.r1,
            "r1_every": task.r1_every,
            "critic_spectral_norm": config.spectral_norm,
            "diffaugment": list(policy),
        },
        "d_lr_ratio": args.d_lr_ratio,
        # a resumed run keeps the warm-start provenance recorded by the first session
        "warm_start": previous.get("task_config", {}).get("warm_start", "") if previous else warm,
        "n_train": len(train_idx),
        "n_val": len(val_idx),
    }
    train_set = ArraySet(images[train_idx], flip=args.flip, seed=args.seed)
    trainer = Trainer(model, "gan", config.to_dict(), task, train_set, cfg, task_config, param_groups=groups)
    if args.resume:
        trainer.resume()
    if args.minutes:
        task.budget = TimeBudget(trainer, args.minutes)
    trainer.log(
        f"GAN-{preset}: generator {count_parameters(model.generator):,} / critic "
        f"{count_parameters(model.discriminator):,} parameters, latent {config.latent}, "
        f"{len(train_idx)} training images at {args.size}px{', warm start from ' + warm if warm else ''}"
    )
    t0 = time.time()
    history = trainer.train()
    trainer.log(f"done: {trainer.step} steps, {time.time() - t0:.0f}s this session")
    if history:
        print(json.dumps(history[-1]))
    return 0
