"""Which pre/post-processing a segmentation ONNX file needs, and where the shipped models live.

A model is only as good as the preprocessing it was trained with: feeding U2-Net pixels scaled
the ISNet way silently costs accuracy. So every file gets an explicit :class:`ModelSpec`,
found in this order (first hit wins, the user can override the convention):

1. our own ``metadata_props`` (keys in :mod:`desktop_app.core.model_meta`), written at export;
2. the file name of a known third-party model (rembg's names: u2net, isnet-general-use...);
3. the graph's output signature (:mod:`desktop_app.core.signature`: U²-Net's seven 320x320
   maps, IS-Net's six 1024x1024 side outputs plus feature maps, BiRefNet's single logits map),
   which survives renaming (``model.onnx`` from a model hub);
4. the input shape: 320 -> U2-Net family; 1024 -> a probe run on a grey image tells IS-Net's
   probabilities from BiRefNet's logits.

Conventions follow how each model was trained (its authors' inference code), cross-checked with
rembg's sessions; the table and its reasons live in :mod:`desktop_app.core.conventions`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from desktop_app.core import model_meta as mm
from desktop_app.core.conventions import (  # re-exported: part of this module's API
    ALIASES,
    CONVENTIONS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    convention_from_filename,
    convention_names,
    resolve_convention,
)
from desktop_app.core.errors import ModelError, NoDefaultModelError
from desktop_app.core.onnx_inspect import ModelHeader, read_header
from desktop_app.core.resources import assets_dir
from desktop_app.core.signature import DIS_SIZE, U2NET_SIZE, convention_from_signature, probe_is_probability

ENV_MODELS_DIR = "SEED_STUDIO_MODELS"
ENV_USER_MODELS_DIR = "SEED_STUDIO_USER_MODELS"
__all__ = [
    "ALIASES",
    "CONVENTIONS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ModelSpec",
    "convention_names",
    "default_model_path",
    "embedded_models",
    "find_model",
    "inspect_model",
    "keep_aspect_size",
    "load_spec",
    "models_dir",
    "override_spec",
    "resolve_convention",
    "spec_from_header",
    "user_models",
    "user_models_dir",
]
_FLOAT_TYPES = {1, 10, 11, 16}  # float, float16, double, bfloat16


def keep_aspect_size(
    h: int, w: int, short: int, multiple: int = mm.DEFAULT_SIZE_MULTIPLE, max_aspect: float = mm.DEFAULT_MAX_ASPECT
) -> tuple[int, int]:
    """(H, W) with the shorter side ``short`` and the photo's aspect (capped, rounded to ``multiple``)."""
    if h <= 0 or w <= 0:
        return short, short
    aspect = min(max(h, w) / min(h, w), max_aspect)
    long = max(short, round(short * aspect / multiple) * multiple)
    return (short, long) if h <= w else (long, short)


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to turn an RGB photo into the model's input and its output into alpha.

    ``scale`` says how pixels reach [0, 1] before mean/std: ``"unit"`` divides by 255,
    ``"image-max"`` divides by the image's maximum (how U2-Net was trained). ``minmax``
    stretches each predicted map to [0, 1] (the U2-Net/ISNet authors' inference does this; our
    calibrated models must not). ``source`` records how the spec was found.
    """

    name: str
    kind: str = mm.KIND_SEGMENTATION
    input_size: tuple[int, int] = (320, 320)  # (H, W)
    channel_order: str = "RGB"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    output_index: int = 0
    activation: str = "none"  # "none" | "sigmoid"
    output_meaning: str = "foreground probability"
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    source: str = "metadata"  # metadata | filename | signature | input-shape | probe | override
    convention: str = "seed"
    scale: str = "unit"  # unit | image-max
    minmax: bool = False
    version: str = ""
    training_data: str = ""
    path: str = ""
    input_name: str = ""
    output_name: str = ""
    dynamic_batch: bool = False
    notes: tuple[str, ...] = ()
    # "stretch": every photo is resized to input_size. "keep-aspect": the shorter side becomes
    # min(input_size) and the longer side follows the photo's aspect (rounded to size_multiple,
    # aspect capped at max_aspect). Squashing a 3:2 photo into a square costs our models a lot
    # on SOD (max F 0.694 -> 0.723 kept), because they were trained on nearly undistorted crops.
    resize: str = mm.RESIZE_STRETCH
    size_multiple: int = mm.DEFAULT_SIZE_MULTIPLE
    max_aspect: float = mm.DEFAULT_MAX_ASPECT

    def to_dict(self) -> dict:
        """JSON-friendly dict (tuples become lists)."""
        return asdict(self)

    def network_size(self, h: int, w: int) -> tuple[int, int]:
        """(H, W) of the network input for an h x w photo."""
        if self.resize != mm.RESIZE_KEEP_ASPECT:
            return self.input_size
        return keep_aspect_size(h, w, min(self.input_size), self.size_multiple, self.max_aspect)

    def describe_size(self) -> str:
        """ "320x320" or "256 px short side (keeps aspect)", for model lists."""
        h, w = self.input_size
        if self.resize == mm.RESIZE_KEEP_ASPECT:
            return f"{min(h, w)} px short side (keeps aspect up to {self.max_aspect:g}:1)"
        return f"{w}x{h}"


def _static_hw(header: ModelHeader) -> tuple[int, int] | None:
    shape = header.inputs[0].shape or ()
    if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int) and shape[2] > 0 and shape[3] > 0:
        return int(shape[2]), int(shape[3])
    return None


def _validate_graph(header: ModelHeader) -> None:
    """Raise ModelError unless the graph looks like image -> mask."""
    p = header.path
    if len(header.inputs) != 1:
        names = ", ".join(i.name for i in header.inputs) or "none"
        raise ModelError(f"{p}: a segmentation model takes exactly one image input; this one has {names}")
    inp = header.inputs[0]
    if inp.rank != 4:
        raise ModelError(
            f"{p}: input '{inp.name}' has rank {inp.rank} (shape {inp.shape}); an image model needs N x 3 x H x W"
        )
    if isinstance(inp.shape[1], int) and inp.shape[1] != 3:
        raise ModelError(f"{p}: input '{inp.name}' has {inp.shape[1]} channels; expected 3 (N x 3 x H x W)")
    if inp.elem_type not in _FLOAT_TYPES:
        raise ModelError(f"{p}: input '{inp.name}' is not a float tensor (ONNX type {inp.elem_type})")


def _check_output(header: ModelHeader, index: int) -> None:
    p = header.path
    if not 0 <= index < len(header.outputs):
        raise ModelError(f"{p}: output index {index} does not exist (the model has {len(header.outputs)} outputs)")
    out = header.outputs[index]
    if out.rank is not None and out.rank not in (3, 4):
        raise ModelError(f"{p}: output '{out.name}' has rank {out.rank}; a mask needs N x 1 x H x W or N x H x W")


def _parse_metadata(header: ModelHeader) -> dict:
    meta = header.metadata
    p = header.path
    kind = meta.get(mm.KEY_KIND, mm.KIND_SEGMENTATION)
    if kind != mm.KIND_SEGMENTATION:
        raise ModelError(f"{p}: this is a '{kind}' model ({meta.get(mm.KEY_NAME, p.stem)}), not a segmentation model")
    vals: dict = {"kind": kind, "source": "metadata", "convention": "seed", "scale": "unit", "minmax": False}
    try:
        if mm.KEY_INPUT_SIZE in meta:
            hw = tuple(int(v) for v in mm.parse_floats(meta[mm.KEY_INPUT_SIZE]))
            if len(hw) != 2 or min(hw) <= 0:
                raise ValueError(f"input_size must be 'H,W', got {meta[mm.KEY_INPUT_SIZE]!r}")
            vals["input_size"] = hw
        for key in (mm.KEY_MEAN, mm.KEY_STD):
            if key not in meta:
                raise ValueError(f"required key '{key}' is missing")
            vec = mm.parse_floats(meta[key])
            if len(vec) != 3:
                raise ValueError(f"'{key}' must have 3 values, got {meta[key]!r}")
            if key == mm.KEY_STD and min(vec) <= 0:
                raise ValueError("std values must be positive")
            vals[key] = vec
        order = meta.get(mm.KEY_CHANNEL_ORDER, "RGB").upper()
        if order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order must be RGB or BGR, got {order!r}")
        vals["channel_order"] = order
        vals["output_index"] = int(meta.get(mm.KEY_OUTPUT_INDEX, "0"))
        act = meta.get(mm.KEY_ACTIVATION, "none").lower()
        if act not in ("none", "sigmoid"):
            raise ValueError(f"activation must be 'none' or 'sigmoid', got {act!r}")
        vals["activation"] = act
        vals.update(_parse_resize(meta))
        vals["metrics"] = mm.parse_json(meta, mm.KEY_METRICS)
        vals["extra"] = mm.parse_json(meta, mm.KEY_EXTRA)
    except ValueError as exc:
        raise ModelError(f"{p}: bad Seed Studio metadata: {exc}") from exc
    named = {mm.KEY_NAME: "name", mm.KEY_VERSION: "version", mm.KEY_TRAINING_DATA: "training_data",
             mm.KEY_OUTPUT_MEANING: "output_meaning"}  # fmt: skip
    for key, attr in named.items():
        if meta.get(key):
            vals[attr] = meta[key]
    return vals


def _parse_resize(meta: dict[str, str]) -> dict:
    resize = meta.get(mm.KEY_RESIZE, mm.RESIZE_STRETCH)
    if resize not in (mm.RESIZE_STRETCH, mm.RESIZE_KEEP_ASPECT):
        raise ValueError(f"resize must be '{mm.RESIZE_STRETCH}' or '{mm.RESIZE_KEEP_ASPECT}', got {resize!r}")
    multiple = int(meta.get(mm.KEY_SIZE_MULTIPLE, mm.DEFAULT_SIZE_MULTIPLE))
    max_aspect = float(meta.get(mm.KEY_MAX_ASPECT, mm.DEFAULT_MAX_ASPECT))
    if multiple <= 0 or max_aspect < 1:
        raise ValueError(f"size_multiple must be > 0 and max_aspect >= 1, got {multiple}, {max_aspect}")
    return {"resize": resize, "size_multiple": multiple, "max_aspect": max_aspect}


def _third_party_family(header: ModelHeader, static_hw: tuple[int, int] | None) -> tuple[str, str]:
    """(family, how it was found) for a file without our metadata: its name, else its graph's
    output signature, else its input size (320: U²-Net; 1024: a probe run tells IS-Net's
    probabilities from BiRefNet's logits)."""
    family = convention_from_filename(header.path.stem)
    if family is not None:
        return family, "filename"
    family = convention_from_signature(header, static_hw)
    if family is not None:
        return family, "signature"
    if static_hw == U2NET_SIZE:
        return "u2net", "input-shape"
    if static_hw == DIS_SIZE:
        return ("isnet" if probe_is_probability(header, static_hw) else "birefnet"), "probe"
    raise ModelError(
        f"{header.path}: no Seed Studio metadata, unknown file name and input shape "
        f"{header.inputs[0].shape}; pass a convention ({', '.join(sorted(CONVENTIONS))})"
    )


def spec_from_header(header: ModelHeader, convention: str | None = None) -> ModelSpec:
    """Build the spec for an inspected file; ``convention`` overrides detection (not the kind check)."""
    p = header.path
    ours = header.metadata.get(mm.KEY_PRODUCER) == mm.PRODUCER or mm.KEY_KIND in header.metadata
    vals: dict = {"name": p.stem}
    notes: list[str] = []
    if ours:
        vals.update(_parse_metadata(header))  # raises for non-segmentation kinds first
    _validate_graph(header)
    static_hw = _static_hw(header)
    if convention is not None:
        family = resolve_convention(convention)
        vals.update(CONVENTIONS[family], convention=family, source="override")
    elif not ours:
        family, source = _third_party_family(header, static_hw)
        vals.update(CONVENTIONS[family], convention=family, source=source)
    if static_hw is not None and vals.get("input_size", static_hw) != static_hw:
        notes.append(f"graph input is {static_hw[0]}x{static_hw[1]}; using it instead of {vals['input_size']}")
        vals["input_size"] = static_hw
    if static_hw is not None and vals.get("resize") == mm.RESIZE_KEEP_ASPECT:
        notes.append("graph input size is fixed; photos are stretched to it instead of keeping their aspect")
        vals["resize"] = mm.RESIZE_STRETCH
    if "input_size" not in vals:
        if static_hw is None:
            raise ModelError(f"{p}: dynamic input size and no '{mm.KEY_INPUT_SIZE}' metadata; cannot choose a size")
        vals["input_size"] = static_hw
    index = int(vals.get("output_index", 0))
    _check_output(header, index)
    batch = header.inputs[0].shape[0] if header.inputs[0].shape else None
    return ModelSpec(
        **vals,
        path=str(p),
        input_name=header.inputs[0].name,
        output_name=header.outputs[index].name,
        dynamic_batch=not isinstance(batch, int) or batch <= 0,
        notes=tuple(notes),
    )


_SPEC_CACHE: dict[tuple, tuple[ModelHeader, ModelSpec]] = {}


def inspect_model(path: str | os.PathLike[str], convention: str | None = None) -> tuple[ModelHeader, ModelSpec]:
    """Header and spec of a model file, cached per (path, mtime, size, convention)."""
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise ModelError(f"{p}: model file not found") from exc
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size, convention)
    hit = _SPEC_CACHE.get(key)
    if hit is None:
        header = read_header(p)
        hit = (header, spec_from_header(header, convention))
        _SPEC_CACHE[key] = hit
    return hit


def load_spec(path: str | os.PathLike[str], convention: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of a segmentation model file (raises :class:`ModelError`)."""
    return inspect_model(path, convention)[1]


def override_spec(spec: ModelSpec, **changes) -> ModelSpec:
    """Copy of ``spec`` with fields replaced (e.g. a GUI's advanced settings)."""
    return replace(spec, **changes, source="override")


# ----------------------------------------------------------------------------- model folders


def models_dir() -> Path:
    """The embedded models folder: $SEED_STUDIO_MODELS, else the installed package data
    (``desktop_app/assets/models``) or a checkout's ``assets/models`` (:mod:`.resources`)."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    return assets_dir() / "models"


def user_models_dir() -> Path:
    """Where users drop their own models: $SEED_STUDIO_USER_MODELS or the platform data folder."""
    env = os.environ.get(ENV_USER_MODELS_DIR)
    if env:
        return Path(env).expanduser()
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "seed-studio" / "models"


def _onnx_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".onnx" and p.is_file())


def embedded_models() -> list[Path]:
    """All ``*.onnx`` files shipped in :func:`models_dir` (any kind), sorted by name."""
    return _onnx_files(models_dir())


def user_models() -> list[Path]:
    """All ``*.onnx`` files in :func:`user_models_dir`."""
    return _onnx_files(user_models_dir())


def default_model_path() -> Path:
    """The embedded default segmentation model.

    ``assets/models/default.txt`` (one file name) wins; otherwise the first file (by name)
    whose own metadata says it is a segmentation model, then the first usable third-party
    segmentation file. Raises :class:`NoDefaultModelError` when there is none.
    """
    folder = models_dir()
    pointer = folder / "default.txt"
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip().splitlines()[0].strip() if pointer.stat().st_size else ""
        if name:
            chosen = folder / name
            if not chosen.is_file():
                raise NoDefaultModelError(f"{pointer} names {name!r}, which is not in {folder}")
            load_spec(chosen)  # raises ModelError if it is not a segmentation model
            return chosen
    usable: list[tuple[bool, Path]] = []
    for path in embedded_models():
        try:
            spec = load_spec(path)
        except ModelError:
            continue
        usable.append((spec.source != "metadata", path))
    if usable:
        return min(usable)[1]
    raise NoDefaultModelError(
        f"no embedded default model yet: no segmentation model in {folder}; pass --model PATH (or set {ENV_MODELS_DIR})"
    )


def find_model(name_or_path: str) -> Path:
    """A path as given if it exists, else an embedded/user model whose file stem matches."""
    p = Path(name_or_path).expanduser()
    if p.exists():
        return p
    for candidate in embedded_models() + user_models():
        if candidate.stem == name_or_path or candidate.name == name_or_path:
            return candidate
    raise ModelError(f"{name_or_path}: no such model file, and no embedded or user model has that name")
