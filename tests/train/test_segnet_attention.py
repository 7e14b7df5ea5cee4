"""The global-attention blocks of SeedNet: a warm start loses nothing, and the file exports."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnxruntime as ort
import pytest
import torch

from training.export import export_onnx
from training.models.blocks import GlobalAttention
from training.models.segnet import PRESETS, SegNet, SegNetConfig
from training.seg.train import init_from


def _with_attention(base: SegNetConfig, blocks: tuple[int, ...] = (0, 0, 1, 1)) -> SegNetConfig:
    return dataclasses.replace(base, attention=blocks)


def _perturb_attention(model: SegNet, scale: float = 0.2) -> None:
    """Stand-in for training: move the zero-initialised projections off zero."""
    gen = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, GlobalAttention):
            for p in module.parameters():
                p.data.add_(torch.randn(p.shape, generator=gen) * scale)


@pytest.mark.parametrize(("before", "after"), [((0, 0, 0, 0), (0, 0, 1, 1)), ((0, 0, 1, 1), (0, 0, 1, 3))])
def test_attention_blocks_start_as_identity_so_a_warm_start_is_exact(tmp_path, before, after):
    torch.manual_seed(0)
    plain = SegNet(_with_attention(PRESETS["xs"], before)).eval()
    for p in plain.parameters():  # a "trained" network, not the default init
        p.data.add_(torch.randn_like(p) * 0.05)
    ckpt = tmp_path / "plain.pt"
    torch.save({"model": plain.state_dict()}, ckpt)

    wider = SegNet(_with_attention(PRESETS["xs"], after)).eval()
    assert sum(isinstance(m, GlobalAttention) for m in wider.modules()) == sum(after)
    init_from(wider, str(ckpt))
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(wider(x), plain(x), rtol=0, atol=1e-6)
        _perturb_attention(wider)
        moved = wider.forward_logits(x)[0] - plain.forward_logits(x)[0]
        assert moved.abs().max() > 1e-4  # 100x the identity tolerance: the blocks take part once trained


def test_config_with_attention_round_trips_through_a_checkpoint_dict():
    config = PRESETS["m-attn"]
    assert config.attention == (0, 0, 1, 1)
    again = SegNetConfig.from_dict(config.to_dict())
    assert again == config and isinstance(again.attention, tuple)
    assert PRESETS["m-attn32"].attention == (0, 0, 1, 3)
    assert SegNetConfig.from_dict({k: v for k, v in PRESETS["m"].to_dict().items() if k != "attention"}).attention == ()


def test_attention_exports_with_free_height_and_width(tmp_path):
    torch.manual_seed(0)
    model = SegNet(_with_attention(PRESETS["xs"])).eval()
    _perturb_attention(model)
    path = export_onnx(
        model, (torch.rand(1, 3, 64, 96),), tmp_path / "a.onnx", ["image"], ["alpha"], {}, dynamic_hw=True
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 64, 96), (2, 3, 96, 64), (1, 3, 128, 128)]:  # the tokens follow the photo's shape
        x = torch.rand(*shape)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"image": x.numpy()})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-4
