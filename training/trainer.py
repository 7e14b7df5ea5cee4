"""A model-agnostic training loop (minGPT/nanoGPT style).

The trainer knows nothing about masks, clicks or VAEs: a *task* supplies the loss for a batch,
the validation metrics and preview images. The trainer owns everything generic: AdamW,
warm-up + cosine schedule, EMA of weights, gradient clipping, bf16 autocast and channels-last,
time-based checkpoints with exact resume, CSV logs, plots, progress bars and DDP (gloo on CPU,
started through ``torchrun``).

Checkpoints carry ``model_kind`` + ``model_config`` so export and resume rebuild the model.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from .samplers import BucketedEpochSampler, EpochSampler


@dataclass
class TrainConfig:
    out: str
    epochs: int = 10
    batch_size: int = 16
    lr: float = 3e-3
    min_lr_ratio: float = 0.02
    weight_decay: float = 0.01
    warmup_steps: int = 300
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    checkpoint_minutes: float = 5.0
    seed: int = 0
    bf16: bool = True
    channels_last: bool = True
    compile: bool = False
    num_workers: int = 1
    max_steps: int = 0  # > 0 stops early (smoke runs); the schedule still spans all epochs
    # > 0 caps an epoch at this many batches, drawn from a fresh shuffle of the whole set (the
    # sampler's ``max_batches``): a short phase sees a random part of the data and its LR
    # schedule, which spans the capped epochs, still completes
    epoch_steps: int = 0
    # > 0 also keeps ``snap-step{N}.pt`` (EMA weights only, ~a quarter of a checkpoint) every N
    # steps: averaging snapshots of one run is a free gain for a GAN, whose EMA weights wander
    # around a good point rather than settle in it, and the snapshots must exist to be averaged
    snapshot_every: int = 0
    eval_every: int = 1  # epochs
    threads: int = 0  # 0 = cores / world size
    extra: dict = field(default_factory=dict)


class Task(Protocol):
    """What a trainer needs from a concrete problem."""

    def train_loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]: ...

    def evaluate(self, model: nn.Module) -> dict[str, float]: ...

    def save_previews(self, model: nn.Module, path: Path) -> None: ...

    def on_epoch_start(self, epoch: int) -> None: ...

    def score(self, metrics: dict[str, float]) -> float:
        """Higher is better; picks ``best.pt``."""
        ...


class EMA:
    """Exponential moving average of parameters and buffers, with warm-up of the decay."""

    def __init__(self, model: nn.Module, decay: float):
        self.model = copy.deepcopy(model).eval()
        self.decay = decay
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for e, p in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(p.detach(), alpha=1 - d)
            else:
                e.copy_(p)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps))
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def _to_device_format(batch: Any, channels_last: bool) -> Any:
    if isinstance(batch, torch.Tensor):
        if channels_last and batch.dim() == 4:
            return batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device_format(b, channels_last) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device_format(v, channels_last) for k, v in batch.items()}
    return batch


def native_bf16() -> bool:
    """Whether oneDNN has bf16 kernels for this CPU (AVX-512 or Arm bf16).

    Without them autocast still runs, but bf16 is emulated: on a 2-core AVX2 EPYC a SeedNet step
    took ~10x longer than in fp32 (0.3 vs 2.6 images/s), so the trainer turns bf16 off there.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def _save_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class Trainer:
    """Runs ``task`` on ``model`` over ``train_set``; see module docstring."""

    def __init__(
        self,
        model: nn.Module,
        model_kind: str,
        model_config: dict,
        task: Task,
        train_set: Dataset,
        cfg: TrainConfig,
        task_config: dict | None = None,
        collate_fn: Callable | None = None,
        param_groups: list[dict] | None = None,
    ):
        self.cfg, self.task, self.train_set = cfg, task, train_set
        self.model_kind, self.model_config, self.task_config = model_kind, model_config, task_config or {}
        self.out = Path(cfg.out)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("gloo")
        torch.manual_seed(cfg.seed)
        threads = cfg.threads or max(1, (os.cpu_count() or 2) // self.world)
        torch.set_num_threads(threads)
        if cfg.bf16 and not native_bf16():
            # the caller's config is left as given; checkpoints record the setting that ran
            self.cfg = cfg = replace(cfg, bf16=False)
            self.log("bf16 autocast off: this CPU has no native bf16 kernels (emulated bf16 is ~10x slower)")
        if cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.ema = EMA(model, cfg.ema_decay)
        # groups may carry an ``lr_scale`` (e.g. a pretrained encoder learning slower than its head)
        groups = param_groups or [{"params": list(model.parameters()), "lr_scale": 1.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        shape_of = getattr(train_set, "bucket_shape", None)  # keep-aspect datasets batch by shape
        self.sampler = (
            BucketedEpochSampler(
                len(train_set), cfg.batch_size, cfg.seed, shape_of, self.rank, self.world, cfg.epoch_steps
            )
            if callable(shape_of)
            else EpochSampler(len(train_set), cfg.batch_size, cfg.seed, self.rank, self.world, cfg.epoch_steps)
        )
        self.collate_fn = collate_fn
        self.steps_per_epoch = self.sampler.batches_per_epoch()
        if self.steps_per_epoch == 0:
            raise ValueError(f"{len(train_set)} samples is fewer than one batch of {cfg.batch_size}")
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.step, self.epoch, self.elapsed = 0, 0, 0.0
        self.history: list[dict] = []
        self.best_score = -math.inf
        self.train_model: nn.Module = model
        if self.world > 1:
            self.train_model = nn.parallel.DistributedDataParallel(model)
        if cfg.compile:
            self.train_model = torch.compile(self.train_model)

    # ----------------------------------------------------------------- checkpoints
    def state(self) -> dict:
        return {
            "model_kind": self.model_kind,
            "model_config": self.model_config,
            "task_config": self.task_config,
            "train_config": asdict(self.cfg),
            "model": self.model.state_dict(),
            "ema": self.ema.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "history": self.history,
            "best_score": self.best_score,
        }

    def save_snapshot(self) -> None:
        """Keep this step's EMA weights (no optimizer, no raw weights) beside ``last.pt``."""
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            _save_atomic(weights_only_state(self.state()), self.out / f"snap-step{self.step:06d}.pt")

    def save(self, name: str = "last.pt") -> None:
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            _save_atomic(self.state(), self.out / name)

    def resume(self, path: Path | None = None) -> bool:
        path = path or self.out / "last.pt"
        if not path.is_file():
            return False
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(ckpt["model"])
        self.ema.model.load_state_dict(ckpt["ema"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step, self.elapsed = ckpt["step"], ckpt.get("elapsed", 0.0)
        self.history, self.best_score = ckpt.get("history", []), ckpt.get("best_score", -math.inf)
        self.log(f"resumed from {path} at step {self.step}")
        return True

    # ----------------------------------------------------------------- logging
    def log(self, msg: str) -> None:
        if self.rank == 0:
            tqdm.write(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr)

    def _append_csv(self, name: str, row: dict) -> None:
        if self.rank != 0:
            return
        path = self.out / name
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    # ----------------------------------------------------------------- loop
    def train(self) -> list[dict]:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        last_ckpt = time.time()
        # optional: ``train_step(model, batch, optimizer, step) -> (loss, logs, grad_norm)`` for tasks
        # whose step is more than one backward pass (a GAN updates its critic, then its generator)
        step_fn = getattr(self.task, "train_step", None)
        while self.step < self.total_steps and not (cfg.max_steps and self.step >= cfg.max_steps):
            self.epoch = self.step // self.steps_per_epoch
            self.sampler.epoch = self.epoch
            self.sampler.skip_batches = self.step % self.steps_per_epoch
            if hasattr(self.train_set, "set_epoch"):
                self.train_set.set_epoch(self.epoch)
            self.task.on_epoch_start(self.epoch)
            loader = DataLoader(
                self.train_set,
                batch_size=cfg.batch_size,
                sampler=self.sampler,
                num_workers=cfg.num_workers,
                drop_last=True,
                collate_fn=self.collate_fn,
                persistent_workers=False,
            )
            self.train_model.train()
            bar = tqdm(
                loader,
                desc=f"epoch {self.epoch + 1}/{cfg.epochs}",
                disable=self.rank != 0,
                mininterval=1 if sys.stderr.isatty() else 60,
                file=sys.stderr,
            )
            seen, t0 = 0, time.time()
            for batch in bar:
                lr = lr_at(self.step, self.total_steps, cfg)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                batch = _to_device_format(batch, cfg.channels_last)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                    if step_fn is not None:  # the task owns the updates (adversarial: two per step)
                        loss, logs, grad_norm = step_fn(self.train_model, batch, self.optimizer, self.step)
                    else:
                        loss, logs = self.task.train_loss(self.train_model, batch)
                if step_fn is None:
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                    self.optimizer.step()
                self.ema.update(self.model, self.step)
                self.step += 1
                if cfg.snapshot_every and self.step % cfg.snapshot_every == 0:
                    self.save_snapshot()
                seen += cfg.batch_size * self.world
                now = time.time()
                rate = seen / max(1e-6, now - t0)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}", lr=f"{lr:.2e}", ips=f"{rate:.1f}", refresh=False)
                if self.step % 20 == 0:
                    self._append_csv(
                        "log.csv",
                        {
                            "step": self.step,
                            "epoch": self.epoch,
                            "lr": lr,
                            "loss": float(loss.detach()),
                            "grad_norm": float(grad_norm),
                            "img_per_s": rate,
                            "elapsed_s": self.elapsed + now - t0,
                            **logs,
                        },
                    )
                if now - last_ckpt > cfg.checkpoint_minutes * 60:
                    self.elapsed += now - t0
                    t0, seen = now, 0
                    self.save()
                    last_ckpt = now
                if cfg.max_steps and self.step >= cfg.max_steps:
                    break
            self.elapsed += time.time() - t0
            epoch_done = self.step % self.steps_per_epoch == 0
            if epoch_done and ((self.epoch + 1) % cfg.eval_every == 0 or self.step >= self.total_steps):
                self.validate()
            self.save()
        if self.world > 1:
            dist.barrier()
        return self.history

    def validate(self) -> dict:
        if self.rank != 0:
            return {}
        t = time.time()
        metrics = self.task.evaluate(self.ema.model)
        record = {"epoch": self.epoch + 1, "step": self.step, "elapsed_s": round(self.elapsed, 1), **metrics}
        self.history.append(record)
        self._append_csv("val.csv", record)
        self.log(f"validation after epoch {self.epoch + 1}: {metrics} ({time.time() - t:.0f}s)")
        self.task.save_previews(self.ema.model, self.out / f"preview-epoch{self.epoch + 1:03d}.png")
        score = self.task.score(metrics)
        if score > self.best_score:
            self.best_score = score
            self.save("best.pt")
        from .plots import plot_curves  # matplotlib only when needed

        plot_curves(self.out)
        return metrics


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


_WEIGHTS_ONLY_KEYS = ("model_kind", "model_config", "task_config", "train_config", "ema", "step", "elapsed", "history")


def weights_only_state(ckpt: dict) -> dict:
    """What a new run (``--init``), an export or a weight average needs from a checkpoint."""
    return {k: ckpt[k] for k in _WEIGHTS_ONLY_KEYS if k in ckpt}


def save_compact_checkpoint(src: str | Path, dst: str | Path, weights_only: bool = False) -> Path:
    """Copy a checkpoint with the optimizer's moment buffers in bfloat16, for committing.

    ``weights_only`` keeps only what a *new* run needs to start from it (``--init``): the EMA
    weights in fp32, the model and task configs, step and validation history; no raw weights,
    no optimizer. That is a quarter of a full checkpoint (a 3 M-parameter network: 12.6 MB
    against ~38 MB compact), for a finished run whose next phase gets a fresh schedule.

    AdamW keeps two fp32 tensors per parameter, half of a checkpoint's bytes. bfloat16 keeps
    their range (the second moment reaches 1e-10, below float16's) at 3 significant digits,
    enough to continue a run; ``Optimizer.load_state_dict`` casts them back to the parameters'
    dtype, so :meth:`Trainer.resume` reads the compact file unchanged. Weights and EMA stay
    fp32, so export and evaluation from the compact file are exact.
    """
    ckpt = load_checkpoint(src)
    if weights_only:
        dst = Path(dst)
        torch.save(weights_only_state(ckpt), dst)
        return dst
    for state in ckpt["optimizer"]["state"].values():
        for key, value in state.items():
            if torch.is_tensor(value) and value.is_floating_point() and value.dim() > 0:
                state[key] = value.to(torch.bfloat16)
    dst = Path(dst)
    torch.save(ckpt, dst)
    return dst
