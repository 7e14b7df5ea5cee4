"""Places in latent space and their file format: paths between points and the ``.json``
latent point a user saves and reloads (no Qt, no torch).

Kept apart from ``generator`` (which reads models and runs them) because a point is plain
data: it is written atomically and parsed defensively, and it must stay readable when the
model's directions change (sliders are then zeroed and the place itself is kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from desktop_app.core.imageio import write_bytes_atomic
from desktop_app.core.latent.generator import GeneratorError, GeneratorInfo, LatentSpace

POINT_FORMAT = "seed-studio-latent/1"


def interpolate(a: np.ndarray, b: np.ndarray, n: int, spherical: bool = True) -> np.ndarray:
    """``n`` points from ``a`` to ``b`` inclusive (n x D).

    Spherical by default (White, 2016): halfway between two typical Gaussian samples a straight
    line passes through an atypically short, washed-out point; slerp keeps the norm typical.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.linspace(0.0, 1.0, max(2, n))[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    omega = np.arccos(np.clip(a @ b / (na * nb), -1, 1)) if na > 1e-9 and nb > 1e-9 else 0.0
    if not spherical or omega < 1e-4 or abs(omega - np.pi) < 1e-4:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


@dataclass
class LatentPoint:
    """A place in latent space: a base point plus slider values (in sigmas of each direction)."""

    base: np.ndarray
    values: np.ndarray
    seed: int | None = None
    temperature: float = 1.0
    origin: str = "seed"  # seed | mean | encoded | loaded | interpolated
    fitted: bool = True  # with a seed: drawn from the data fit (True) or from N(0, I)

    def z(self, space: LatentSpace) -> np.ndarray:
        return space.move(self.base, self.values)

    def copy(self) -> LatentPoint:
        return replace(self, base=self.base.copy(), values=self.values.copy())

    def to_json(self, info: GeneratorInfo) -> str:
        return json.dumps(
            {
                "format": POINT_FORMAT,
                "model": info.name,
                "model_version": info.version,
                "latent_size": info.latent_size,
                "z": self.z(info.space).tolist(),
                "base": self.base.tolist(),
                "sliders": self.values.tolist(),
                "sigmas": info.space.sigmas.tolist(),
                "seed": self.seed,
                "temperature": self.temperature,
                "origin": self.origin,
                "prior": "fitted" if self.fitted else "standard",
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, info: GeneratorInfo) -> LatentPoint:
        """Parse a saved point; slider values are kept only if the directions match in count."""
        try:
            data = json.loads(text)
            z = np.asarray(data["z"], np.float64)
        except (ValueError, KeyError, TypeError) as exc:
            raise GeneratorError(f"not a latent point file ({exc})") from exc
        if data.get("format") != POINT_FORMAT:
            raise GeneratorError(f"not a latent point file (format {data.get('format')!r})")
        if z.shape != (info.latent_size,):
            raise GeneratorError(f"the point has {z.size} latent values; {info.name} uses {info.latent_size}")
        values = np.asarray(data.get("sliders") or [], np.float64)
        base = np.asarray(data.get("base") or z, np.float64)
        if values.shape != (info.space.count,) or base.shape != z.shape or data.get("model") != info.name:
            base, values = z, np.zeros(info.space.count)  # other directions: keep the place, zero the sliders
        seed = data.get("seed")
        return cls(
            base,
            values,
            None if seed is None else int(seed),
            float(data.get("temperature", 1.0)),
            "loaded",
            data.get("prior", "fitted") == "fitted",
        )


def save_point(path: str | Path, point: LatentPoint, info: GeneratorInfo) -> Path:
    write_bytes_atomic(path, point.to_json(info).encode())  # atomic: a crash never leaves half a file
    return Path(path)


def load_point(path: str | Path, info: GeneratorInfo) -> LatentPoint:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise GeneratorError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return LatentPoint.from_json(text, info)
