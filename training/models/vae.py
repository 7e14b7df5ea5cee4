"""A small convolutional VAE for 64x64 RGB images, sized for live decoding on a CPU.

Design choices, and why:
- Encoder and decoder are plain residual CNNs (conv-BN-SiLU). BatchNorm folds into the
  convolutions at ONNX export, so the decoder costs only its convolutions at run time; the
  sliders need a frame in a few milliseconds.
- The decoder upsamples with nearest-neighbour + 3x3 convolution rather than transposed
  convolutions, which avoids checkerboard artefacts (Odena et al., 2016).
- The latent is a flat vector (not a spatial map): directions found by PCA then act on the
  whole image (pose, colour, "face vs flag"), which is what sliders are for.
- The output ends in a sigmoid, so the exported decoder returns an image in [0, 1] directly.
- The log-variance is clamped so a bad batch cannot produce inf/NaN in the KL term.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch
from torch import nn

from .config_dict import DictConfig

LOGVAR_RANGE = (-12.0, 6.0)


@dataclass
class VAEConfig(DictConfig):
    latent: int = 64
    size: int = 64
    widths: tuple[int, ...] = (32, 64, 128, 256)  # at size/2, size/4, size/8, size/16
    out_width: int = 24  # channels of the last (full-resolution) stage of the decoder
    blocks: int = 1  # residual blocks per stage


PRESETS: dict[str, VAEConfig] = {
    "tiny": VAEConfig(latent=16, widths=(8, 16, 16, 32), out_width=8, blocks=0),  # tests only
    "xs": VAEConfig(latent=64, widths=(16, 32, 64, 128), out_width=12, blocks=1),  # shared-CPU budget
    "s": VAEConfig(latent=64, widths=(32, 48, 96, 192), out_width=16, blocks=1),
    "m": VAEConfig(latent=64, widths=(32, 64, 128, 256), out_width=24, blocks=1),
    "l": VAEConfig(latent=96, widths=(48, 96, 192, 256), out_width=32, blocks=2),
}


def conv_bn(cin: int, cout: int, stride: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.SiLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(conv_bn(ch, ch), conv_bn(ch, ch, act=False))
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


def _stage(ch: int, blocks: int) -> list[nn.Module]:
    return [ResBlock(ch) for _ in range(blocks)]


class Encoder(nn.Module):
    """Image in [0, 1] (N x 3 x S x S) -> (mean, log-variance), each N x latent."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        w = cfg.widths
        layers: list[nn.Module] = [conv_bn(3, w[0], stride=2), *_stage(w[0], cfg.blocks)]
        for cin, cout in itertools.pairwise(w):
            layers += [conv_bn(cin, cout, stride=2), *_stage(cout, cfg.blocks)]
        self.features = nn.Sequential(*layers)
        self.cells = cfg.size // 2 ** len(w)
        self.head = nn.Linear(w[-1] * self.cells * self.cells, 2 * cfg.latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x * 2.0 - 1.0).flatten(1)
        mean, logvar = self.head(h).float().chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)


class Decoder(nn.Module):
    """Latent (N x latent) -> image in [0, 1] (N x 3 x S x S)."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        w = list(reversed(cfg.widths))
        self.cells, self.width0 = cfg.size // 2 ** len(w), w[0]
        self.fc = nn.Linear(cfg.latent, w[0] * self.cells * self.cells)
        layers: list[nn.Module] = [nn.SiLU(inplace=True), *_stage(w[0], cfg.blocks)]
        for cin, cout in zip(w, [*w[1:], cfg.out_width], strict=True):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), conv_bn(cin, cout)]
            if cout != cfg.out_width:
                layers += _stage(cout, cfg.blocks)
        layers.append(nn.Conv2d(cfg.out_width, 3, 3, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.width0, self.cells, self.cells)
        return torch.sigmoid(self.body(h).float())


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig | None = None):
        super().__init__()
        self.cfg = cfg or VAEConfig()
        if self.cfg.size % 2 ** len(self.cfg.widths):
            raise ValueError(f"size {self.cfg.size} is not divisible by 2^{len(self.cfg.widths)}")
        self.encoder, self.decoder = Encoder(self.cfg), Decoder(self.cfg)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction, mean, log-variance); samples z in training mode, uses the mean in eval."""
        mean, logvar = self.encoder(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp() if self.training else mean
        return self.decoder(z), mean, logvar


@dataclass
class Directions:
    """PCA of posterior means: ``z = mean + sum_k v_k * sigmas[k] * vectors[k]``."""

    mean: list[float]
    vectors: list[list[float]]  # K x latent, unit length, orthogonal
    sigmas: list[float]  # standard deviation of the data along each vector
    explained: list[float] = field(default_factory=list)  # fraction of total variance


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
