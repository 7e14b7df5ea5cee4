"""Writing image sequences: numbered PNGs or one animated GIF/WebP (atomic, Qt-free).

Used by the latent sliders to export interpolation frames; kept apart from the generator
logic because nothing here knows about latent spaces.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.errors import ImageSaveError
from desktop_app.core.imageio import save_image_atomic, write_bytes_atomic

ANIMATION_SUFFIXES = (".gif", ".webp")


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Integer nearest-neighbour upscaling: keeps the generator's pixels crisp."""
    factor = max(1, int(factor))
    return image if factor == 1 else image.repeat(factor, axis=0).repeat(factor, axis=1)


def save_frames(frames: list[np.ndarray], target: str | Path, fps: float = 12.0, factor: int = 1) -> list[Path]:
    """Write frames as an animated GIF/WebP (by suffix) or as numbered PNGs into a folder."""
    target = Path(target)
    if not frames:
        raise ImageSaveError("no frames to save")
    if target.suffix.lower() not in ANIMATION_SUFFIXES:
        return [save_image_atomic(target / f"frame-{i:03d}.png", upscale(f, factor)) for i, f in enumerate(frames)]
    try:
        images = [Image.fromarray(upscale(f, factor)) for f in frames]
        buf = io.BytesIO()
        kwargs = {"lossless": True} if target.suffix.lower() == ".webp" else {"optimize": False}
        images[0].save(
            buf,
            format=target.suffix[1:].upper(),
            save_all=True,
            append_images=images[1:],
            duration=max(20, round(1000 / fps)),
            loop=0,
            **kwargs,
        )
        write_bytes_atomic(target, buf.getvalue())
        return [target]
    except OSError as exc:
        raise ImageSaveError(f"{target}: cannot write ({exc.strerror or exc})") from exc
