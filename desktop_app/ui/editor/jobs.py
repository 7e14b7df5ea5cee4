"""Job functions run by the GUI's LatestWinsWorkers (on worker threads, never the GUI thread).

They are thin: each takes a request, calls the Qt-free core, and returns a plain result
object. Keeping them free of widgets means they could move into the core unchanged; they live
here because their request/result shapes are the GUI's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from desktop_app.core import compose
from desktop_app.core.errors import ModelError
from desktop_app.core.history import RegionChange
from desktop_app.core.imageio import LoadedImage, load_image, save_image_atomic
from desktop_app.core.mask_edit import Adjustments, adjustment_change, to_uint8_mask
from desktop_app.core.options import Background, RemoveOptions
from desktop_app.core.pipeline import render
from desktop_app.core.second_pass import default_clicker, second_pass
from desktop_app.core.segment import Segmenter
from desktop_app.ui.shared.qimage import build_pyramid
from desktop_app.ui.shared.workers import CancelToken

# -- open --------------------------------------------------------------------------------------


@dataclass
class OpenRequest:
    """A file path, raw file bytes (paste), or pixels already decoded (clipboard image)."""

    path: Path | None = None
    data: bytes | None = None
    rgb: np.ndarray | None = None
    name: str = ""


@dataclass
class OpenedPhoto:
    loaded: LoadedImage
    pyramid: list[np.ndarray]
    name: str
    seconds: float


def open_photo(req: OpenRequest, token: CancelToken) -> OpenedPhoto:
    t0 = time.perf_counter()
    if req.rgb is not None:
        loaded = LoadedImage(rgb=np.ascontiguousarray(req.rgb), alpha=None, source_format="clipboard")
    elif req.data is not None:
        loaded = load_image(req.data)
    else:
        assert req.path is not None
        loaded = load_image(req.path)
    token.raise_if_cancelled()
    pyramid = build_pyramid(loaded.rgb)
    name = req.name or (req.path.name if req.path else "Pasted image")
    return OpenedPhoto(loaded, pyramid, name, time.perf_counter() - t0)


# -- remove background -------------------------------------------------------------------------


@dataclass
class RemoveRequest:
    photo_id: int
    rgb: np.ndarray  # what the network sees (see pipeline.model_input)
    model_path: Path
    convention: str | None = None
    second_pass: bool = False  # re-predict the subject with the click model (core/second_pass.py)


@dataclass
class RemoveResult:
    photo_id: int
    mask: np.ndarray  # uint8 HxW
    seconds: float
    model_name: str
    provider: str
    description: str
    second_pass_model: str = ""  # the click model's name when the second pass ran, else ""

    def summary(self) -> str:
        """What produced the mask, for the status bar: "seednet-lite0 + second pass (seedclick-lite0)"."""
        extra = f" + second pass ({self.second_pass_model})" if self.second_pass_model else ""
        return f"{self.model_name}{extra}"


def remove_background(req: RemoveRequest, token: CancelToken) -> RemoveResult:
    """Run the model step by step so a cancel can terminate onnxruntime mid-inference."""
    t0 = time.perf_counter()
    seg = Segmenter(req.model_path, req.convention)
    token.raise_if_cancelled()
    x = seg.preprocess(req.rgb)
    run_options = ort.RunOptions()
    token.on_cancel(lambda: setattr(run_options, "terminate", True))
    output_name = seg.spec.output_name or seg.session.get_outputs()[seg.spec.output_index].name
    input_name = seg.spec.input_name or seg.session.get_inputs()[0].name
    try:
        (raw,) = seg.session.run([output_name], {input_name: x}, run_options)
    except Exception as exc:
        token.raise_if_cancelled()  # a terminated run raises; report it as a cancel
        raise ModelError(f"{req.model_path}: inference failed: {exc}") from exc
    token.raise_if_cancelled()
    alpha = seg.postprocess(raw, req.rgb.shape[:2])
    clicker_name = ""
    if req.second_pass:
        clicker = default_clicker()
        alpha = second_pass(clicker, req.rgb, alpha)
        token.raise_if_cancelled()
        clicker_name = clicker.spec.name or Path(clicker.model_path).stem
    mask = to_uint8_mask(alpha)
    seconds = time.perf_counter() - t0
    return RemoveResult(req.photo_id, mask, seconds, seg.spec.name, seg.provider, seg.describe(), clicker_name)


# -- adjustments -------------------------------------------------------------------------------


@dataclass
class AdjustRequest:
    serial: int
    source: np.ndarray  # frozen snapshot (MaskDocument.adjust_source)
    image: np.ndarray | None
    adjustments: Adjustments


@dataclass
class AdjustResult:
    serial: int
    change: RegionChange | None
    label: str


def adjust_mask(req: AdjustRequest, token: CancelToken) -> AdjustResult:
    change = adjustment_change(req.source, req.image, req.adjustments)
    return AdjustResult(req.serial, change, req.adjustments.label())


# -- export ------------------------------------------------------------------------------------


@dataclass
class ExportRequest:
    path: Path
    fmt: str  # png | webp | jpg
    rgb: np.ndarray
    mask: np.ndarray  # uint8 snapshot
    source_alpha: np.ndarray | None = None
    background: Background = field(default_factory=Background)
    crop: bool = False
    mask_only: bool = False


def warm_up_export() -> None:
    """Run the colour estimator once on a tiny ramp, so the first export pays no first-call
    costs. Cheap (a few ms: numpy and OpenCV, already imported); it used to import pymatting
    and numba, 1.5 s holding the GIL in ~100 ms stretches."""
    ramp = np.tile(np.linspace(0.0, 1.0, 16, dtype=np.float32), (16, 1))
    compose.estimate_foreground(np.full((16, 16, 3), 128, np.uint8), ramp)


def export_image(req: ExportRequest, token: CancelToken) -> Path:
    """Compose with the same core function as the CLI and batch, then save atomically."""
    options = RemoveOptions(background=req.background, crop=req.crop, format=req.fmt, mask_only=req.mask_only)
    alpha = req.mask.astype(np.float32) * (1.0 / 255.0)
    rendered = render(req.rgb, alpha, options, source_alpha=req.source_alpha)
    token.raise_if_cancelled()
    return save_image_atomic(req.path, rendered.image, req.fmt, background=options.jpg_background)


# -- background previews -------------------------------------------------------------------------


def background_preview(req: tuple[str, np.ndarray, np.ndarray | None, Path | None], token: CancelToken):
    """Display-sized background for the cut-out view: ("blur", rgb, mask, None) or
    ("image", rgb, None, path). Returns (kind, HxWx3 array at most ~1600 px)."""
    kind, rgb, mask, path = req
    h, w = rgb.shape[:2]
    scale = min(1.0, 1600.0 / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if kind == "blur":
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        alpha = None
        if mask is not None:
            alpha = cv2.resize(mask, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        return kind, compose.blurred_background(small, alpha)
    assert path is not None
    img = load_image(path).rgb
    return kind, compose.cover_fit(img, (size[1], size[0]))
