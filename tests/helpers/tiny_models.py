"""Tiny ONNX models with known outputs, built in-process with onnx.helper (no downloads).

Every segmentation builder maps the *normalised* network input ``x`` (N x 3 x H x W) to a map
``z`` that is a simple known function, so a test can recompute the expected alpha in numpy and
check preprocessing (scale, mean/std, channel order), output selection, activation and
resizing exactly:

* ``fn="red"``: ``z = k * (x[:, 0] - c)`` with ``c`` placing the decision at red = 0.5 in raw
  pixel units, so the alpha is ~1 where the photo's red channel > 0.5 (handy for GUI tests);
* ``fn="mean"``: ``z = mean over channels of x``;
* ``fn="nan"`` / ``fn="inf"``: ``z = 0 * red + NaN`` (or ``+inf``): a broken model whose every
  output is non-finite (what an fp16 overflow or a bad export produces).

Conventions (the graph mimics what the real family outputs):
``seed`` (our metadata; graph outputs logits, spec says sigmoid), ``u2net`` (320x320, 7
outputs, output 0 already a sigmoid), ``isnet`` (1024, ends in Sigmoid), ``birefnet`` (1024,
logits). Other kinds: :func:`make_generator_model`, :func:`make_wrong_rank_model`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core import model_meta as mm

OPSET = 17
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

CONVENTION_DEFAULTS = {
    "seed": dict(size=(32, 32), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), in_graph_sigmoid=False, outputs=1),
    "u2net": dict(size=(320, 320), mean=IMAGENET_MEAN, std=IMAGENET_STD, in_graph_sigmoid=True, outputs=7),
    "isnet": dict(size=(1024, 1024), mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0), in_graph_sigmoid=True, outputs=1),
    "birefnet": dict(size=(1024, 1024), mean=IMAGENET_MEAN, std=IMAGENET_STD, in_graph_sigmoid=False, outputs=1),
}
RED_GAIN = 20.0


def red_offset(mean: tuple[float, ...], std: tuple[float, ...]) -> float:
    """Normalised value of a red channel at raw 0.5 (so the decision sits at red = 0.5)."""
    return (0.5 - mean[0]) / std[0]


def _save(model: onnx.ModelProto, path: str | Path, metadata: dict[str, str] | None) -> Path:
    if metadata:
        for k, v in metadata.items():
            model.metadata_props.add(key=k, value=str(v))
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def seed_metadata(
    size: tuple[int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    activation: str = "sigmoid",
    output_index: int = 0,
    kind: str = mm.KIND_SEGMENTATION,
    name: str = "tiny-seed",
    channel_order: str = "RGB",
) -> dict[str, str]:
    """The metadata our training package writes, for a tiny model."""
    return {
        mm.KEY_PRODUCER: mm.PRODUCER,
        mm.KEY_KIND: kind,
        mm.KEY_NAME: name,
        mm.KEY_VERSION: "0.0.1",
        mm.KEY_INPUT_SIZE: f"{size[0]},{size[1]}",
        mm.KEY_CHANNEL_ORDER: channel_order,
        mm.KEY_MEAN: mm.format_floats(mean),
        mm.KEY_STD: mm.format_floats(std),
        mm.KEY_OUTPUT_INDEX: str(output_index),
        mm.KEY_ACTIVATION: activation,
        mm.KEY_OUTPUT_MEANING: "foreground probability",
        mm.KEY_TRAINING_DATA: "synthetic (tests)",
        mm.KEY_METRICS: json.dumps({"iou": 0.5}),
        mm.KEY_EXTRA: json.dumps({}),
    }


def make_seg_model(
    path: str | Path,
    size: tuple[int, int] | None = None,
    convention: str = "seed",
    fn: str = "red",
    dynamic_batch: bool = True,
    metadata: dict[str, str] | None = None,
    with_metadata: bool | None = None,
    channel_order: str = "RGB",
    fp16: bool = False,
    dynamic_hw: bool = False,
) -> Path:
    """Write a tiny segmentation model and return its path (see module docstring).

    ``dynamic_hw`` leaves the graph's height and width free (``size`` then only goes into the
    metadata), as our keep-aspect exports do.

    ``fp16`` makes the graph take and return float16 (like half-precision exports).

    ``with_metadata`` defaults to True for ``seed`` and False for third-party conventions;
    ``metadata`` entries override/extend the generated ones. With ``channel_order="BGR"`` the
    app feeds BGR, so the graph's "red" slice then reads the photo's blue channel.
    """
    d = CONVENTION_DEFAULTS[convention]
    h, w = size or d["size"]
    mean, std = d["mean"], d["std"]
    batch: int | str = "N" if dynamic_batch else 1
    gh, gw = ("H", "W") if dynamic_hw else (h, w)
    io_type = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    x = helper.make_tensor_value_info("input_raw" if fp16 else "input", io_type, [batch, 3, gh, gw])
    nodes = [helper.make_node("Cast", ["input_raw"], ["input"], to=TensorProto.FLOAT)] if fp16 else []
    inits = []
    if fn == "red":
        inits += [
            numpy_helper.from_array(np.array([0], np.int64), "s0"),
            numpy_helper.from_array(np.array([1], np.int64), "s1"),
            numpy_helper.from_array(np.array([1], np.int64), "ax"),
            numpy_helper.from_array(np.array(red_offset(mean, std), np.float32), "c"),
            numpy_helper.from_array(np.array(RED_GAIN, np.float32), "k"),
        ]
        nodes += [
            helper.make_node("Slice", ["input", "s0", "s1", "ax"], ["red"]),
            helper.make_node("Sub", ["red", "c"], ["centred"]),
            helper.make_node("Mul", ["centred", "k"], ["z"]),
        ]
    elif fn in ("nan", "inf"):
        inits += [
            numpy_helper.from_array(np.array([0], np.int64), "s0"),
            numpy_helper.from_array(np.array([1], np.int64), "s1"),
            numpy_helper.from_array(np.array([1], np.int64), "ax"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(np.nan if fn == "nan" else np.inf, np.float32), "bad"),
        ]
        nodes += [
            helper.make_node("Slice", ["input", "s0", "s1", "ax"], ["red"]),
            helper.make_node("Mul", ["red", "zero"], ["nil"]),
            helper.make_node("Add", ["nil", "bad"], ["z"]),
        ]
    elif fn == "mean":
        nodes.append(helper.make_node("ReduceMean", ["input"], ["z"], axes=[1], keepdims=1))
    else:
        raise ValueError(f"unknown fn {fn!r}")
    outs = []
    n_out = d["outputs"]
    first = "out0"
    last_op = "Sigmoid" if d["in_graph_sigmoid"] else "Identity"
    if fp16:
        nodes.append(helper.make_node(last_op, ["z"], ["out0_f32"]))
        nodes.append(helper.make_node("Cast", ["out0_f32"], [first], to=TensorProto.FLOAT16))
    else:
        nodes.append(helper.make_node(last_op, ["z"], [first]))
    outs.append(helper.make_tensor_value_info(first, io_type, [batch, 1, gh, gw]))
    if n_out > 1:
        nodes.append(helper.make_node("Neg", ["z"], ["negz"]))
        for i in range(1, n_out):  # side outputs: a different function, so a wrong index shows
            nodes.append(helper.make_node("Sigmoid", ["negz"], [f"out{i}"]))
            outs.append(helper.make_tensor_value_info(f"out{i}", TensorProto.FLOAT, [batch, 1, gh, gw]))
    graph = helper.make_graph(nodes, f"tiny_{convention}", [x], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    if with_metadata is None:
        with_metadata = convention == "seed"
    meta = seed_metadata((h, w), mean, std, channel_order=channel_order) if with_metadata else {}
    meta.update(metadata or {})
    return _save(model, path, meta)


def reference_z(rgb: np.ndarray, fn: str, mean, std, scale: str = "unit") -> np.ndarray:
    """numpy twin of the graph's ``z`` for an RGB uint8 image already at the model size."""
    x = rgb.astype(np.float64)
    x = x / max(x.max(), 1e-6) if scale == "image-max" else x / 255.0
    x = (x - np.asarray(mean)) / np.asarray(std)
    if fn == "red":
        return RED_GAIN * (x[:, :, 0] - red_offset(mean, std))
    return x.mean(axis=2)


def make_generator_model(path: str | Path) -> Path:
    """A 'generator-decoder' with our metadata: latent (1 x 8) -> image; not a segmenter."""
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    graph = helper.make_graph([helper.make_node("Identity", ["z"], ["y"])], "gen", [z], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    meta = {mm.KEY_PRODUCER: mm.PRODUCER, mm.KEY_KIND: mm.KIND_GENERATOR_DECODER, mm.KEY_NAME: "tiny-gen"}
    return _save(model, path, meta)


def make_wrong_rank_model(path: str | Path) -> Path:
    """No metadata, input of rank 3 (N x H x W): not an image model."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 320, 320])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 320, 320])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "rank3", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return _save(model, path, None)


def make_click_model(path: str | Path, size: int = 32, radius: float = 2.0, grabs_dark: bool = False) -> Path:
    """A 'clicks' model with our metadata whose output reveals its guidance input:
    probability = max(positive-click disks, previous mask) * (1 - negative-click disks).

    So a test can tell exactly where the engine drew each click and which prior it passed.
    ``grabs_dark`` also calls every dark pixel of the input the object, the way a real model
    over-reaches into dark background: whether a click stays local becomes visible.
    """
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, size, size])
    guidance = helper.make_tensor_value_info("guidance", TensorProto.FLOAT, ["N", 3, size, size])
    out = helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1, size, size])
    inits = [
        numpy_helper.from_array(np.array(v, np.int64), n)
        for n, v in (("s0", [0]), ("s1", [1]), ("s2", [2]), ("s3", [3]), ("ax", [1]))
    ]
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    nodes = [
        helper.make_node("Slice", ["guidance", "s0", "s1", "ax"], ["pos"]),
        helper.make_node("Slice", ["guidance", "s1", "s2", "ax"], ["neg"]),
        helper.make_node("Slice", ["guidance", "s2", "s3", "ax"], ["prev"]),
        helper.make_node("Max", ["pos", "prev"], ["fg0" if grabs_dark else "fg"]),
        helper.make_node("Sub", ["one", "neg"], ["keep"]),
        helper.make_node("Mul", ["fg", "keep"], ["mask"]),
    ]
    if grabs_dark:  # mean over channels of the normalised image (-1..1) below -0.6: dark
        inits.append(numpy_helper.from_array(np.array(-0.6, np.float32), "dark_below"))
        nodes[4:4] = [
            helper.make_node("ReduceMean", ["image"], ["lum"], axes=[1], keepdims=1),
            helper.make_node("Less", ["lum", "dark_below"], ["is_dark"]),
            helper.make_node("Cast", ["is_dark"], ["dark"], to=TensorProto.FLOAT),
            helper.make_node("Max", ["fg0", "dark"], ["fg"]),
        ]
    graph = helper.make_graph(nodes, "clicks", [image, guidance], [out], [*inits, one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    meta = {
        mm.KEY_PRODUCER: mm.PRODUCER,
        mm.KEY_KIND: mm.KIND_CLICKS,
        mm.KEY_NAME: "tiny-clicks",
        mm.KEY_INPUT_SIZE: f"{size},{size}",
        mm.KEY_MEAN: "0.5,0.5,0.5",
        mm.KEY_STD: "0.5,0.5,0.5",
        mm.KEY_EXTRA: json.dumps({"click_radius": radius, "zoom_expansion": 1.4, "zoom_min_crop": 0.2}),
    }
    return _save(model, path, meta)


def make_signature_model(
    path: str | Path,
    size: int,
    maps: int,
    features: int = 0,
    probability: bool = True,
    identity_after: bool = False,
) -> Path:
    """A third-party-looking graph (no metadata) with a given output signature: ``maps``
    1-channel size x size outputs (``fn="red"`` logits, through a Sigmoid when ``probability``,
    then an Identity when ``identity_after``, as some exports end), then ``features`` feature
    maps (3 channels at half resolution), like IS-Net's decoder outputs."""
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "s0"),
        numpy_helper.from_array(np.array([1], np.int64), "s1"),
        numpy_helper.from_array(np.array([1], np.int64), "ax"),
        numpy_helper.from_array(np.array(red_offset(mean, std), np.float32), "c"),
        numpy_helper.from_array(np.array(RED_GAIN, np.float32), "k"),
    ]
    nodes = [
        helper.make_node("Slice", ["input", "s0", "s1", "ax"], ["red"]),
        helper.make_node("Sub", ["red", "c"], ["centred"]),
        helper.make_node("Mul", ["centred", "k"], ["z"]),
    ]
    outs = []
    for i in range(maps):
        name = f"d{i}"
        head = f"{name}_p" if identity_after else name
        nodes.append(helper.make_node("Sigmoid" if probability else "Identity", ["z"], [head]))
        if identity_after:
            nodes.append(helper.make_node("Identity", [f"{name}_p"], [name]))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 1, size, size]))
    for i in range(features):
        nodes.append(helper.make_node("AveragePool", ["input"], [f"f{i}"], kernel_shape=[2, 2], strides=[2, 2]))
        outs.append(helper.make_tensor_value_info(f"f{i}", TensorProto.FLOAT, [1, 3, size // 2, size // 2]))
    graph = helper.make_graph(nodes, "third_party", [x], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pytorch")
    return _save(model, path, None)
