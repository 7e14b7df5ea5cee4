"""Finishing a trained GAN generator before export: checkpoint averaging, standing statistics.

Both are cheap (seconds, no gradient) and both fix something the EMA alone leaves behind:

- **Averaging the EMA weights of several checkpoints of one run** (a "model soup" along the
  trajectory; the segmentation model shipped one in session 13). A GAN's generator circles
  around a good point rather than settling on it; the average of two snapshots sits nearer that
  point than either.
- **Standing statistics** (Brock et al. 2019, BigGAN, sec. 3 / appendix): the generator's
  BatchNorm layers ran on *batch* statistics in every training step, and the critic judged those
  images; the exported file uses the *running* statistics, which are an average of the raw
  generator's batch statistics, averaged again by the EMA, for weights that are not the EMA
  weights. After averaging weights the mismatch is larger still. Re-estimating every
  BatchNorm's mean and variance as the mean of the batch statistics the *final* weights produce
  on prior draws, at the training batch size, makes the file draw what training looked at.
"""

from __future__ import annotations

import torch
from torch import nn


def average_ema_weights(ckpts: list[dict]) -> dict[str, torch.Tensor]:
    """The mean of the checkpoints' floating-point EMA tensors (same GAN config required);
    integer buffers (BatchNorm's batch counters) are taken from the first checkpoint."""
    if not ckpts:
        raise ValueError("no checkpoint to average")
    config = ckpts[0]["model_config"]
    for ck in ckpts[1:]:
        if ck.get("model_kind") != "gan" or ck["model_config"] != config:
            raise ValueError(f"can only average checkpoints of the same GAN (step {ck.get('step')} differs)")
    states = [ck["ema"] for ck in ckpts]
    return {
        key: sum(s[key].float() for s in states) / len(states) if first.dtype.is_floating_point else first
        for key, first in states[0].items()
    }


@torch.no_grad()
def standing_statistics(generator: nn.Module, latent: int, batches: int, batch_size: int, seed: int = 0) -> int:
    """Re-estimate every BatchNorm's running mean/var as the plain mean of the batch statistics
    over ``batches`` draws of ``batch_size`` prior samples z ~ N(0, I); returns the number of
    BatchNorm layers. Weights are untouched; the generator is left in eval mode."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: the plain mean over the batches below
    generator.train()
    rng = torch.Generator().manual_seed(seed)
    try:
        for _ in range(batches):
            generator(torch.randn(batch_size, latent, generator=rng))
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum
        generator.eval()
    return len(norms)
