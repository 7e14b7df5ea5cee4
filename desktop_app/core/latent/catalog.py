"""Which generators the latent page can offer: every embedded ONNX file whose metadata says it
is a generator (a VAE's decoder or a GAN's generator), listed by name with its kind.

Reads only the file headers (``onnx_inspect``), so listing costs milliseconds and builds no
onnxruntime session; encoders are skipped (they are reached through their decoder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.core import model_meta as mm
from desktop_app.core.errors import SeedStudioError
from desktop_app.core.models import embedded_models
from desktop_app.core.onnx_inspect import read_header


@dataclass(frozen=True)
class GeneratorEntry:
    path: Path
    name: str
    kind: str  # "vae" or "gan"

    @property
    def label(self) -> str:
        """What a chooser shows, e.g. ``emoji-gan (GAN)``."""
        return f"{self.name} ({ {'vae': 'VAE', 'gan': 'GAN'}.get(self.kind, self.kind) })"


def generator_kind(metadata: dict[str, str]) -> str:
    """ "vae" or "gan" from a generator's metadata (files from before GANs existed are VAEs)."""
    try:
        return str(mm.parse_json(metadata, mm.KEY_EXTRA).get("generator_kind", "vae"))
    except ValueError:
        return "vae"


def list_generators(paths: list[Path] | None = None) -> list[GeneratorEntry]:
    """Generator files among ``paths`` (default: the embedded models), sorted by name."""
    out = []
    for path in embedded_models() if paths is None else paths:
        try:
            md = read_header(path).metadata
        except (SeedStudioError, OSError, ValueError):
            continue
        if md.get(mm.KEY_KIND) == mm.KIND_GENERATOR_DECODER:
            out.append(GeneratorEntry(Path(path), md.get(mm.KEY_NAME, Path(path).stem), generator_kind(md)))
    return sorted(out, key=lambda e: e.name)
