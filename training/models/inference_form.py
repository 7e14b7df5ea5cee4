"""Exact rewrites of a trained network into a form onnxruntime runs faster on a CPU.

:func:`training.export.export_onnx` writes every file from :func:`for_inference`'s copy; the
exporters check the file against the *original* PyTorch model, so a rewrite that changed the
function would fail the parity check rather than ship.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class DepthwiseThenSum(nn.Module):
    """A k x k convolution to ONE output channel, as a depthwise k x k conv plus a 1 x 1 sum.

    Why: onnxruntime's blocked-layout (NCHWc) convolution pads the output channels to a block
    of 8, so a 16 -> 1 3x3 conv at full resolution (the refine head's last layer) costs as much
    as a 16 -> 8 one and ran at ~3 GFLOP/s: 9.3 ms of an 86 ms network at 352x512 on one AVX2
    thread. Depthwise kernels are blocked per channel and a 1x1 sum is a small GEMM, so the
    same arithmetic takes about a third of the time (measured on this layer's shape).
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if conv.out_channels != 1 or conv.groups != 1:
            raise ValueError("only a dense convolution to one channel can be factored")
        cin = conv.in_channels
        self.depthwise = nn.Conv2d(
            cin,
            cin,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            groups=cin,
            bias=False,
            padding_mode=conv.padding_mode,
        )
        self.sum = nn.Conv2d(cin, 1, 1, bias=conv.bias is not None)
        with torch.no_grad():
            self.depthwise.weight.copy_(conv.weight.reshape(cin, 1, *conv.kernel_size))
            self.sum.weight.fill_(1.0)
            if conv.bias is not None:
                self.sum.bias.copy_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sum(self.depthwise(x))


def _worth_factoring(m: nn.Module) -> bool:
    return (
        isinstance(m, nn.Conv2d)
        and m.out_channels == 1
        and m.groups == 1
        and m.in_channels > 1
        and max(m.kernel_size) > 1
    )


def for_inference(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (eval mode) with every dense k x k (k > 1) conv to one channel
    factored by :class:`DepthwiseThenSum`; the original is untouched."""
    fast = copy.deepcopy(model).eval()
    for parent in list(fast.modules()):
        for name, child in list(parent.named_children()):
            if _worth_factoring(child):
                setattr(parent, name, DepthwiseThenSum(child))
    return fast
