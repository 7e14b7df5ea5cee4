"""SeedNet: a small encoder-decoder for background removal, built for CPU inference.

Encoder: MobileNetV2-style inverted residual stages (strides 2..32) with a pyramid-pooling
context head. Decoder: FPN-like top-down path of separable convs with a side output at every
scale (deep supervision, as in U²-Net/BASNet). Optional global-attention blocks
(``attention``, preset ``m-attn``) let the coarse stages weigh the whole scene. A light
refinement head at full resolution sees the photo again, so edges follow the image rather
than the upsampled coarse mask.
The same network with ``in_channels=6`` is the click model (photo + 2 click maps + prev mask).

``encoder="lite0"`` swaps the from-scratch encoder for ImageNet-pretrained EfficientNet-Lite0
(``efficientnet_lite``): the decoder is unchanged, fed by the pretrained maps at the same
strides; ``context_attention`` adds global-attention blocks on the decoder-width context map
at stride 32, and ``freeze_bn_stages`` keeps the BatchNorm statistics of the first encoder
stages at their ImageNet values (small batches of one dataset would otherwise drag them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import GlobalAttention, InvertedResidual, PyramidPool, SeparableConv, conv_bn_act
from .efficientnet_lite import LiteEncoder


@dataclass
class SegNetConfig:
    in_channels: int = 3
    stem: int = 16
    widths: tuple[int, ...] = (24, 40, 80, 128)  # strides 4, 8, 16, 32
    depths: tuple[int, ...] = (2, 3, 3, 3)
    kernels: tuple[int, ...] = (3, 3, 5, 5)
    expand: int = 4
    decoder: int = 40
    refine: int = 12
    attention: tuple[int, ...] = ()  # transformer blocks appended to each stage (0 = none)
    attn_heads: int = 4
    attn_mlp: float = 1.5
    encoder: str = "seednet"  # or "lite0": ImageNet-pretrained EfficientNet-Lite0
    context_attention: int = 0  # attention blocks on the context map (lite0 encoder)
    freeze_bn_stages: int = 0  # lite0: BatchNorm statistics of stem + first N-1 stages stay fixed
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> SegNetConfig:
        d = dict(d)
        for key in ("widths", "depths", "kernels", "attention"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS = {
    "xs": SegNetConfig(widths=(16, 32, 64, 96), depths=(1, 2, 2, 2), decoder=32, refine=8),
    "s": SegNetConfig(),
    "m": SegNetConfig(stem=24, widths=(32, 48, 96, 160), depths=(2, 3, 4, 3), decoder=48, refine=16),
}
# SeedNet-m plus one global-attention block at strides 16 and 32 (warm-starts from "m" exactly).
PRESETS["m-attn"] = replace(PRESETS["m"], attention=(0, 0, 1, 1))
# Two more blocks at stride 32, where whole-scene decisions are made and a 352x512 photo has only
# 176 positions (the pair costs ~3-5 ms; warm-starts from "m-attn" exactly). 1.59 M parameters:
# over 5 MB in fp32, so it ships with float16 weight storage (``seg export --fp16-weights``).
PRESETS["m-attn32"] = replace(PRESETS["m"], attention=(0, 0, 1, 3))
# ImageNet-pretrained EfficientNet-Lite0 encoder (strides 2..32: 16/24/40/112/320 channels),
# the same FPN decoder at 64 channels, one attention block on the stride-32 context map.
PRESETS["lite0"] = SegNetConfig(
    encoder="lite0", widths=(24, 40, 112, 320), decoder=64, refine=16, context_attention=1, freeze_bn_stages=2
)


class SegNet(nn.Module):
    def __init__(self, config: SegNetConfig):
        super().__init__()
        self.config = c = config
        if c.encoder == "lite0":
            self.encoder = LiteEncoder(extra_in_channels=c.in_channels - 3)
            skips, deepest = LiteEncoder.channels[:-1], LiteEncoder.channels[-1]
        elif c.encoder == "seednet":
            self._build_seednet_encoder(c)
            skips, deepest = (c.stem, *c.widths[:-1]), c.widths[-1]  # strides 2, 4, 8, 16
        else:
            raise ValueError(f"unknown encoder {c.encoder!r} (seednet or lite0)")
        self.context = PyramidPool(deepest, c.decoder)
        self.context_attention = nn.Sequential(
            *(GlobalAttention(c.decoder, c.attn_heads, c.attn_mlp) for _ in range(c.context_attention))
        )
        self.laterals = nn.ModuleList(conv_bn_act(s, c.decoder, 1) for s in skips)
        self.fuses = nn.ModuleList(SeparableConv(c.decoder, c.decoder) for _ in skips)
        self.sides = nn.ModuleList(nn.Conv2d(c.decoder, 1, 1) for _ in range(len(skips) + 1))
        self.refine = nn.Sequential(
            conv_bn_act(c.in_channels + 1, c.refine, 3),
            conv_bn_act(c.refine, c.refine, 3),
            nn.Conv2d(c.refine, 1, 3, padding=1),
        )

    def _build_seednet_encoder(self, c: SegNetConfig) -> None:
        """The from-scratch MobileNetV2-style encoder (module names kept for old checkpoints)."""
        self.stem = conv_bn_act(c.in_channels, c.stem, 3, stride=2)
        stages, cin = [], c.stem
        attention = c.attention or (0,) * len(c.widths)
        for width, depth, k, n_attn in zip(c.widths, c.depths, c.kernels, attention, strict=True):
            blocks = [InvertedResidual(cin, width, 2, c.expand, k)]
            blocks += [InvertedResidual(width, width, 1, c.expand, k) for _ in range(depth - 1)]
            blocks += [GlobalAttention(width, c.attn_heads, c.attn_mlp) for _ in range(n_attn)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.ModuleList(stages)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32."""
        if self.config.encoder == "lite0":
            return self.encoder(x)
        feats = [self.stem(x)]
        for stage in self.stages:
            feats.append(stage(feats[-1]))
        return feats

    def train(self, mode: bool = True) -> SegNet:
        """As ``nn.Module.train``, but BatchNorm layers of frozen encoder stages stay in eval
        mode, so their running statistics keep the ImageNet values."""
        super().train(mode)
        if mode and self.config.encoder == "lite0" and self.config.freeze_bn_stages:
            for norm in self.encoder.batchnorms_of_first_units(self.config.freeze_bn_stages):
                norm.eval()
        return self

    def optimizer_groups(self, encoder_lr_scale: float, guidance_lr_scale: float = 1.0) -> list[dict]:
        """Parameter groups with an ``lr_scale``: the pretrained encoder learns slower.

        The click model's guidance branch (``encoder.extra_stem``, zero-initialised) can get
        its own, larger scale: at the decoder's learning rate one epoch moved its weights only
        to ~0.016 (the RGB stem's are ~0.45), so clicks barely reached the encoder and a
        second click hardly changed the mask (Berkeley IoU@3 0.71 after IoU@1 0.68).
        """
        if self.config.encoder != "lite0" or (encoder_lr_scale == 1.0 and guidance_lr_scale == 1.0):
            return [{"params": list(self.parameters()), "lr_scale": 1.0}]
        pretrained, guidance, fresh = [], [], []
        for name, p in self.named_parameters():
            if name.startswith("encoder.extra_stem"):
                guidance.append(p)
            elif name.startswith("encoder."):
                pretrained.append(p)
            else:
                fresh.append(p)
        groups = [{"params": pretrained, "lr_scale": encoder_lr_scale}, {"params": fresh, "lr_scale": 1.0}]
        if guidance:
            groups.append({"params": guidance, "lr_scale": guidance_lr_scale})
        return groups

    def forward_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits at input size: [refined, finest side, ..., coarsest side]."""
        size = x.shape[-2:]
        feats = self.encode(x)
        d = self.context_attention(self.context(feats[-1]))
        sides = [self.sides[-1](d)]
        for i in range(len(self.laterals) - 1, -1, -1):
            skip = self.laterals[i](feats[i])
            d = F.interpolate(d, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            d = self.fuses[i](d + skip)
            sides.append(self.sides[i](d))
        sides = [F.interpolate(s, size=size, mode="bilinear", align_corners=False) for s in sides]
        coarse = sides[-1]
        refined = coarse + self.refine(torch.cat([x, coarse], dim=1))
        return [refined, *reversed(sides)]

    def forward(self, x: torch.Tensor, all_logits: bool = False):
        """Foreground probability (N,1,H,W), what the exported ONNX file outputs; with
        ``all_logits`` the list of logits for deep supervision (goes through DDP's forward)."""
        logits = self.forward_logits(x)
        return logits if all_logits else torch.sigmoid(logits[0])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
