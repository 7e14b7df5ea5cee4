"""Latent-space core: exact slider arithmetic, seeds, points, encode/decode, third-party files.

The tiny generator built here "reveals z": its decoder reshapes z (12 values) into a 3 x 2 x 2
image, so the raw output *is* the latent the decoder was called with. Its encoder does the
inverse (image -> mean) with a constant log-variance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core import model_meta as mm
from desktop_app.core.latent.generator import (
    Generator,
    GeneratorError,
    LatentSpace,
    MissingGeneratorMetadata,
    find_generator,
    read_generator_info,
    sample_prior,
    save_frames,
    upscale,
)
from desktop_app.core.latent.points import LatentPoint, interpolate, load_point, save_point

D, SIZE = 12, 2
SIGMAS = [0.5, 1.0, 2.0]


def tiny_directions(k: int = 3, d: int = D) -> np.ndarray:
    return LatentSpace.random(d, k, seed=7).directions


def _save(graph: onnx.GraphProto, path: Path, metadata: dict[str, str] | None) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in (metadata or {}).items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_tiny_generator(folder: Path, name: str = "tiny-gen", metadata: bool = True) -> Path:
    """Write ``name-decoder.onnx`` (+ encoder) into ``folder``; returns the decoder path."""
    folder.mkdir(parents=True, exist_ok=True)
    dirs = tiny_directions()
    extra = {
        "latent_size": D,
        "image_size": [SIZE, SIZE],
        "output_range": [0.0, 1.0],
        "latent_mean": np.linspace(-0.5, 0.5, D).tolist(),
        "directions": dirs.tolist(),
        "sigmas": SIGMAS,
        "explained_variance": [0.5, 0.3, 0.2],
    }
    common = {
        mm.KEY_PRODUCER: mm.PRODUCER,
        mm.KEY_NAME: name,
        mm.KEY_VERSION: "1",
        mm.KEY_INPUT_SIZE: f"{SIZE},{SIZE}",
        mm.KEY_METRICS: json.dumps({"psnr": 99.0}),
    }
    shape = numpy_helper.from_array(np.array([-1, 3, SIZE, SIZE], np.int64), "shape")
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", D])
    img = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])
    dec = helper.make_graph([helper.make_node("Reshape", ["z", "shape"], ["image"])], "dec", [z], [img], [shape])
    dec_meta = {
        **common,
        mm.KEY_KIND: mm.KIND_GENERATOR_DECODER,
        mm.KEY_EXTRA: json.dumps({**extra, "encoder": f"{name}-encoder.onnx"}),
    }
    path = _save(dec, folder / f"{name}-decoder.onnx", dec_meta if metadata else None)
    flat = numpy_helper.from_array(np.array([-1, D], np.int64), "flat")
    minus_one = numpy_helper.from_array(np.array(-1.0, np.float32), "minus_one")
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])
    mean = helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["N", D])
    logvar = helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["N", D])
    nodes = [
        helper.make_node("Reshape", ["image", "flat"], ["mean"]),
        helper.make_node("Mul", ["mean", "zero"], ["z0"]),
        helper.make_node("Add", ["z0", "minus_one"], ["logvar"]),
    ]
    enc = helper.make_graph(nodes, "enc", [x], [mean, logvar], [flat, minus_one, zero])
    enc_meta = {
        **common,
        mm.KEY_KIND: mm.KIND_GENERATOR_ENCODER,
        mm.KEY_EXTRA: json.dumps({**extra, "decoder": path.name}),
    }
    _save(enc, folder / f"{name}-encoder.onnx", enc_meta if metadata else None)
    return path


@pytest.fixture
def gen(tmp_path: Path) -> Generator:
    return Generator(make_tiny_generator(tmp_path))


def test_metadata_is_read(gen: Generator) -> None:
    info = gen.info
    assert (info.latent_size, info.space.count, info.image_size) == (D, 3, (SIZE, SIZE))
    assert info.encoder_path is not None and gen.has_encoder
    assert info.metrics == {"psnr": 99.0}
    np.testing.assert_allclose(info.space.sigmas, SIGMAS)
    np.testing.assert_allclose(info.space.directions @ info.space.directions.T, np.eye(3), atol=1e-12)


@pytest.mark.parametrize(("k", "v"), [(0, 1.0), (1, -2.5), (2, 3.0)])
def test_slider_moves_decoder_input_by_v_sigma_d(gen: Generator, k: int, v: float) -> None:
    space = gen.info.space
    z0 = sample_prior(D, seed=3)
    values = np.zeros(space.count)
    values[k] = v
    z = space.move(z0, values)
    expected = z0 + v * space.sigmas[k] * space.directions[k]
    np.testing.assert_array_equal(z, expected)
    out = gen.decode_float(z)  # the tiny decoder's output is its input
    np.testing.assert_array_equal(out.reshape(-1), expected.astype(np.float32))


def test_sliders_add_up_and_zero_is_identity(gen: Generator) -> None:
    space = gen.info.space
    z0 = sample_prior(D, seed=1)
    np.testing.assert_array_equal(space.move(z0, np.zeros(3)), z0)
    both = space.move(z0, np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(both, z0 + space.sigmas[0] * space.directions[0] - space.sigmas[2] * space.directions[2])


def test_seeds_reproduce_and_temperature_scales() -> None:
    np.testing.assert_array_equal(sample_prior(D, 42), sample_prior(D, 42))
    assert not np.array_equal(sample_prior(D, 42), sample_prior(D, 43))
    np.testing.assert_allclose(sample_prior(D, 5, temperature=0.5), 0.5 * sample_prior(D, 5))


def test_point_json_round_trip(gen: Generator, tmp_path: Path) -> None:
    point = LatentPoint(sample_prior(D, 9), np.array([0.25, -1.0, 2.0]), seed=9, temperature=0.8)
    path = save_point(tmp_path / "p.json", point, gen.info)
    back = load_point(path, gen.info)
    np.testing.assert_array_equal(back.base, point.base)
    np.testing.assert_array_equal(back.values, point.values)
    np.testing.assert_array_equal(back.z(gen.info.space), point.z(gen.info.space))
    assert (back.seed, back.temperature) == (9, 0.8)


def test_point_of_another_size_is_refused(gen: Generator, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "seed-studio-latent/1", "z": [0.0] * 5}))
    with pytest.raises(GeneratorError, match="5 latent values"):
        load_point(bad, gen.info)
    bad.write_text("{not json")
    with pytest.raises(GeneratorError, match="not a latent point"):
        load_point(bad, gen.info)


def test_encode_then_decode(gen: Generator) -> None:
    rgba = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    mean, logvar = gen.encode(rgba)
    assert mean.shape == logvar.shape == (D,)
    np.testing.assert_allclose(logvar, -1.0)
    np.testing.assert_array_equal(gen.decode(mean), rgba[..., :3])  # this pair is lossless


def test_transparent_pixels_encode_as_white(gen: Generator) -> None:
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    mean, _ = gen.encode(rgba)
    np.testing.assert_allclose(mean, 1.0)


def test_interpolation_endpoints_and_norm() -> None:
    a, b = sample_prior(64, 1), sample_prior(64, 2)
    path = interpolate(a, b, 9)
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    mid = np.linalg.norm(path[4])
    assert mid > np.linalg.norm((a + b) / 2) * 1.2  # slerp keeps a typical norm


def test_missing_metadata_offers_random_directions(tmp_path: Path) -> None:
    path = make_tiny_generator(tmp_path, "plain", metadata=False)
    with pytest.raises(MissingGeneratorMetadata, match="random orthonormal") as exc:
        read_generator_info(path)
    assert exc.value.vector_size == D
    g = Generator(path, random_directions=4)
    assert g.info.space.synthetic and g.info.space.count == 4 and g.info.image_size == (SIZE, SIZE)
    np.testing.assert_allclose(g.info.space.directions @ g.info.space.directions.T, np.eye(4), atol=1e-12)


def test_image_model_without_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain" / "plain-encoder.onnx"
    make_tiny_generator(tmp_path / "plain", "plain", metadata=False)
    with pytest.raises(MissingGeneratorMetadata, match="not a single latent vector") as exc:
        read_generator_info(path)
    assert exc.value.vector_size is None


def test_encoder_file_leads_to_its_decoder(tmp_path: Path) -> None:
    dec = make_tiny_generator(tmp_path)
    assert read_generator_info(tmp_path / "tiny-gen-encoder.onnx").path == dec
    assert find_generator(tmp_path / "tiny-gen") == dec


def test_frames_and_upscale(tmp_path: Path) -> None:
    frames = [np.full((4, 4, 3), i * 40, np.uint8) for i in range(5)]
    assert upscale(frames[1], 3).shape == (12, 12, 3)
    pngs = save_frames(frames, tmp_path / "frames")
    assert [p.name for p in pngs][:2] == ["frame-000.png", "frame-001.png"]
    from PIL import Image

    for suffix in (".gif", ".webp"):
        (anim,) = save_frames(frames, tmp_path / f"anim{suffix}", fps=10, factor=2)
        with Image.open(anim) as im:
            assert im.n_frames == 5 and im.size == (8, 8)


def test_cut_out_frames_the_subject() -> None:
    from desktop_app.core.latent.generator import cut_out

    rgb = np.zeros((100, 200, 3), np.uint8)
    mask = np.zeros((100, 200), np.uint8)
    mask[40:60, 100:150] = 255
    rgba = cut_out(rgb, mask, margin=0.1)
    assert rgba.shape == (20 + 10, 50 + 10, 4) and rgba[..., 3].max() == 255
    with pytest.raises(GeneratorError, match="empty"):
        cut_out(rgb, np.zeros_like(mask))


def test_sampling_from_the_data_fit() -> None:
    space = LatentSpace.random(D, 3, seed=1)
    fit_d = LatentSpace.random(D, D, seed=2).directions
    fit_s = np.linspace(3.0, 0.1, D)
    fitted = LatentSpace(np.full(D, 0.5), space.directions, space.sigmas, fit_directions=fit_d, fit_sigmas=fit_s)
    eps = sample_prior(D, 4, 0.8)
    np.testing.assert_allclose(fitted.sample(4, 0.8), 0.5 + (eps * fit_s) @ fit_d)
    np.testing.assert_array_equal(fitted.sample(4, 0.8, fitted=False), eps)
    np.testing.assert_array_equal(space.sample(4, 0.8), eps)  # no fit in the file: the prior
