"""Job functions of the latent panel's workers (they run on LatestWinsWorker threads).

Free of widgets, like ``ui/editor/jobs.py``: each takes a request, calls the Qt-free core
(``desktop_app.core.latent.generator``) and returns a plain result. One persistent worker per kind
(render, load, encode, files), so a fast slider drag replaces its pending frame instead of
queueing stale ones, and a slow file write never delays a frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.imageio import load_image, save_image_atomic
from desktop_app.core.latent.catalog import GeneratorEntry, list_generators
from desktop_app.core.latent.generator import (
    Generator,
    MissingGeneratorMetadata,
    cut_out,
    save_frames,
    upscale,
)
from desktop_app.core.latent.points import interpolate
from desktop_app.ui.shared.workers import CancelToken

# -- render ------------------------------------------------------------------------------------


@dataclass
class RenderRequest:
    generator: Generator
    z: np.ndarray  # (D,) float64, the exact point to decode
    serial: int = 0  # the panel's change counter, so a result can be matched to its request


@dataclass
class RenderResult:
    z: np.ndarray
    image: np.ndarray  # H x W x 3 uint8
    ms: float
    serial: int


def render(req: RenderRequest, token: CancelToken) -> RenderResult:
    t = time.perf_counter()
    image = req.generator.decode(req.z)
    return RenderResult(req.z, image, (time.perf_counter() - t) * 1000, req.serial)


# -- load --------------------------------------------------------------------------------------


@dataclass
class LoadRequest:
    path: Path
    random_directions: int = 0


@dataclass
class LoadResult:
    path: Path
    generator: Generator | None
    message: str = ""
    vector_size: int | None = None  # set when the file could be explored with random directions
    catalog: list[GeneratorEntry] = field(default_factory=list)  # the generators a chooser offers


def load_generator(req: LoadRequest, token: CancelToken) -> LoadResult:
    """Open the model (session creation takes 0.1-2 s, so never on the GUI thread)."""
    try:
        gen = Generator(req.path, random_directions=req.random_directions)
    except MissingGeneratorMetadata as exc:
        return LoadResult(req.path, None, str(exc), exc.vector_size)
    token.raise_if_cancelled()
    gen.decode(gen.info.space.mean)  # warm up: the first run of a session allocates its arenas
    return LoadResult(req.path, gen, catalog=list_generators())


# -- encode ------------------------------------------------------------------------------------


@dataclass
class EncodeRequest:
    generator: Generator
    path: Path | None = None
    image: np.ndarray | None = None  # RGB or RGBA uint8
    mask: np.ndarray | None = None  # with ``image`` as the photo: the editor's cut-out mask
    name: str = ""


@dataclass
class EncodeResult:
    mean: np.ndarray
    logvar: np.ndarray
    name: str


def encode(req: EncodeRequest, token: CancelToken) -> EncodeResult:
    image = req.image
    name = req.name
    if image is None:
        assert req.path is not None
        loaded = load_image(req.path)
        image = loaded.rgb if loaded.alpha is None else np.dstack([loaded.rgb, loaded.alpha])
        name = name or req.path.name
    elif req.mask is not None:
        image = cut_out(image, req.mask)
    token.raise_if_cancelled()
    mean, logvar = req.generator.encode(image)
    return EncodeResult(mean, logvar, name or "image")


# -- files -------------------------------------------------------------------------------------


@dataclass
class FileJob:
    """Something to write; ``write`` returns a message for the status bar."""

    describe: str
    write: Callable[[CancelToken], str]


def run_file_job(job: FileJob, token: CancelToken) -> str:
    return job.write(token)


def save_image_job(image: np.ndarray, path: Path, factor: int) -> FileJob:
    def write(token: CancelToken) -> str:
        out = save_image_atomic(path, upscale(image, factor))
        return f"Saved {out.name} ({image.shape[1] * factor}x{image.shape[0] * factor})"

    return FileJob(f"save {path.name}", write)


def export_frames_job(
    generator: Generator,
    a: np.ndarray,
    b: np.ndarray,
    frames: int,
    target: Path,
    fps: float,
    factor: int,
    bounce: bool = False,
) -> FileJob:
    """Render the interpolation A -> B (and back, if ``bounce``) and write it as files."""

    def write(token: CancelToken) -> str:
        zs = interpolate(a, b, frames)
        if bounce:
            zs = np.concatenate([zs, zs[-2:0:-1]])
        images = []
        for z in zs:
            token.raise_if_cancelled()
            images.append(generator.decode(z))
        paths = save_frames(images, target, fps=fps, factor=factor)
        where = target.name if len(paths) == 1 else f"{len(paths)} PNGs in {target.name}/"
        return f"Exported {len(images)} frames: {where}"

    return FileJob(f"export {target.name}", write)
