"""Point-and-click segmentation with a learned click model (RITM-style), Qt-free.

The model sees a square crop of the photo plus three guidance maps (positive clicks, negative
clicks, previous mask) and predicts the object's mask in that crop. Following RITM's "ZoomIn",
after the first click the crop hugs the current object (its box grown by ``expansion``), so a
click costs the same on a 24 MP photo as on a thumbnail and small objects get full detail.

The guidance encoding lives here and only here: the training package imports
:func:`encode_guidance` so the app feeds the network exactly what it was trained on.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core import model_meta as mm
from desktop_app.core.clicks.crops import crop_from, shrink_mask
from desktop_app.core.clicks.focus import (
    DEFAULT_FOCUS_FRACTION,
    blend,
    coarse_under,
    feather_weights,
    focus_box,
    keep_old,
    paste_small,
    refused_changes,
    scale_box,
    shift_box,
)
from desktop_app.core.compose import alpha_to_u8
from desktop_app.core.errors import ModelError
from desktop_app.core.models import embedded_models, user_models
from desktop_app.core.onnx_inspect import read_header
from desktop_app.core.session import active_provider, get_session, physical_cores

DEFAULT_RADIUS_FRACTION = 1 / 64  # click disk radius relative to the network input side
DEFAULT_EXPANSION = 1.4
DEFAULT_MIN_CROP = 0.2  # smallest crop side as a fraction of the image's longer side


def find_click_model(paths: Iterable[str | os.PathLike[str]] | None = None) -> Path | None:
    """The first file in ``paths`` (default: the embedded, then the user's models) whose
    metadata says it is a click model, or None. Shared by the editor, `clicks eval` and the
    benchmarks so they all pick the same file."""
    candidates = [*embedded_models(), *user_models()] if paths is None else paths
    for path in candidates:
        try:
            if read_header(path).metadata.get(mm.KEY_KIND) == mm.KIND_CLICKS:
                return Path(path)
        except Exception:  # unreadable files are reported by the model chooser / `models`
            continue
    return None


@dataclass(frozen=True)
class Click:
    """A click in image pixel coordinates (x right, y down); positive = part of the object."""

    x: float
    y: float
    positive: bool = True


def encode_guidance(clicks: list[Click], size: int, radius: float, prev_mask: np.ndarray | None = None) -> np.ndarray:
    """(3, size, size) float32: positive-click disks, negative-click disks, previous mask.

    ``clicks`` are already in the ``size`` x ``size`` input's coordinates.
    """
    maps = np.zeros((3, size, size), np.float32)
    r = max(1, round(radius))
    for c in clicks:
        cv2.circle(maps[0 if c.positive else 1], (round(c.x), round(c.y)), r, 1.0, -1)
    if prev_mask is not None:
        maps[2] = prev_mask
    return maps


def zoom_box(
    prev_mask: np.ndarray | None,
    clicks: list[Click],
    shape: tuple[int, int],
    expansion: float = DEFAULT_EXPANSION,
    min_crop: float = DEFAULT_MIN_CROP,
) -> tuple[int, int, int, int]:
    """Square crop (x0, y0, x1, y1) around the object and the clicks.

    ``prev_mask`` is bool, float in [0, 1] (object where >= 0.5) or uint8 in [0, 255] (object
    where >= 128). With no mask, or an empty one, the whole image is used (the first click
    must see context).
    """
    h, w = shape
    if prev_mask is None:
        return 0, 0, w, h
    # cv2.boundingRect scans a binary image once without building index arrays (np.nonzero on
    # a 24 MP mask with a large subject cost ~100 ms per click); it returns 0 x 0 when empty
    mx, my, mw, mh = cv2.boundingRect(_binary_u8(prev_mask))
    if mw == 0:
        return 0, 0, w, h
    px = np.asarray([mx, mx + mw - 1, *(c.x for c in clicks)], np.float64)
    py = np.asarray([my, my + mh - 1, *(c.y for c in clicks)], np.float64)
    cx, cy = (px.min() + px.max()) / 2, (py.min() + py.max()) / 2
    side = max(px.max() - px.min() + 1, py.max() - py.min() + 1) * expansion
    side = min(max(side, min_crop * max(h, w)), max(h, w))
    x0 = round(min(max(cx - side / 2, 0), max(w - side, 0)))
    y0 = round(min(max(cy - side / 2, 0), max(h - side, 0)))
    return x0, y0, min(w, round(x0 + side)), min(h, round(y0 + side))


def _binary_u8(mask: np.ndarray) -> np.ndarray:
    """The object as a uint8 0/1 image in one pass (cv2.threshold for uint8 is SIMD)."""
    if mask.dtype == np.bool_:
        return np.ascontiguousarray(mask).view(np.uint8)
    if mask.dtype == np.uint8:
        return cv2.threshold(np.ascontiguousarray(mask), 127, 1, cv2.THRESH_BINARY)[1]
    return np.ascontiguousarray(mask >= 0.5).view(np.uint8)


@dataclass
class ClickModelSpec:
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    radius: float
    expansion: float = DEFAULT_EXPANSION
    min_crop: float = DEFAULT_MIN_CROP
    metrics: dict = field(default_factory=dict)
    name: str = ""
    # Average the prediction with that of the mirrored input (one batch of two). Boundaries are
    # where NoC@90 is lost; mirroring cancels part of the network's boundary noise for ~1.6x
    # the time of one pass. Set by the file's metadata ("test_time_flip"), which records the
    # metrics measured that way.
    flip_average: bool = False
    # Share of the zoom box's side that the focus crop around the newest click takes (0: off);
    # see core/clicks/focus.py. Files may record their own ("focus_fraction").
    focus_fraction: float = DEFAULT_FOCUS_FRACTION


def read_click_spec(props: dict[str, str], path: str) -> ClickModelSpec:
    if props.get(mm.KEY_KIND) != mm.KIND_CLICKS:
        raise ModelError(f"{path}: not a click-segmentation model (kind={props.get(mm.KEY_KIND)!r})")
    try:
        h, w = (int(v) for v in props[mm.KEY_INPUT_SIZE].split(","))
        extra = mm.parse_json(props, mm.KEY_EXTRA)
        if h != w:
            raise ValueError("click models take a square input")
        return ClickModelSpec(
            input_size=h,
            mean=mm.parse_floats(props[mm.KEY_MEAN]),
            std=mm.parse_floats(props[mm.KEY_STD]),
            radius=float(extra.get("click_radius", h * DEFAULT_RADIUS_FRACTION)),
            expansion=float(extra.get("zoom_expansion", DEFAULT_EXPANSION)),
            min_crop=float(extra.get("zoom_min_crop", DEFAULT_MIN_CROP)),
            flip_average=bool(extra.get("test_time_flip", False)),
            focus_fraction=float(extra.get("focus_fraction", DEFAULT_FOCUS_FRACTION)),
            metrics=mm.parse_json(props, mm.KEY_METRICS),
            name=props.get(mm.KEY_NAME, os.path.basename(path)),
        )
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: click-model metadata is incomplete or invalid ({exc})") from exc


class ClickPredictor:
    """Zoom-in crop, guidance encoding and pasting back around any network ``run`` function.

    ``run(image_nchw, guidance_nchw) -> probability (N,1,S,S)``: onnxruntime in the app
    (:class:`ClickSegmenter`), PyTorch during training-time validation, so both measure the
    same procedure.
    """

    def __init__(self, spec: ClickModelSpec, run: Callable[[np.ndarray, np.ndarray], np.ndarray]):
        self.spec, self._run = spec, run

    def predict_region(
        self,
        rgb: np.ndarray,
        clicks: list[Click],
        prev_mask: np.ndarray | None = None,
        preview: np.ndarray | None = None,
        *,
        local: bool = False,
        focus: bool = True,
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """Zoom box (x0, y0, x1, y1) and the float32 probability inside it.

        ``prev_mask`` is float in [0, 1] or uint8 in [0, 255] at the photo's size; only its
        crop is read, so a click on a 24 MP photo never converts every pixel. ``preview`` may
        be a downscaled copy of ``rgb``, used when a crop is large. ``local`` applies
        progressive merge (only the change under the newest click); ``focus=False`` skips the
        focus crop (see :mod:`desktop_app.core.clicks.focus`).
        """
        return self._predict_box(rgb, clicks, prev_mask, preview, local, focus, as_u8=False)

    def predict_patch(
        self,
        rgb: np.ndarray,
        clicks: list[Click],
        prev_mask: np.ndarray | None = None,
        preview: np.ndarray | None = None,
        *,
        local: bool = False,
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """The editor's path: the zoom box (x0, y0, x1, y1) and the new uint8 mask inside it.

        Outside the box the mask does not change, so the editor pastes the patch into its
        document instead of receiving (and diffing) a whole new 24 MP mask. The network's
        S x S output is quantised to uint8 before it is upscaled to the box: one uint8 resize
        instead of float resize, clip and conversion passes over millions of pixels (with
        ``crops.shrink_mask``, 249 -> ~50 ms per click on 24 MP in benchmarks/bench_models.py).
        Values differ from :meth:`predict_region` by at most one grey level.
        """
        return self._predict_box(rgb, clicks, prev_mask, preview, local, True, as_u8=True)

    def _predict_box(self, rgb, clicks, prev_mask, preview, local: bool, focus: bool, as_u8: bool):
        """Coarse pass on the zoom box, focus pass around the newest click, merge."""
        h, w = rgb.shape[:2]
        s = self.spec.input_size
        zoom = zoom_box(prev_mask, clicks, (h, w), self.spec.expansion, self.spec.min_crop)
        x0, y0, x1, y1 = zoom
        prev_small = None if prev_mask is None else shrink_mask(prev_mask[y0:y1, x0:x1], s)
        newest = clicks[-1]
        fbox = None
        if focus and prev_mask is not None:
            fbox = focus_box(zoom, newest.x, newest.y, self.spec.focus_fraction, s)
        coarse_in = self._inputs(rgb, preview, zoom, clicks, prev_small)
        if fbox is None:
            small, focus_small = self._run_maybe_flipped(*coarse_in)[0, 0], None
        else:
            fprev = shrink_mask(prev_mask[fbox[1] : fbox[3], fbox[0] : fbox[2]], s)
            plain, focused = self._run_pair(*coarse_in, *self._inputs(rgb, preview, fbox, clicks, fprev))
            small, focus_small = plain[0, 0], focused[0, 0]
        small = np.clip(small.astype(np.float32), 0, 1)
        size = (x1 - x0, y1 - y0)
        to_dtype = alpha_to_u8 if as_u8 else (lambda a: a)
        out = cv2.resize(to_dtype(small), size, interpolation=cv2.INTER_LINEAR)
        near = None  # the focus box at the network's resolution (its changes are the click's own)
        if fbox is not None:
            inside = shift_box(fbox, x0, y0)
            near = scale_box(inside, s / size[0], s / size[1])
            # Blend at the network's resolution, upscale once: the coarse answer inside the focus
            # box is itself an upscale of ``small``, so nothing is lost, and a 24 MP photo pays one
            # uint8 resize of the focus box instead of float weights and a blend over it.
            focus_small = np.clip(focus_small.astype(np.float32), 0, 1)
            merged = blend(focus_small, coarse_under(small, near, s), feather_weights(s, fbox, zoom))
            fx0, fy0, fx1, fy1 = inside
            out[fy0:fy1, fx0:fx1] = cv2.resize(to_dtype(merged), (fx1 - fx0, fy1 - fy0), interpolation=cv2.INTER_LINEAR)
            if local:  # the merge decides on the composite, at the network's resolution
                small = paste_small(small, merged, near)
        if local and prev_small is not None:
            cx, cy = (newest.x - x0 + 0.5) * s / size[0] - 0.5, (newest.y - y0 + 0.5) * s / size[1] - 0.5
            refused = refused_changes(small, prev_small, cx, cy, self.spec.radius, near)
            if refused.any():
                out = keep_old(out, prev_mask[y0:y1, x0:x1], refused)
        return zoom, out

    def _inputs(self, rgb, preview, box, clicks: list[Click], prev_small: np.ndarray | None):
        """Normalised S x S crop of ``box`` (NCHW) and its guidance maps."""
        s = self.spec.input_size
        x0, y0, x1, y1 = box
        crop = crop_from(rgb, preview, box, s)
        sx, sy = s / (x1 - x0), s / (y1 - y0)
        local = [Click((c.x - x0 + 0.5) * sx - 0.5, (c.y - y0 + 0.5) * sy - 0.5, c.positive) for c in clicks]
        guidance = encode_guidance(local, s, self.spec.radius, prev_small)[None]
        # (pixel / 255 - mean) / std, written channel by channel straight into the NCHW input:
        # no float HWC temporaries and no transpose copy (two crops per click)
        std = np.asarray(self.spec.std, np.float32)
        scale, shift = 1 / (255 * std), np.asarray(self.spec.mean, np.float32) / std
        x = np.empty((1, 3, s, s), np.float32)
        for c in range(3):
            np.multiply(crop[..., c], scale[c], out=x[0, c], casting="unsafe")
            x[0, c] -= shift[c]
        return x, guidance

    def _run_maybe_flipped(self, x: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        if not self.spec.flip_average:
            return self._run(x, guidance)
        plain, mirrored = self._run_pair(x, guidance, x[..., ::-1], guidance[..., ::-1])
        return (plain + mirrored[..., ::-1]) * np.float32(0.5)

    def _run_pair(self, x, g, x_other, g_other) -> tuple[np.ndarray, np.ndarray]:
        """The network on two inputs of the same size (the crop and its mirror, or the zoom
        crop and the focus crop): here one batch of two."""
        both = self._run(np.concatenate([x, x_other]), np.concatenate([g, g_other]))
        return both[:1], both[1:2]

    def predict(
        self,
        rgb: np.ndarray,
        clicks: list[Click],
        prev_mask: np.ndarray | None = None,
        preview: np.ndarray | None = None,
        *,
        local: bool = False,
    ) -> np.ndarray:
        """New float32 probability map (image size); outside the zoom box ``prev_mask`` stays."""
        (x0, y0, x1, y1), prob = self.predict_region(rgb, clicks, prev_mask, preview, local=local)
        h, w = rgb.shape[:2]
        if prev_mask is None:
            result = np.zeros((h, w), np.float32)
        elif prev_mask.dtype == np.uint8:
            result = prev_mask.astype(np.float32) / 255
        else:
            result = prev_mask.astype(np.float32)  # always a copy
        result[y0:y1, x0:x1] = prob
        return result


class ClickSegmenter(ClickPredictor):
    """A click model ONNX file (our metadata required) run by onnxruntime."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        threads: int | None = None,
        flip_average: bool | None = None,
        focus: bool | None = None,
    ):
        """``flip_average`` overrides the file's "test_time_flip" setting and ``focus=False``
        turns the focus crop off (None: as recorded)."""
        self.model_path = str(model_path)
        # the metadata first (read_header is cached and needs no session): it decides the threads
        spec = read_click_spec(dict(read_header(model_path).metadata), self.model_path)
        if flip_average is not None:
            spec.flip_average = flip_average
        if focus is False:
            spec.focus_fraction = 0.0
        # Mirror averaging and the focus crop make two passes per click; on a multi-core machine
        # they run side by side on one thread each (see _run_pair); otherwise one pass uses all
        # the cores.
        two_passes = spec.flip_average or spec.focus_fraction > 0
        self._side_by_side = two_passes and threads is None and physical_cores() >= 2
        self.session = get_session(model_path, threads=1 if self._side_by_side else threads)
        super().__init__(spec, self._run_session)
        self.provider = active_provider(self.session)
        names = [i.name for i in self.session.get_inputs()]
        if len(names) != 2:
            raise ModelError(f"{self.model_path}: a click model has 2 inputs (image, guidance), found {names}")
        self._image_name, self._guidance_name = names

    def _run_pair(self, x, g, x_other, g_other) -> tuple[np.ndarray, np.ndarray]:
        """Two passes (the crop and its mirror, or the zoom and the focus crop) on two threads
        at once, one core each.

        A 320 px click network is a chain of small layers: one pass on two threads spends much
        of its time handing work between them, so a batch of two took 72 ms on 2 cores where
        two single-thread passes side by side take 51 ms (AVX2 EPYC, session 15). The second
        pass runs on a persistent helper thread (onnxruntime releases the GIL), never one per click.
        """
        if not self._side_by_side:
            return super()._run_pair(x, g, x_other, g_other)
        other = _side_pool().submit(self._run, np.ascontiguousarray(x_other), np.ascontiguousarray(g_other))
        plain = self._run(x, g)
        return plain, other.result()

    def _run_session(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        try:
            (out,) = self.session.run(None, {self._image_name: image, self._guidance_name: guidance})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.model_path}: inference failed: {exc}") from exc
        if not np.isfinite(out).all():  # NaN would be clipped into a silently empty mask
            raise ModelError(f"{self.model_path}: the click model produced non-finite values (NaN or inf)")
        return out


@functools.cache
def _side_pool() -> ThreadPoolExecutor:
    """The one helper thread that runs second passes (created on first use, kept)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="click-side")
