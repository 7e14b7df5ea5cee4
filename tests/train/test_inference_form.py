"""The export-time rewrite of one-channel convolutions: same function, faster form."""

from __future__ import annotations

import onnx
import pytest
import torch
from torch import nn

from training.__main__ import main as training_main
from training.models.inference_form import DepthwiseThenSum, for_inference
from training.models.segnet import PRESETS, SegNet


@pytest.mark.parametrize(("k", "padding", "dilation", "bias"), [(3, 1, 1, True), (5, 2, 1, False), (3, 2, 2, True)])
def test_depthwise_then_sum_computes_the_same_convolution(k, padding, dilation, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 1, k, padding=padding, dilation=dilation, bias=bias)
    x = torch.randn(2, 16, 23, 31)
    with torch.no_grad():
        assert torch.allclose(DepthwiseThenSum(conv)(x), conv(x), atol=1e-5)


def test_only_dense_one_channel_convolutions_can_be_factored():
    with pytest.raises(ValueError, match="one channel"):
        DepthwiseThenSum(nn.Conv2d(16, 2, 3))


def test_for_inference_rewrites_a_copy_and_keeps_the_network_function():
    torch.manual_seed(0)
    model = SegNet(PRESETS["xs"]).eval()
    fast = for_inference(model)
    count = sum(isinstance(m, DepthwiseThenSum) for m in fast.modules())
    assert count == 1  # the refine head's last 3x3 conv; the 1x1 side heads stay
    assert isinstance(model.refine[2], nn.Conv2d)  # the original is untouched
    assert isinstance(fast.refine[2], DepthwiseThenSum)
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        assert torch.allclose(fast(x)[0], model(x)[0], atol=1e-5)


def _one_channel_kxk_convs(path) -> list[str]:
    graph = onnx.load(str(path)).graph
    inits = {i.name: i for i in graph.initializer}
    found = []
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1] not in inits:
            continue
        dims = list(inits[node.input[1]].dims)
        groups = next((a.i for a in node.attribute if a.name == "group"), 1)
        if dims[0] == 1 and groups == 1 and dims[1] > 1 and max(dims[2:]) > 1:
            found.append(node.name)
    return found


def test_the_exported_file_has_no_dense_one_channel_kxk_conv(tiny_dataset, cache_dir, tmp_path):
    from .test_seg_training import _trainer

    _trainer(tiny_dataset, tmp_path / "run", max_steps=2, epochs=1).train()
    out = tmp_path / "seg.onnx"
    code = training_main(
        ["seg", "export", "--ckpt", str(tmp_path / "run" / "last.pt"), "--out", str(out), "--size", "64"]
    )
    assert code == 0  # parity of the rewritten file against the original PyTorch model < 1e-4
    assert _one_channel_kxk_convs(out) == []
