"""Third-party segmentation files under any name: the convention comes from the graph's output
signature, or from a probe run when the signature is unknown (tiny synthetic graphs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.models import load_spec
from desktop_app.core.segment import Segmenter
from tests.helpers.tiny_models import make_signature_model


@pytest.mark.parametrize(
    ("name", "size", "maps", "features", "probability", "family", "source"),
    [
        # rembg's IS-Net as downloaded from a hub: six side outputs + six feature maps, the
        # side outputs leaving through an Identity (the old "ends in Sigmoid" rule said BiRefNet)
        ("model.onnx", 1024, 6, 6, True, "isnet", "signature"),
        ("acme-cutout-v2.onnx", 1024, 6, 6, True, "isnet", "signature"),  # a vendor's own name
        ("model.onnx", 1024, 1, 0, False, "birefnet", "signature"),  # one logits map
        ("weights.onnx", 320, 7, 0, True, "u2net", "signature"),  # U2-Net's d0..d6
        ("export.onnx", 1024, 2, 0, True, "isnet", "probe"),  # unknown signature, probabilities
        ("export.onnx", 1024, 2, 0, False, "birefnet", "probe"),  # unknown signature, logits
    ],
)
def test_family_from_signature_or_probe(
    tmp_path: Path, name: str, size: int, maps: int, features: int, probability: bool, family: str, source: str
) -> None:
    path = make_signature_model(tmp_path / name, size, maps, features, probability, identity_after=True)
    spec = load_spec(path)
    assert (spec.convention, spec.source) == (family, source)
    assert spec.output_index == 0 and spec.input_size == (size, size)
    assert spec.activation == ("sigmoid" if family == "birefnet" else "none")


def test_renamed_isnet_file_gives_the_same_mask_as_under_its_rembg_name(tmp_path: Path) -> None:
    """The bug behind the signature rule: a renamed IS-Net file was run as BiRefNet (a second
    sigmoid and no min-max stretch), so its masks were wrong."""
    named = make_signature_model(tmp_path / "isnet-general-use.onnx", 1024, 6, 6, identity_after=True)
    renamed = tmp_path / "model.onnx"
    renamed.write_bytes(named.read_bytes())
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[30:90, 40:120] = (230, 40, 40)  # a red subject on black
    a = Segmenter(named).predict(rgb)
    b = Segmenter(renamed).predict(rgb)
    assert load_spec(named).source == "filename" and load_spec(renamed).source == "signature"
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a[60, 80] > 0.9 and a[5, 5] < 0.1
