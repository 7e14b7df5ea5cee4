"""Model configs as plain dicts for checkpoints and ONNX metadata, and back.

A checkpoint carries its model config so export can rebuild the model; JSON (metadata) has no
tuples, so tuple fields go out as lists and come back as tuples.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Self


class DictConfig:
    """Mixin for config dataclasses: ``to_dict`` / ``from_dict`` round-trip, tuples kept."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
