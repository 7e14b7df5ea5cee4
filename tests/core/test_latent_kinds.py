"""VAEs and GANs side by side in the core: the catalogue, the kind, the natural prior, lookups.

``make_tiny_gan`` writes a GAN file as ``gen export`` does (``NAME-generator.onnx``, kind
``generator-decoder`` with ``generator_kind: gan``, SeFa-style metadata: mean 0, sigma 1, named
directions, no encoder, no data fit). Its network "reveals z" like the tiny VAE's, but scaled
by -1 and shifted by 0.5, so a GAN picture is never the VAE's picture of the same z.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from core.test_generator import SIZE, D, make_tiny_generator, tiny_directions
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core import model_meta as mm
from desktop_app.core.latent.catalog import list_generators
from desktop_app.core.latent.generator import Generator, find_generator, sample_prior

GAN_NAMES = ["smile", "colour"]


def make_tiny_gan(folder: Path, name: str = "tiny-gan") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    extra = {
        "generator_kind": "gan",
        "latent_size": D,
        "image_size": [SIZE, SIZE],
        "output_range": [0.0, 1.0],
        "latent_mean": [0.0] * D,
        "directions": tiny_directions().tolist(),
        "sigmas": [1.0, 1.0, 1.0],
        "explained_variance": [0.6, 0.3, 0.1],
        "direction_source": "SeFa",
        "direction_names": GAN_NAMES,
    }
    shape = numpy_helper.from_array(np.array([-1, 3, SIZE, SIZE], np.int64), "shape")
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", D])
    img = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])
    nodes = [
        helper.make_node("Reshape", ["z", "shape"], ["r"]),
        helper.make_node("Sub", ["half", "r"], ["image"]),
    ]
    graph = helper.make_graph(nodes, "gen", [z], [img], [shape, half])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    md = {
        mm.KEY_PRODUCER: mm.PRODUCER,
        mm.KEY_NAME: name,
        mm.KEY_VERSION: "1",
        mm.KEY_KIND: mm.KIND_GENERATOR_DECODER,
        mm.KEY_INPUT_SIZE: f"{SIZE},{SIZE}",
        mm.KEY_METRICS: json.dumps({}),
        mm.KEY_EXTRA: json.dumps(extra),
    }
    for k, v in md.items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    path = folder / f"{name}-generator.onnx"
    onnx.save(model, str(path))
    return path


def test_catalogue_lists_both_kinds_and_skips_encoders_and_other_models(tmp_path: Path) -> None:
    vae = make_tiny_generator(tmp_path, "emoji-vae")
    gan = make_tiny_gan(tmp_path, "emoji-gan")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    entries = list_generators(sorted(tmp_path.glob("*.onnx")))
    assert [(e.name, e.kind, e.path) for e in entries] == [("emoji-gan", "gan", gan), ("emoji-vae", "vae", vae)]
    assert [e.label for e in entries] == ["emoji-gan (GAN)", "emoji-vae (VAE)"]


def test_gan_info_prior_and_lookup_by_name(tmp_path: Path) -> None:
    path = make_tiny_gan(tmp_path, "emoji-gan")
    assert find_generator(tmp_path / "emoji-gan") == path
    gen = Generator(path)
    info = gen.info
    assert (info.kind, info.kind_label, info.draw_word) == ("gan", "GAN", "truncation")
    assert info.direction_names == tuple(GAN_NAMES) and not gen.has_encoder
    space = info.space
    assert not space.has_fit
    # the natural prior of a GAN is N(0, psi^2 I): truncation scales the same draw toward 0
    np.testing.assert_allclose(space.sample(9, 0.5, True), 0.5 * sample_prior(D, 9))
    z = space.sample(9)
    np.testing.assert_allclose(gen.decode_float(z)[0].ravel(), 0.5 - z, atol=1e-6)
    vae = Generator(make_tiny_generator(tmp_path, "emoji-vae"))
    assert (vae.info.kind, vae.info.draw_word, vae.info.direction_names) == ("vae", "temperature", ())
