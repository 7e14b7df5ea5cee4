"""What Help ▸ About shows, gathered without Qt: versions, the inference engine, the models.

Why a core module: a bug report needs the same facts whichever front end a person uses, and
they must come from the files actually loaded (the installed distribution's metadata, the ONNX
files' own ``metadata_props``, their cards), not from text that can drift from them.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core import model_meta as mm
from desktop_app.core.errors import ModelError
from desktop_app.core.models import embedded_models, models_dir, user_models, user_models_dir
from desktop_app.core.onnx_inspect import read_header
from desktop_app.core.resources import app_version

APP_LICENCE = "MIT"
KEY_LICENCE = "license"  # optional metadata key: the weights' licence, when a file states one
_TERMS_WORDS = ("licen", "research", "commercial", "terms", "public domain")


@dataclass(frozen=True)
class ModelFacts:
    """One model file as About lists it."""

    path: Path
    where: str  # "embedded" | "user"
    kind: str = "unknown"
    name: str = ""
    version: str = ""
    licence: str = ""
    card: Path | None = None
    problem: str = ""


@dataclass(frozen=True)
class AboutFacts:
    """Everything Help ▸ About shows (the settings file comes from the GUI)."""

    version: str
    python: str
    onnxruntime: str
    providers: tuple[str, ...]
    models_dir: Path
    user_models_dir: Path
    models: tuple[ModelFacts, ...] = field(default_factory=tuple)


def licence_terms(meta: dict[str, str]) -> str:
    """The licence a file states (``license`` key), else the terms named in its training-data
    note (e.g. "research use"), which bind the weights trained on that data."""
    if meta.get(KEY_LICENCE):
        return meta[KEY_LICENCE]
    clauses = [c.strip() for part in meta.get(mm.KEY_TRAINING_DATA, "").split(";") for c in part.split(",")]
    terms = [c for c in clauses if any(w in c.lower() for w in _TERMS_WORDS)]
    return "training data: " + "; ".join(dict.fromkeys(terms)) if terms else ""


def _card(path: Path, name: str) -> Path | None:
    """The model card beside the file: ``NAME.md`` (one card may cover an encoder/decoder pair)."""
    for stem in dict.fromkeys((path.stem, name)):
        if stem and (path.parent / f"{stem}.md").is_file():
            return path.parent / f"{stem}.md"
    return None


def model_facts(path: Path, where: str) -> ModelFacts:
    """Kind, name, version and licence of one file, from its own metadata (never raises)."""
    try:
        meta = read_header(path).metadata
    except (ModelError, OSError) as exc:
        return ModelFacts(path, where, problem=str(exc).removeprefix(f"{path}: "))
    name = meta.get(mm.KEY_NAME, "")
    kind = meta.get(mm.KEY_KIND, "segmentation (third-party)" if mm.KEY_PRODUCER not in meta else "unknown")
    return ModelFacts(path, where, kind, name, meta.get(mm.KEY_VERSION, ""), licence_terms(meta), _card(path, name))


def _engine() -> tuple[str, tuple[str, ...]]:
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - a dependency; say so rather than crash About
        return f"not importable ({exc})", ()
    return ort.__version__, tuple(ort.get_available_providers())


def gather() -> AboutFacts:
    """Read everything About shows (a few file headers: milliseconds)."""
    ort_version, providers = _engine()
    rows = [model_facts(p, "embedded") for p in embedded_models()] + [model_facts(p, "user") for p in user_models()]
    return AboutFacts(
        version=app_version(),
        python=platform.python_version(),
        onnxruntime=ort_version,
        providers=providers,
        models_dir=models_dir(),
        user_models_dir=user_models_dir(),
        models=tuple(rows),
    )
