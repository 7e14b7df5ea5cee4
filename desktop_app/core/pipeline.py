"""One photo through the whole chain: model input, mask, compositing, ready-to-encode array.

The batch engine, the CLI's stdin mode and the GUI's export all call :func:`render`, so a
cut-out saved from the GUI is byte-identical to the CLI's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core import compose
from desktop_app.core.clicks.engine import ClickPredictor
from desktop_app.core.errors import ImageLoadError
from desktop_app.core.imageio import LoadedImage, load_image
from desktop_app.core.options import Background, RemoveOptions
from desktop_app.core.refine import hard_threshold
from desktop_app.core.second_pass import default_clicker, second_pass_alpha
from desktop_app.core.segment import Segmenter


@dataclass
class Rendered:
    """A result array plus what the user should know about it."""

    image: np.ndarray  # HxW (mask), HxWx3 (RGB) or HxWx4 (straight RGBA), uint8
    alpha: np.ndarray  # float32 HxW after source alpha, refinement and crop
    bbox: tuple[int, int, int, int] | None = None  # crop applied, in source pixels
    warnings: list[str] = field(default_factory=list)


def model_input(loaded: LoadedImage) -> np.ndarray:
    """RGB the network sees: transparent pixels of the source are flattened onto white.

    Transparent areas of PNGs hold arbitrary colours (often black) that would otherwise
    look like content to the model; product shots with alpha are nearly always on white.
    """
    if loaded.alpha is None:
        return loaded.rgb
    white = compose.solid(loaded.rgb.shape[:2], (255, 255, 255))
    return compose.composite(loaded.rgb, loaded.alpha.astype(np.float32) / 255.0, white)


@functools.lru_cache(maxsize=4)
def _background_image(path: str, mtime_ns: int, max_pixels: int | None, max_bytes: int | None) -> np.ndarray:
    return load_image(path, max_pixels=max_pixels, max_bytes=max_bytes).rgb


def _load_background(bg: Background, max_pixels: int | None, max_bytes: int | None) -> np.ndarray:
    p = Path(bg.image or "")
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise ImageLoadError(f"background image {p}: cannot read it ({exc.strerror or exc})") from exc
    return _background_image(str(p), mtime, max_pixels, max_bytes)


def check_background(options: RemoveOptions) -> None:
    """Decode an image background now (cached for the batch), so a ``--bg`` that is not an image
    fails before the first photo is inferred instead of once per photo. Raises ImageLoadError."""
    if options.background.kind == "image" and options.background.image is not None:
        _load_background(options.background, options.max_pixels, options.max_file_bytes)


def background_layer(
    bg: Background, rgb: np.ndarray, alpha: np.ndarray, max_pixels: int | None = None, max_bytes: int | None = None
) -> np.ndarray:
    """The HxWx3 image to put behind the subject for a non-transparent background."""
    shape = rgb.shape[:2]
    if bg.kind == "colour":
        return compose.solid(shape, bg.colour)
    if bg.kind == "blur":
        return compose.blurred_background(rgb, alpha, bg.blur_strength)
    if bg.kind == "image" and bg.image is not None:
        return compose.cover_fit(_load_background(bg, max_pixels, max_bytes), shape)
    raise ValueError(f"background {bg} has no layer")


def render(
    rgb: np.ndarray,
    alpha: np.ndarray,
    options: RemoveOptions,
    source_alpha: np.ndarray | None = None,
) -> Rendered:
    """Compose the deliverable for one photo from its predicted ``alpha`` (float HxW in [0,1])."""
    warnings: list[str] = []
    if source_alpha is not None:
        alpha = alpha * (source_alpha.astype(np.float32) * (1.0 / 255.0))
    bbox = None
    if options.crop:
        bbox = compose.subject_bbox(alpha, margin=options.crop_margin)
        if bbox is None:
            warnings.append("no subject found: nothing to crop to, the full frame is kept")
        else:
            rgb, alpha = compose.crop(rgb, bbox), compose.crop(alpha, bbox)
    if rgb.shape[0] * rgb.shape[1] == 1:
        # One pixel (a 1x1 file, or a crop to one pixel): OpenCV's Python binding reads a 1x1
        # array as a scalar and pymatting divides by zero on it. Two copies side by side go
        # through every path; the left one is the answer.
        wide = _layers(np.repeat(rgb, 2, axis=1), np.repeat(alpha, 2, axis=1), options)
        return Rendered(np.ascontiguousarray(wide[:, :1]), alpha, bbox, warnings)
    return Rendered(_layers(rgb, alpha, options), alpha, bbox, warnings)


def _layers(rgb: np.ndarray, alpha: np.ndarray, options: RemoveOptions) -> np.ndarray:
    """The output array for an (already cropped) photo and its alpha."""
    if options.mask_only:
        return compose.alpha_to_u8(alpha)
    bg = options.background
    if bg.kind == "transparent" and options.format == "jpg" and options.jpg_background is not None:
        bg = Background(kind="colour", colour=options.jpg_background)
    colour = compose.estimate_foreground(rgb, alpha) if options.foreground_estimation else rgb
    if bg.kind == "transparent":
        return compose.cutout_rgba(colour, alpha)
    layer = background_layer(bg, rgb, alpha, options.max_pixels, options.max_file_bytes)
    return compose.composite(colour, alpha, layer)


def predict_alpha(
    segmenter: Segmenter, rgb: np.ndarray, options: RemoveOptions, clicker: ClickPredictor | None = None
) -> np.ndarray:
    """The alpha matte the options ask for: the model, its optional second pass, refinement, threshold.

    ``clicker`` runs the second pass (default: the embedded click model, loaded per call;
    a batch passes one in). The threshold comes last so it cuts the final mask.
    """
    if not options.second_pass:
        return segmenter.predict(rgb, refine=options.refine, threshold=options.threshold)
    alpha = second_pass_alpha(segmenter, clicker or default_clicker(), rgb, refine=options.refine)
    return alpha if options.threshold is None else hard_threshold(alpha, options.threshold)


def remove_background(loaded: LoadedImage, segmenter: Segmenter, options: RemoveOptions) -> Rendered:
    """Predict and render one loaded photo (convenience for the GUI and the stdin CLI)."""
    alpha = predict_alpha(segmenter, model_input(loaded), options)
    out = render(loaded.rgb, alpha, options, source_alpha=loaded.alpha)
    out.warnings[:0] = loaded.warnings
    return out
