"""The wire-format ONNX reader agrees with the onnx package, and does not import it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core.errors import ModelError
from desktop_app.core.onnx_inspect import read_header
from tests.helpers.tiny_models import make_click_model, make_generator_model, make_seg_model


def _signature(value: onnx.ValueInfoProto) -> tuple:
    tt = value.type.tensor_type
    dims = tuple(
        d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
        for d in tt.shape.dim
    )
    return value.name, tt.elem_type, dims if tt.HasField("shape") else None


def _odd_model(path: Path) -> Path:
    """Symbolic, unknown and negative dims, a sparse initializer, metadata with unicode."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 3, None, -1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    z = helper.make_tensor_value_info("z", TensorProto.INT64, [7])
    sparse = helper.make_sparse_tensor(
        numpy_helper.from_array(np.array([1.5], np.float32), "s"), numpy_helper.from_array(np.array([2], np.int64)), [4]
    )
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT), helper.make_node("Shape", ["x"], ["z"])]
    graph = helper.make_graph(nodes, "odd", [x], [y, z], sparse_initializer=[sparse])
    model = helper.make_model(graph, producer_name="tests ✓", opset_imports=[helper.make_opsetid("", 17)])
    model.metadata_props.add(key="note", value="résumé, ünïcode")
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("builder", ["seg-u2net", "seg-seed", "click", "generator", "odd"])
def test_header_matches_onnx(tmp_path: Path, builder: str) -> None:
    path = {
        "seg-u2net": lambda p: make_seg_model(p, convention="u2net"),
        "seg-seed": lambda p: make_seg_model(p, convention="seed"),
        "click": make_click_model,
        "generator": make_generator_model,
        "odd": _odd_model,
    }[builder](tmp_path / f"{builder}.onnx")
    model = onnx.load(str(path))
    header = read_header(path)
    weights = {t.name for t in model.graph.initializer}
    assert [(i.name, i.elem_type, i.shape) for i in header.inputs] == [
        _signature(v) for v in model.graph.input if v.name not in weights
    ]
    assert [(o.name, o.elem_type, o.shape) for o in header.outputs] == [_signature(v) for v in model.graph.output]
    assert header.metadata == {p.key: p.value for p in model.metadata_props}
    assert header.producer_name == model.producer_name
    producers = {out: n.op_type for n in model.graph.node for out in n.output}
    assert header.output_ops == tuple(producers.get(o.name, "") for o in model.graph.output)


def test_garbage_and_truncated_files_are_model_errors(tmp_path: Path) -> None:
    good = make_seg_model(tmp_path / "m.onnx", convention="u2net").read_bytes()
    cases = {"junk": b"\xff\x00garbage" * 20, "cut": good[: len(good) // 2], "text": b"hello world\n"}
    for name, data in cases.items():
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(data)
        with pytest.raises(ModelError, match="not an ONNX model"):
            read_header(path)


def test_inspecting_models_does_not_import_onnx() -> None:
    code = (
        "import sys\n"
        "from desktop_app.core.models import default_model_path, load_spec\n"
        "from desktop_app.cli import build_parser\n"
        "load_spec(default_model_path())\n"
        "print('onnx' in sys.modules, 'ml_dtypes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
