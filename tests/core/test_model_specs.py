"""Model convention detection, bad-model errors, fast ONNX header reading, model folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers.tiny_models import make_generator_model, make_seg_model, make_wrong_rank_model
from onnx import TensorProto, helper, numpy_helper

from desktop_app.core import model_meta as mm
from desktop_app.core.errors import ModelError, NoDefaultModelError
from desktop_app.core.models import (
    IMAGENET_MEAN,
    default_model_path,
    embedded_models,
    find_model,
    load_spec,
    models_dir,
    resolve_convention,
    user_models,
)
from desktop_app.core.onnx_inspect import read_header
from desktop_app.core.session import available_providers, get_session, physical_cores


def test_seed_metadata_is_read(tmp_path: Path) -> None:
    spec = load_spec(make_seg_model(tmp_path / "m.onnx", size=(24, 40), metadata={mm.KEY_NAME: "seednet-t"}))
    assert (spec.name, spec.kind, spec.source, spec.convention) == (
        "seednet-t",
        "segmentation",
        "metadata",
        "seed",
    )
    assert spec.input_size == (24, 40) and spec.activation == "sigmoid" and not spec.minmax
    assert spec.mean == (0.0, 0.0, 0.0) and spec.std == (1.0, 1.0, 1.0)
    assert spec.metrics == {"iou": 0.5} and spec.dynamic_batch and spec.output_name == "out0"


@pytest.mark.parametrize(
    ("filename", "convention", "family", "source"),
    [
        ("u2netp.onnx", "u2net", "u2net", "filename"),
        ("u2net_human_seg.onnx", "u2net", "u2net", "filename"),
        ("silueta.onnx", "u2net", "u2net", "filename"),
        ("isnet-general-use.onnx", "isnet", "isnet", "filename"),
        ("isnet-anime.onnx", "isnet", "isnet", "filename"),
        ("birefnet-general-lite.onnx", "birefnet", "birefnet", "filename"),
        ("bria-rmbg-2.0.onnx", "birefnet", "bria-rmbg", "filename"),
        ("anything320.onnx", "u2net", "u2net", "signature"),  # seven 320x320 maps
        ("anything1024s.onnx", "isnet", "isnet", "signature"),  # one map, graph ends in Sigmoid
        ("anything1024l.onnx", "birefnet", "birefnet", "signature"),  # one logits map
    ],
)
def test_third_party_detection(tmp_path: Path, filename: str, convention: str, family: str, source: str) -> None:
    spec = load_spec(make_seg_model(tmp_path / filename, convention=convention))
    assert (spec.convention, spec.source) == (family, source)
    if family == "u2net":
        assert spec.input_size == (320, 320) and spec.scale == "image-max" and spec.minmax
        assert spec.mean == IMAGENET_MEAN and spec.activation == "none"
    if family == "isnet":
        assert spec.mean == (0.5, 0.5, 0.5) and spec.std == (1.0, 1.0, 1.0) and spec.activation == "none"
    if family == "birefnet":
        assert spec.activation == "sigmoid" and not spec.minmax


def test_convention_override_and_graph_size_wins(tmp_path: Path) -> None:
    path = make_seg_model(tmp_path / "u2net.onnx", convention="u2net")
    spec = load_spec(path, "isnet-general-use")
    assert (spec.convention, spec.source, spec.mean) == ("isnet", "override", (0.5, 0.5, 0.5))
    assert spec.input_size == (320, 320) and spec.notes  # static graph size beats the family's 1024
    with pytest.raises(ModelError, match=r"unknown convention 'nope'.*u2net"):
        resolve_convention("nope")


def _bad_model_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    text = tmp / "text.onnx"
    text.write_text("this is not a model\n" * 10)
    junk = tmp / "junk.onnx"
    junk.write_bytes(np.random.default_rng(1).bytes(4096))
    empty = tmp / "empty.onnx"
    empty.write_bytes(b"")
    return {
        "text": (text, "not an ONNX model"),
        "junk": (junk, "not an ONNX model"),
        "empty": (empty, "not an ONNX model"),
        "missing": (tmp / "missing.onnx", "not found"),
        "rank": (make_wrong_rank_model(tmp / "rank3.onnx"), "rank 3"),
        "generator": (make_generator_model(tmp / "gen.onnx"), "'generator-decoder' model"),
        "index": (make_seg_model(tmp / "idx.onnx", metadata={mm.KEY_OUTPUT_INDEX: "3"}), "output index 3"),
        "std": (
            make_seg_model(tmp / "std.onnx", metadata={mm.KEY_STD: "0,1,1"}),
            "std values must be positive",
        ),
        "mean": (make_seg_model(tmp / "mean.onnx", metadata={mm.KEY_MEAN: "0.5,0.5"}), "'mean' must have 3"),
        "act": (make_seg_model(tmp / "act.onnx", metadata={mm.KEY_ACTIVATION: "relu"}), "activation must be"),
        "cloth": (make_seg_model(tmp / "u2net_cloth_seg.onnx", convention="u2net"), "clothing parser"),
        "size": (make_seg_model(tmp / "odd.onnx", size=(64, 64), convention="birefnet"), "pass a convention"),
    }


def test_bad_models_get_clear_errors(tmp_path: Path) -> None:
    for name, (path, phrase) in _bad_model_cases(tmp_path).items():
        with pytest.raises(ModelError) as info:
            load_spec(path)
        assert phrase in str(info.value), (name, str(info.value))


def test_header_skips_weights_and_handles_legacy_inputs(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 320, 320])
    wi = helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 320, 320])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("ReduceMean", ["c"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Sigmoid", ["m"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "legacy", [x, wi], [y], initializer=[w])  # IR<4: weights listed as inputs
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    model.metadata_props.add(key="author", value="tests")
    path = tmp_path / "legacy.onnx"
    onnx.save(model, str(path))
    header = read_header(path)
    assert [i.name for i in header.inputs] == ["x"]
    assert header.metadata == {"author": "tests"} and header.output_ops == ("Sigmoid",)
    assert header.inputs[0].shape == (1, 3, 320, 320)
    assert load_spec(path).convention == "u2net"


def test_model_folders_and_default(models_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert models_dir() == models_env and embedded_models() == []
    with pytest.raises(NoDefaultModelError, match="no embedded default model yet"):
        default_model_path()
    make_generator_model(models_env / "a-generator.onnx")
    with pytest.raises(NoDefaultModelError):
        default_model_path()
    make_seg_model(models_env / "a-u2net.onnx", convention="u2net")  # third-party: ours preferred
    seg_b = make_seg_model(models_env / "b-seg.onnx")
    seg_c = make_seg_model(models_env / "c-seg.onnx")
    assert default_model_path() == seg_b  # first segmentation model, generator skipped
    (models_env / "default.txt").write_text("c-seg.onnx\n")
    assert default_model_path() == seg_c
    (models_env / "default.txt").write_text("gone.onnx\n")
    with pytest.raises(NoDefaultModelError, match=r"gone\.onnx"):
        default_model_path()
    user = Path(os.environ["SEED_STUDIO_USER_MODELS"])
    mine = make_seg_model(user / "mine.onnx")
    assert user_models() == [mine]
    assert find_model("mine") == mine and find_model(str(seg_b)) == seg_b
    with pytest.raises(ModelError, match="no such model"):
        find_model("nothing-like-this")


def test_default_models_dir_is_repo_assets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEED_STUDIO_MODELS", raising=False)
    assert models_dir().parts[-2:] == ("assets", "models")


def test_sessions_are_cached_per_file_identity(seg_model: Path, tmp_path: Path) -> None:
    assert available_providers()[-1] == "CPUExecutionProvider"
    assert physical_cores() >= 1
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(seg_model.read_bytes())
    s1 = get_session(copy)
    assert get_session(copy) is s1
    os.utime(copy, ns=(1, 1))  # same bytes, new mtime: treated as a new file
    assert get_session(copy) is not s1
    assert s1.get_providers()[0] in available_providers()


@pytest.mark.skipif(not Path("/sys/devices/system/cpu").is_dir(), reason="Linux sysfs topology only")
def test_physical_cores_reads_sysfs_like_psutil_without_importing_it() -> None:
    import json
    import subprocess
    import sys

    psutil = pytest.importorskip("psutil")
    code = (
        "import json, sys\n"
        "from desktop_app.core.session import physical_cores\n"
        "print(json.dumps([physical_cores(), 'psutil' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    cores, imported = json.loads(out)
    assert cores == psutil.cpu_count(logical=False)
    assert not imported  # its import costs every batch process ~20 ms
