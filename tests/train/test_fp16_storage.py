"""float16 weight storage keeps the tensors the output is too sensitive to in float32."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from training.export import run_onnx, store_weights_fp16


def _two_path_model(rng: np.random.Generator) -> onnx.ModelProto:
    """y = (x @ A) * 1000 + x @ B[:, :64]: rounding A (1 % of the weights) is amplified 1000x,
    rounding B is harmless."""
    a = rng.normal(size=(4, 64)).astype(np.float32)
    b = (0.1 * rng.normal(size=(4, 64 * 100))).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "A"], ["xa"]),
            helper.make_node("Mul", ["xa", "gain"], ["loud"]),
            helper.make_node("MatMul", ["x", "B"], ["xb"]),
            helper.make_node("Slice", ["xb", "start", "stop", "axis"], ["xb64"]),
            helper.make_node("Add", ["loud", "xb64"], ["y"]),
        ],
        "two_paths",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
        [
            numpy_helper.from_array(a, "A"),
            numpy_helper.from_array(b, "B"),
            numpy_helper.from_array(np.array([1000.0], np.float32), "gain"),
            numpy_helper.from_array(np.array([0], np.int64), "start"),
            numpy_helper.from_array(np.array([64], np.int64), "stop"),
            numpy_helper.from_array(np.array([1], np.int64), "axis"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _storage(model: onnx.ModelProto) -> dict[str, int]:
    return {i.name.removesuffix("__fp16"): i.data_type for i in model.graph.initializer}


def test_sensitive_tensor_stays_float32_and_the_rest_is_float16() -> None:
    rng = np.random.default_rng(0)
    model = _two_path_model(rng)
    probes = [rng.normal(size=(1, 4)).astype(np.float32) for _ in range(3)]
    before = run_onnx(model, probes)

    everything = _two_path_model(np.random.default_rng(0))
    loose, kept_loose = store_weights_fp16(everything, probes, tolerance=10.0)
    assert kept_loose == [] and _storage(everything)["A"] == TensorProto.FLOAT16
    assert loose > 1e-2  # all-float16 moves the output a lot: the case the search is for

    change, kept = store_weights_fp16(model, probes)
    assert kept == ["A"]
    storage = _storage(model)
    assert storage["A"] == TensorProto.FLOAT and storage["B"] == TensorProto.FLOAT16
    after = run_onnx(model, probes)
    measured = max(float(np.abs(x - y).max()) for x, y in zip(after, before, strict=True))
    assert measured == change and 0 < change <= 1e-3

    capped = _two_path_model(np.random.default_rng(0))
    rounding, kept_none = store_weights_fp16(capped, probes, max_kept_fraction=0.005)
    assert kept_none == [] and rounding == loose  # A alone is past the budget: all float16, reported
