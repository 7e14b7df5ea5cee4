"""The ONNX ``metadata_props`` contract between the training package and the app.

Training writes these keys into every exported model; ``core.models`` reads them back into a
``ModelSpec``. Keeping the names in one module means the two sides cannot drift apart.
All values are strings (ONNX metadata is string->string); structured values are JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

PRODUCER = "seed-studio"

KEY_PRODUCER = "producer"  # always PRODUCER for our files
KEY_KIND = "kind"  # one of KINDS
KEY_NAME = "name"  # short human name, e.g. "seednet-s"
KEY_VERSION = "version"  # model version string
KEY_INPUT_SIZE = "input_size"  # "H,W" the network expects
KEY_CHANNEL_ORDER = "channel_order"  # "RGB" or "BGR"
KEY_MEAN = "mean"  # "r,g,b" in [0,1] units, subtracted after scaling pixels to [0,1]
KEY_STD = "std"  # "r,g,b"
KEY_OUTPUT_INDEX = "output_index"  # which graph output holds the mask
KEY_ACTIVATION = "activation"  # "none" (already a probability) or "sigmoid"
KEY_OUTPUT_MEANING = "output_meaning"  # free text, e.g. "foreground probability"
KEY_TRAINING_DATA = "training_data"  # free text: data set names and their terms
KEY_METRICS = "metrics"  # JSON object of validation metrics
KEY_EXTRA = "extra"  # JSON object of kind-specific values (click encoding, latent directions...)
# How a photo becomes the network input: "stretch" (to input_size, the default) or "keep-aspect"
# (shorter side = min(input_size), longer side from the photo's aspect rounded to
# KEY_SIZE_MULTIPLE, aspect capped at KEY_MAX_ASPECT); keep-aspect needs a dynamic H x W graph.
KEY_RESIZE = "resize"
KEY_SIZE_MULTIPLE = "size_multiple"  # e.g. "32" (the network's total stride)
KEY_MAX_ASPECT = "max_aspect"  # e.g. "2.0"
RESIZE_STRETCH = "stretch"
RESIZE_KEEP_ASPECT = "keep-aspect"
DEFAULT_SIZE_MULTIPLE = 32  # SeedNet's total stride
DEFAULT_MAX_ASPECT = 2.0

KIND_SEGMENTATION = "segmentation"
KIND_CLICKS = "clicks"
KIND_GENERATOR_DECODER = "generator-decoder"
KIND_GENERATOR_ENCODER = "generator-encoder"
KINDS = (KIND_SEGMENTATION, KIND_CLICKS, KIND_GENERATOR_DECODER, KIND_GENERATOR_ENCODER)


def format_floats(values: tuple[float, ...] | list[float]) -> str:
    """Serialise a short float vector the way the readers expect ("a,b,c")."""
    return ",".join(repr(float(v)) for v in values)


def parse_floats(text: str) -> tuple[float, ...]:
    """Parse "a,b,c" (spaces allowed) into floats; raises ValueError on junk."""
    return tuple(float(part) for part in text.replace(" ", "").split(",") if part)


def parse_json(props: Mapping[str, str], key: str) -> dict:
    """Read a JSON-valued key; a missing key gives {} and junk raises ValueError."""
    raw = props.get(key)
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"metadata key {key!r} must hold a JSON object")
    return value
