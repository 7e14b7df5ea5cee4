"""Read an ONNX file's metadata and graph signature without loading its weights or ``onnx``.

Why: ``seed-studio models``, every ``remove`` run and the GUI's model picker inspect model
files, and third-party segmentation models weigh 40 MB to 1 GB. ``onnx.load`` would parse every
initializer, and importing the ``onnx`` package alone costs 0.7-1.1 s per process (its
``ml_dtypes`` extension), more than a whole batch of small photos. So the protobuf wire
format is walked over an mmap and only the handful of fields the app needs are decoded (field
numbers from ``onnx/onnx.proto``, a stable format): producer, ``metadata_props``, graph inputs
and outputs with their shapes, and the op type producing each output. Initializers are skipped
except for their names, so inspecting a 900 MB BiRefNet costs milliseconds.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_app.core.errors import ModelError


@dataclass(frozen=True)
class TensorSig:
    """Name, element type and shape of a graph input/output; dims are int, str (symbolic) or None."""

    name: str
    elem_type: int
    shape: tuple[int | str | None, ...] | None

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)


@dataclass(frozen=True)
class ModelHeader:
    """What the app needs to know about an ONNX file before running it."""

    path: Path
    metadata: dict[str, str]
    inputs: tuple[TensorSig, ...]
    outputs: tuple[TensorSig, ...]
    producer_name: str
    output_ops: tuple[str, ...] = field(default=())  # op type producing each output ("" if unknown)


def _varint(buf: mmap.mmap | bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _walk(buf: mmap.mmap | bytes, start: int, end: int):
    """Yield (field_number, wire_type, value_start, value_end) for one protobuf message."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        fnum, wtype = key >> 3, key & 7
        if fnum == 0:
            raise ValueError("field number 0")
        if wtype == 0:
            _, npos = _varint(buf, pos)
        elif wtype == 1:
            npos = pos + 8
        elif wtype == 2:
            length, pos = _varint(buf, pos)
            npos = pos + length
        elif wtype == 5:
            npos = pos + 4
        else:
            raise ValueError(f"unsupported wire type {wtype}")
        if npos > end:
            raise ValueError("field runs past the end of the message")
        yield fnum, wtype, pos, npos
        pos = npos


# Field numbers of onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto, TypeProto...).
_MODEL_PRODUCER, _MODEL_GRAPH, _MODEL_METADATA = 2, 7, 14
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_SPARSE_INITIALIZER = 1, 5, 11, 12, 15
_NODE_OUTPUT, _NODE_OP_TYPE = 2, 4
_TENSOR_NAME = 8  # TensorProto.name
_SPARSE_VALUES = 1  # SparseTensorProto.values, a TensorProto carrying the name
_VALUE_NAME, _VALUE_TYPE = 1, 2
_TYPE_TENSOR = 1
_TENSOR_ELEM_TYPE, _TENSOR_SHAPE = 1, 2
_SHAPE_DIM = 1
_DIM_VALUE, _DIM_PARAM = 1, 2


def _text(buf: mmap.mmap | bytes, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", "replace")


def _int64(value: int) -> int:
    """A varint read as unsigned, reinterpreted as protobuf's two's-complement int64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf: mmap.mmap | bytes, start: int, end: int, wanted: int, wire: int = 2):
    """(start, end) of every length-delimited field ``wanted`` (or varint value when wire=0)."""
    for fnum, wtype, vs, ve in _walk(buf, start, end):
        if fnum == wanted and wtype == wire:
            yield (vs, ve) if wire == 2 else _varint(buf, vs)[0]


def _first_text(buf: mmap.mmap | bytes, start: int, end: int, wanted: int) -> str:
    return next((_text(buf, s, e) for s, e in _fields(buf, start, end, wanted)), "")


def _shape(buf: mmap.mmap | bytes, start: int, end: int) -> tuple[int | str | None, ...]:
    dims: list[int | str | None] = []
    for ds, de in _fields(buf, start, end, _SHAPE_DIM):
        dim: int | str | None = None
        for fnum, wtype, vs, ve in _walk(buf, ds, de):
            if fnum == _DIM_VALUE and wtype == 0:
                dim = _int64(_varint(buf, vs)[0])
            elif fnum == _DIM_PARAM and wtype == 2:
                dim = _text(buf, vs, ve)
        dims.append(dim)
    return tuple(dims)


def _sig(buf: mmap.mmap | bytes, start: int, end: int) -> TensorSig:
    """A ValueInfoProto: name, and element type and shape when it is a tensor."""
    name, elem_type, shape = "", 0, None
    for fnum, wtype, vs, ve in _walk(buf, start, end):
        if fnum == _VALUE_NAME and wtype == 2:
            name = _text(buf, vs, ve)
        elif fnum == _VALUE_TYPE and wtype == 2:
            for ts, te in _fields(buf, vs, ve, _TYPE_TENSOR):
                elem_type = next(iter(_fields(buf, ts, te, _TENSOR_ELEM_TYPE, wire=0)), 0)
                shape = next((_shape(buf, s, e) for s, e in _fields(buf, ts, te, _TENSOR_SHAPE)), None)
    return TensorSig(name, int(elem_type), shape)


def _parse(buf: mmap.mmap | bytes) -> tuple[dict, bool]:
    """The fields of a ModelProto that :class:`ModelHeader` holds, and whether it had a graph."""
    found: dict = {"metadata": {}, "producer": "", "inputs": [], "outputs": [], "ops": {}, "weights": set(), "nodes": 0}
    has_graph = False
    for fnum, wtype, vs, ve in _walk(buf, 0, len(buf)):
        if fnum == _MODEL_PRODUCER and wtype == 2:
            found["producer"] = _text(buf, vs, ve)
        elif fnum == _MODEL_METADATA and wtype == 2:
            found["metadata"][_first_text(buf, vs, ve, 1)] = _first_text(buf, vs, ve, 2)
        elif fnum == _MODEL_GRAPH and wtype == 2:
            has_graph = True
            _parse_graph(buf, vs, ve, found)
    return found, has_graph


def _parse_graph(buf: mmap.mmap | bytes, start: int, end: int, found: dict) -> None:
    nodes: list[tuple[int, int]] = []
    for fnum, wtype, vs, ve in _walk(buf, start, end):
        if wtype != 2:
            continue
        if fnum == _GRAPH_NODE:
            nodes.append((vs, ve))
        elif fnum == _GRAPH_INITIALIZER:  # weights: only the name, never the bytes
            found["weights"].add(_first_text(buf, vs, ve, _TENSOR_NAME))
        elif fnum == _GRAPH_SPARSE_INITIALIZER:
            for s, e in _fields(buf, vs, ve, _SPARSE_VALUES):
                found["weights"].add(_first_text(buf, s, e, _TENSOR_NAME))
        elif fnum == _GRAPH_INPUT:
            found["inputs"].append(_sig(buf, vs, ve))
        elif fnum == _GRAPH_OUTPUT:
            found["outputs"].append(_sig(buf, vs, ve))
    found["nodes"] = len(nodes)
    # Only the nodes producing graph outputs matter; exporters write them last, so walking
    # back from the end decodes a handful of a graph's thousands of nodes.
    wanted = {o.name for o in found["outputs"]}
    for vs, ve in reversed(nodes):
        outs = [_text(buf, s, e) for s, e in _fields(buf, vs, ve, _NODE_OUTPUT)]
        hits = wanted.intersection(outs)
        if hits:
            op = _first_text(buf, vs, ve, _NODE_OP_TYPE)
            found["ops"].update(dict.fromkeys(hits, op))
            wanted -= hits
            if not wanted:
                break


_CACHE: dict[tuple[str, int, int], ModelHeader] = {}


def read_header(path: str | os.PathLike[str]) -> ModelHeader:
    """Parse ``path`` into a :class:`ModelHeader`; raise :class:`ModelError` if it is not ONNX.

    Cached per file identity (path, mtime, size): the model pickers, the click engine and
    the CLI all ask about the same few files, and a replaced file is read again.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not an ONNX model file")
    if path.exists() and not path.is_file():  # a FIFO or device: opening it could block forever
        raise ModelError(f"{path}: not a regular file, so not an ONNX model file")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached if cached.path == path else replace(cached, path=path)
    header = _read_header(path, st.st_size)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = header
    return header


def _read_header(path: Path, size: int) -> ModelHeader:
    if size == 0:
        raise ModelError(f"{path}: not an ONNX model (the file is empty)")
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            found, has_graph = _parse(buf)
    except PermissionError as exc:
        raise ModelError(f"{path}: permission denied reading the model") from exc
    except Exception as exc:  # wire-format decode failure
        raise ModelError(f"{path}: not an ONNX model (cannot parse the file: {exc})") from exc
    if not has_graph or not found["outputs"] or (not found["inputs"] and not found["nodes"]):
        raise ModelError(f"{path}: not an ONNX model (no graph with inputs and outputs)")
    # models exported with IR < 4 list every weight as a graph input too
    inputs = tuple(v for v in found["inputs"] if v.name not in found["weights"])
    outputs = tuple(found["outputs"])
    return ModelHeader(
        path=path,
        metadata=found["metadata"],
        inputs=inputs,
        outputs=outputs,
        producer_name=found["producer"],
        output_ops=tuple(found["ops"].get(o.name, "") for o in outputs),
    )
