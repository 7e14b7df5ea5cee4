"""Building blocks shared by the CPU-friendly networks (MobileNetV2-style, depthwise convs)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_act(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise (kxk) -> project (1x1), residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int = 1, expand: int = 4, k: int = 3, dilation: int = 1):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        pad = dilation * (k // 2)
        self.body = nn.Sequential(
            conv_bn_act(cin, mid, 1),
            nn.Conv2d(mid, mid, k, stride, pad, dilation=dilation, groups=mid, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            conv_bn_act(mid, cout, 1, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_res else y


class SeparableConv(nn.Module):
    """Depthwise kxk + pointwise 1x1: the decoder's workhorse (cheap on CPU)."""

    def __init__(self, cin: int, cout: int, k: int = 3):
        super().__init__()
        self.dw = conv_bn_act(cin, cin, k, groups=cin)
        self.pw = conv_bn_act(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw(self.dw(x))


def _pool_axis(x: torch.Tensor, bins: int, dim: int) -> torch.Tensor:
    """Adaptive average pooling along one axis from a cumulative sum and two gathers.

    Output cell i averages input cells [floor(i*n/bins), ceil((i+1)*n/bins)), exactly as
    PyTorch's adaptive pooling does. Every index is computed from the traced size ``n``, so
    the exported graph works for any input height and width.
    """
    n = x.shape[dim]
    i = torch.arange(bins, device=x.device)
    start = torch.div(i * n, bins, rounding_mode="floor")
    end = -torch.div(-(i + 1) * n, bins, rounding_mode="floor")
    zero = torch.zeros_like(x.narrow(dim, 0, 1))
    cs = torch.cat([zero, torch.cumsum(x, dim)], dim)
    shape = [1] * x.dim()
    shape[dim] = bins
    count = (end - start).to(x.dtype).reshape(shape)
    return (cs.index_select(dim, end) - cs.index_select(dim, start)) / count


def adaptive_avg_pool_cumsum(x: torch.Tensor, bins: int) -> torch.Tensor:
    """``F.adaptive_avg_pool2d`` (same result up to float rounding) in ONNX-exportable form.

    ONNX has no adaptive pooling, and its fixed-kernel pooling cannot follow a dynamic input
    size; the exporter uses this form so one file serves every aspect ratio.
    """
    return _pool_axis(_pool_axis(x, bins, x.dim() - 2), bins, x.dim() - 1)


class PyramidPool(nn.Module):
    """Global context at the coarsest scale (PSPNet-style pooling at 1, 2 and 4 bins).

    Salient-object detection is about what stands out from the whole scene, which a small
    receptive field cannot see; pooling adds that context for a few thousand parameters.
    """

    def __init__(self, cin: int, cout: int, bins: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        branch = max(8, cin // 4)
        self.bins = bins
        self.branches = nn.ModuleList(conv_bn_act(cin, branch, 1) for _ in bins)
        self.fuse = conv_bn_act(cin + branch * len(bins), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        feats = [x]
        exporting = torch.onnx.is_in_onnx_export()
        for bins, branch in zip(self.bins, self.branches, strict=True):
            pooled = adaptive_avg_pool_cumsum(x, bins) if exporting else F.adaptive_avg_pool2d(x, bins)
            pooled = branch(pooled)
            feats.append(F.interpolate(pooled, size=(h, w), mode="bilinear", align_corners=False))
        return self.fuse(torch.cat(feats, dim=1))


class GlobalAttention(nn.Module):
    """A pre-norm transformer block over the pixels of a coarse feature map (MobileViT-style).

    The errors left on SOD are whole regions: the wrong object, half of a frame-filling
    subject, figure and ground swapped. Convolutions only see a neighbourhood and pyramid
    pooling only coarse averages; one attention layer lets every position compare itself with
    every other, which is what "what stands out from this scene" asks. At stride 16 or 32 a
    photo is a few hundred tokens, so it costs little. A depthwise 3x3 conv in front gives the
    tokens their position (conditional positional encoding) and keeps any input size valid.
    The output projections start at zero, so inserting the block into a trained network leaves
    its function unchanged and warm-starting loses nothing.
    """

    def __init__(self, dim: int, heads: int = 4, mlp_ratio: float = 1.5):
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.position = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        for last in (self.proj, self.mlp[-1], self.position):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.position(x)
        n, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # N, HW, C
        q, k, v = self.qkv(self.norm1(tokens)).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, c // self.heads)).transpose(1, 2) for t in (q, k, v))
        mixed = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        tokens = tokens + self.proj(mixed)
        tokens = tokens + self.mlp(self.norm2(tokens))
        return tokens.transpose(1, 2).reshape(n, c, h, w)
