"""Read an ONNX file's metadata and graph signature without loading its weights.

Why: ``seed-studio models`` and the GUI's model picker inspect every file, and third-party
segmentation models weigh 40 MB to 1 GB. ``onnx.load`` would parse every initializer; here the
protobuf wire format is walked with an mmap and the ``initializer`` fields of the graph are
skipped, so inspecting a 900 MB BiRefNet costs milliseconds. The result is an ordinary
``onnx.ModelProto`` (graph without weights) so callers use the normal onnx API.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import onnx

from desktop_app.core.errors import ModelError

_GRAPH_FIELD = 7  # ModelProto.graph
_SKIPPED_GRAPH_FIELDS = {5, 15}  # GraphProto.initializer, GraphProto.sparse_initializer


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


def _encode_key(fnum: int, wtype: int) -> bytes:
    return _encode_varint((fnum << 3) | wtype)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _light_model(buf: mmap.mmap | bytes) -> tuple[onnx.ModelProto, set[str]]:
    """Rebuild the ModelProto bytes with the graph's initializers left out, then parse them.

    Also returns the initializer names (TensorProto field 8), read without touching the weight
    bytes, because models exported with IR < 4 list every weight as a graph input too.
    """
    top = bytearray()
    init_names: set[str] = set()
    for fnum, wtype, vs, ve in _walk(buf, 0, len(buf)):
        if fnum == _GRAPH_FIELD and wtype == 2:
            graph = bytearray()
            for gf, gw, gs, ge in _walk(buf, vs, ve):
                if gf in _SKIPPED_GRAPH_FIELDS:
                    for tf, tw, ts, te in _walk(buf, gs, ge):
                        if tf == 8 and tw == 2:
                            init_names.add(bytes(buf[ts:te]).decode("utf-8", "replace"))
                    continue
                graph += _encode_key(gf, gw)
                if gw == 2:
                    graph += _encode_varint(ge - gs)
                graph += buf[gs:ge]
            top += _encode_key(fnum, 2) + _encode_varint(len(graph)) + graph
        else:
            top += _encode_key(fnum, wtype)
            if wtype == 2:
                top += _encode_varint(ve - vs)
            top += buf[vs:ve]
    return onnx.ModelProto.FromString(bytes(top)), init_names


def _sig(value_info: onnx.ValueInfoProto) -> TensorSig:
    tt = value_info.type.tensor_type
    shape: tuple[int | str | None, ...] | None = None
    if tt.HasField("shape"):
        dims: list[int | str | None] = []
        for d in tt.shape.dim:
            if d.HasField("dim_value"):
                dims.append(int(d.dim_value))
            elif d.HasField("dim_param"):
                dims.append(d.dim_param)
            else:
                dims.append(None)
        shape = tuple(dims)
    return TensorSig(value_info.name, int(tt.elem_type), shape)


def read_header(path: str | os.PathLike[str]) -> ModelHeader:
    """Parse ``path`` into a :class:`ModelHeader`; raise :class:`ModelError` if it is not ONNX."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path}: is a folder, not an ONNX model file")
    if path.exists() and not path.is_file():  # a FIFO or device: opening it could block forever
        raise ModelError(f"{path}: not a regular file, so not an ONNX model file")
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    size = path.stat().st_size
    if size == 0:
        raise ModelError(f"{path}: not an ONNX model (the file is empty)")
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            model, init_names = _light_model(buf)
    except PermissionError as exc:
        raise ModelError(f"{path}: permission denied reading the model") from exc
    except Exception as exc:  # wire-format or protobuf decode failure
        raise ModelError(f"{path}: not an ONNX model (cannot parse the file: {exc})") from exc
    graph = model.graph
    if not model.HasField("graph") or not graph.output or (not graph.input and not graph.node):
        raise ModelError(f"{path}: not an ONNX model (no graph with inputs and outputs)")
    inputs = tuple(_sig(v) for v in graph.input if v.name not in init_names)
    producers = {out: node.op_type for node in graph.node for out in node.output}
    outputs = tuple(_sig(v) for v in graph.output)
    meta = {p.key: p.value for p in model.metadata_props}
    return ModelHeader(
        path=path,
        metadata=meta,
        inputs=inputs,
        outputs=outputs,
        producer_name=model.producer_name,
        output_ops=tuple(producers.get(o.name, "") for o in outputs),
    )
