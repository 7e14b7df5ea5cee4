"""The ImageNet-pretrained EfficientNet-Lite0 encoder: the published weights load exactly and
are real, and the segmentation network built on it trains the way fine-tuning should."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from training.export import export_onnx
from training.models.efficientnet_lite import (
    HEAD_KEYS,
    EfficientNetLite0,
    LiteEncoder,
    load_pretrained_encoder,
    pretrained_state_dict,
)
from training.models.segnet import PRESETS, SegNet

from .conftest import REPO

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
DOMESTIC_CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_published_weights_load_with_no_missing_or_unexpected_key():
    state = pretrained_state_dict()
    result = EfficientNetLite0().load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    encoder_keys = set(LiteEncoder().state_dict())
    assert encoder_keys == {k for k in state if not k.startswith(HEAD_KEYS)}


def test_the_weights_are_imagenet_weights_a_cat_photo_is_a_cat():
    classifier = EfficientNetLite0()
    classifier.load_state_dict(pretrained_state_dict())
    photo = Image.open(REPO / "assets" / "samples" / "chelsea.png").convert("RGB").resize((224, 224))
    x = torch.tensor(np.asarray(photo), dtype=torch.float32).permute(2, 0, 1) / 255.0
    with torch.no_grad():
        probs = classifier.eval()(((x - IMAGENET_MEAN) / IMAGENET_STD)[None]).softmax(-1)[0]
    assert int(probs.argmax()) in DOMESTIC_CATS
    assert float(probs[list(DOMESTIC_CATS)].sum()) > 0.8
    # the same net with random weights is not a cat detector: the check can fail
    with torch.no_grad():
        random_probs = EfficientNetLite0().eval()(((x - IMAGENET_MEAN) / IMAGENET_STD)[None]).softmax(-1)[0]
    assert float(random_probs[list(DOMESTIC_CATS)].sum()) < 0.1


def test_encoder_gives_five_strides_and_extra_inputs_start_silent():
    torch.manual_seed(0)
    rgb_only = LiteEncoder()
    load_pretrained_encoder(rgb_only)
    with_clicks = LiteEncoder(extra_in_channels=3)
    load_pretrained_encoder(with_clicks)  # the Conv1S branch is the only tensor left at its init
    x = torch.rand(2, 3, 64, 96)
    guidance = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        feats = rgb_only.eval()(x)
        feats_clicks = with_clicks.eval()(torch.cat([x, guidance], dim=1))
    assert [f.shape[1] for f in feats] == list(LiteEncoder.channels)
    assert [f.shape[-2:] for f in feats] == [(64 // s, 96 // s) for s in (2, 4, 8, 16, 32)]
    for a, b in zip(feats, feats_clicks, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_frozen_batchnorm_keeps_imagenet_statistics_while_deeper_ones_adapt():
    model = SegNet(PRESETS["lite0"])
    load_pretrained_encoder(model.encoder)
    frozen = model.encoder.batchnorms_of_first_units(PRESETS["lite0"].freeze_bn_stages)
    assert model.encoder._bn0 in frozen and model.encoder._blocks[-1]._bn2 not in frozen
    before_frozen = [n.running_mean.clone() for n in frozen]
    before_deep = model.encoder._blocks[-1]._bn2.running_mean.clone()
    model.train()
    model(torch.rand(2, 3, 64, 64) * 3)
    for norm, before in zip(frozen, before_frozen, strict=True):
        assert not norm.training
        assert torch.equal(norm.running_mean, before)
    assert not torch.equal(model.encoder._blocks[-1]._bn2.running_mean, before_deep)


def test_encoder_learns_at_a_scaled_rate_and_the_decoder_at_full_rate(tiny_dataset, cache_dir, tmp_path):
    from training.__main__ import main as training_main
    from training.trainer import load_checkpoint

    out = tmp_path / "run"
    args = ["seg", "train", "--data", str(tiny_dataset), "--val", str(tiny_dataset), "--out", str(out)]
    args += ["--preset", "lite0", "--schedule", "64:1", "--batch-size", "4", "--lr", "1e-3"]
    args += ["--encoder-lr-scale", "0.25", "--warmup", "1", "--max-steps", "2", "--workers", "0", "--threads", "1"]
    assert training_main(args) == 0
    ckpt = load_checkpoint(out / "last.pt")
    groups = ckpt["optimizer"]["param_groups"]
    assert [g["lr_scale"] for g in groups] == [0.25, 1.0]
    assert groups[0]["lr"] == pytest.approx(groups[1]["lr"] * 0.25)
    assert ckpt["model_config"]["encoder"] == "lite0"
    # the stem moved away from ImageNet (it trains), but only a little (it started there)
    stem_now = ckpt["model"]["encoder._conv_stem.weight"]
    stem_imagenet = pretrained_state_dict()["_conv_stem.weight"]
    assert 0 < float((stem_now - stem_imagenet).abs().max()) < 0.05


def test_lite0_network_exports_with_free_height_and_width(tmp_path):
    torch.manual_seed(0)
    model = SegNet(PRESETS["lite0"]).eval()
    load_pretrained_encoder(model.encoder)
    path = export_onnx(
        model, (torch.rand(1, 3, 64, 96),), tmp_path / "l.onnx", ["image"], ["alpha"], {}, dynamic_hw=True
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in [(1, 3, 64, 96), (2, 3, 96, 64), (1, 3, 128, 128)]:
        x = torch.rand(*shape)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"image": x.numpy()})[0]
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-4


def test_click_model_on_the_pretrained_encoder_starts_as_the_segmentation_model():
    """Conv1S: the click planes enter through zero-initialised weights, so a click model
    initialised from a lite0 segmentation network predicts exactly what it did, until the
    click branch learns; and the branch does take part once its weights move."""
    from training.models.clicknet import ClickNet, click_config, init_from_segnet

    torch.manual_seed(0)
    seg = SegNet(PRESETS["lite0"]).eval()
    load_pretrained_encoder(seg.encoder)
    for p in seg.parameters():  # a "trained" decoder, not the default init
        p.data.add_(torch.randn_like(p) * 0.01)
    clicks = ClickNet(click_config(PRESETS["lite0"])).eval()
    assert init_from_segnet(clicks, seg.state_dict()) > 100
    x = torch.rand(1, 3, 64, 96)
    guidance = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(clicks(x, guidance), seg(x), rtol=0, atol=1e-6)
        clicks.net.encoder.extra_stem.weight.add_(torch.randn_like(clicks.net.encoder.extra_stem.weight))
        assert (clicks(x, guidance) - seg(x)).abs().max() > 1e-3
    groups = clicks.net.optimizer_groups(0.3)
    extra = {id(p) for p in clicks.net.encoder.extra_stem.parameters()}
    assert groups[0]["lr_scale"] == 0.3 and not extra & {id(p) for p in groups[0]["params"]}
    groups = clicks.net.optimizer_groups(0.3, guidance_lr_scale=10.0)
    assert [g["lr_scale"] for g in groups] == [0.3, 1.0, 10.0]
    assert {id(p) for p in groups[2]["params"]} == extra
    assert sum(len(g["params"]) for g in groups) == len(list(clicks.net.parameters()))
