"""``gen export`` of a GAN checkpoint: the EMA generator as ONNX, SeFa directions in its metadata.

The file is a ``generator-decoder`` like the VAE's decoder (input ``z``, N x latent; output an
RGB image in [0, 1], N x 3 x 64 x 64 on white), so the app's latent page, ``gen sample`` and the
benchmarks treat both alike. What differs is in ``extra``:

- ``generator_kind: "gan"``; no encoder, no data fit: the natural prior is N(0, I) and the
  app's "temperature" is the truncation (z scaled toward 0, Brock et al. 2019's trick in its
  simplest form; there is no mapping network whose mean w could be the centre).
- ``directions``: SeFa eigenvectors of the first layer's weights (see :mod:`training.gen.sefa`)
  with sigma 1 (the prior's spread along any unit vector) and latent mean 0 (the prior's
  centre), and ``direction_names`` for the first few, given after looking at their sweeps.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from desktop_app.core import model_meta as meta

from ..export import export_onnx, parity
from ..models.gan import GAN, GANConfig, count_parameters
from ..trainer import load_checkpoint
from .config import TRAINING_DATA
from .figures import onnx_decoder, save_png, tile, write_sweeps
from .finishing import average_ema_weights, standing_statistics
from .sefa import sefa_for_prior

VERSION = "1"


def gan_from_checkpoint(ckpt: dict, use_ema: bool = True) -> GAN:
    model = GAN(GANConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["ema" if use_ema else "model"])
    return model.eval()


def prior_z(latent: int, seeds: range | list[int], truncation: float = 1.0) -> np.ndarray:
    """z for each seed exactly as the app's seed box draws it (``sample_prior``), float32."""
    from desktop_app.core.latent.generator import sample_prior

    return np.stack([sample_prior(latent, s, truncation) for s in seeds]).astype(np.float32)


def export_gan(
    ckpt_path: str,
    out: str,
    k: int = 24,
    figures: str | None = None,
    use_ema: bool = True,
    name: str = "",
    names: list[str] | None = None,
    metrics: dict | None = None,
    average: list[str] | None = None,
    standing_batches: int = 300,
) -> dict:
    """Write ``OUT-generator.onnx`` (+ figures); returns a report dict.

    ``average``: more checkpoints of the same run whose EMA weights are averaged with
    ``ckpt_path``'s; ``standing_batches`` > 0 re-estimates the BatchNorm statistics from that many
    prior batches at the run's training batch size; see :mod:`training.gen.finishing`.
    """
    t0 = time.time()
    ckpt = load_checkpoint(ckpt_path)
    if ckpt.get("model_kind") != "gan":
        raise SystemExit(f"{ckpt_path}: not a GAN checkpoint (model_kind {ckpt.get('model_kind')!r})")
    others = [load_checkpoint(p) for p in average or []]
    if others and not use_ema:
        raise SystemExit("--average averages EMA weights; it cannot be combined with --raw-weights")
    averaged = {**ckpt, "ema": average_ema_weights([ckpt, *others])} if others else ckpt
    model = gan_from_checkpoint(averaged, use_ema)
    standing_batch_size = int(ckpt.get("train_config", {}).get("batch_size", 16))
    if standing_batches > 0:
        standing_statistics(model.generator, model.cfg.latent, standing_batches, standing_batch_size)
    cfg, task = model.cfg, ckpt.get("task_config", {})
    dirs = sefa_for_prior(model.generator.fc.weight, min(k, cfg.latent))
    prefix = Path(out)
    name = name or prefix.name
    path = prefix.with_name(f"{prefix.name}-generator.onnx")
    extra = {
        "generator_kind": "gan",
        "latent_size": cfg.latent,
        "image_size": [cfg.size, cfg.size],
        "output_range": [0.0, 1.0],
        "background": task.get("background", "white"),
        "prior": "standard normal N(0, I); temperature = truncation (z scaled toward 0)",
        "latent_mean": dirs.mean,
        "directions": [[float(f"{v:.6g}") for v in row] for row in dirs.vectors],
        "sigmas": dirs.sigmas,
        "explained_variance": [round(e, 4) for e in dirs.explained],
        "direction_source": "SeFa: eigenvectors of W^T W of the generator's first layer (Shen & Zhou 2021)",
        "direction_names": list(names or []),
        "architecture": "GAN generator = the VAE decoder architecture (fc, residual conv-BN-SiLU, nearest "
        "upsampling, sigmoid); spectral-norm critic, hinge loss, DiffAugment, EMA generator",
        "parameters": count_parameters(model.generator),
        "critic_parameters": count_parameters(model.discriminator),
        "model_config": ckpt["model_config"],
        "loss": task.get("loss", {}),
        "warm_start": task.get("warm_start", ""),
        "trained_steps": ckpt.get("step"),
        "averaged_steps": [ck.get("step") for ck in [ckpt, *others]] if others else [],
        "standing_statistics": {"batches": standing_batches, "batch_size": standing_batch_size}
        if standing_batches > 0
        else None,
        "training_minutes_cpu": round(ckpt.get("elapsed", 0.0) / 60, 1),
    }
    md = {
        meta.KEY_NAME: name,
        meta.KEY_VERSION: VERSION,
        meta.KEY_KIND: meta.KIND_GENERATOR_DECODER,
        meta.KEY_INPUT_SIZE: f"{cfg.size},{cfg.size}",
        meta.KEY_CHANNEL_ORDER: "RGB",
        meta.KEY_MEAN: "0.0,0.0,0.0",
        meta.KEY_STD: "1.0,1.0,1.0",
        meta.KEY_OUTPUT_INDEX: "0",
        meta.KEY_ACTIVATION: "none",
        meta.KEY_OUTPUT_MEANING: "RGB image in [0,1], N x 3 x H x W, on a white background",
        meta.KEY_TRAINING_DATA: TRAINING_DATA,
        meta.KEY_METRICS: json.dumps(metrics or {}),
        meta.KEY_EXTRA: json.dumps(extra),
    }
    z = torch.randn(4, cfg.latent)
    export_onnx(model.generator, (z,), path, ["z"], ["image"], md)
    diff = parity(model.generator, (z,), path)
    report = {
        "generator": str(path),
        "generator_mb": round(path.stat().st_size / 1e6, 2),
        "parity": diff,
        "sefa_share_top": [round(e, 3) for e in dirs.explained[:8]],
        "steps": ckpt.get("step"),
        "training_minutes": extra["training_minutes_cpu"],
    }
    fig_dir = Path(figures) if figures else Path(ckpt_path).parent / "figures"
    report["figures"] = str(write_gan_figures(path, fig_dir, cfg.latent, dirs))
    report["seconds"] = round(time.time() - t0, 1)
    return report


def write_gan_figures(path: Path, out_dir: Path, latent: int, dirs) -> Path:
    """samples.png (seeds 0-63, N(0, I)), samples-trunc07.png (truncation 0.7), sweep-NN.png and
    sweeps.png (from seeds 1, 2 and 3), all decoded by the exported ONNX file."""
    decode = onnx_decoder(path)
    save_png(tile(decode(prior_z(latent, range(64))), cols=8), out_dir / "samples.png")
    save_png(tile(decode(prior_z(latent, range(64), 0.7)), cols=8), out_dir / "samples-trunc07.png")
    bases = prior_z(latent, [1, 2, 3], 0.7)
    write_sweeps(decode, out_dir, bases, np.asarray(dirs.vectors, np.float32), np.asarray(dirs.sigmas), dirs.explained)
    return out_dir
