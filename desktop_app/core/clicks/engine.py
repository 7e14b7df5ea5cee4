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
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """Zoom box (x0, y0, x1, y1) and the float32 probability inside it.

        ``prev_mask`` is float in [0, 1] or uint8 in [0, 255] at the photo's size; only its
        crop is read, so a click on a 24 MP photo never converts every pixel. ``preview`` may
        be a downscaled copy of ``rgb``, used when a crop is large.
        """
        (x0, y0, x1, y1), small = self._predict_small(rgb, clicks, prev_mask, preview)
        prob = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        return (x0, y0, x1, y1), prob

    def predict_patch(
        self,
        rgb: np.ndarray,
        clicks: list[Click],
        prev_mask: np.ndarray | None = None,
        preview: np.ndarray | None = None,
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """The editor's path: the zoom box (x0, y0, x1, y1) and the new uint8 mask inside it.

        Outside the box the mask does not change, so the editor pastes the patch into its
        document instead of receiving (and diffing) a whole new 24 MP mask. The network's
        S x S output is quantised to uint8 before it is upscaled to the box: one uint8 resize
        instead of float resize, clip and conversion passes over millions of pixels (with
        :func:`_shrink_mask`, 249 -> ~50 ms per click on 24 MP in benchmarks/bench_models.py). Values
        differ from :meth:`predict_region` by at most one grey level.
        """
        (x0, y0, x1, y1), small = self._predict_small(rgb, clicks, prev_mask, preview)
        patch = cv2.resize((small * 255 + 0.5).astype(np.uint8), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        return (x0, y0, x1, y1), patch

    def _predict_small(
        self, rgb: np.ndarray, clicks: list[Click], prev_mask: np.ndarray | None, preview: np.ndarray | None
    ) -> tuple[tuple[int, int, int, int], np.ndarray]:
        """Zoom box and the network's probability at its S x S input, clipped to [0, 1]."""
        h, w = rgb.shape[:2]
        s = self.spec.input_size
        x0, y0, x1, y1 = zoom_box(prev_mask, clicks, (h, w), self.spec.expansion, self.spec.min_crop)
        crop = _crop_from(rgb, preview, (x0, y0, x1, y1), s)
        sx, sy = s / (x1 - x0), s / (y1 - y0)
        local = [Click((c.x - x0 + 0.5) * sx - 0.5, (c.y - y0 + 0.5) * sy - 0.5, c.positive) for c in clicks]
        prev_crop = None if prev_mask is None else _shrink_mask(prev_mask[y0:y1, x0:x1], s)
        guidance = encode_guidance(local, s, self.spec.radius, prev_crop)[None]
        x = (crop.astype(np.float32) / 255.0 - np.asarray(self.spec.mean, np.float32)) / np.asarray(
            self.spec.std, np.float32
        )
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        out = self._run_maybe_flipped(x, guidance)
        return (x0, y0, x1, y1), np.clip(out[0, 0].astype(np.float32), 0, 1)

    def _run_maybe_flipped(self, x: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        if not self.spec.flip_average:
            return self._run(x, guidance)
        plain, mirrored = self._run_pair(x, guidance, x[..., ::-1], guidance[..., ::-1])
        return (plain + mirrored[..., ::-1]) * np.float32(0.5)

    def _run_pair(self, x, g, x_mirror, g_mirror) -> tuple[np.ndarray, np.ndarray]:
        """The network on the crop and on its mirror image: here one batch of two."""
        both = self._run(np.concatenate([x, x_mirror]), np.concatenate([g, g_mirror]))
        return both[:1], both[1:2]

    def predict(
        self,
        rgb: np.ndarray,
        clicks: list[Click],
        prev_mask: np.ndarray | None = None,
        preview: np.ndarray | None = None,
    ) -> np.ndarray:
        """New float32 probability map (image size); outside the zoom box ``prev_mask`` stays."""
        (x0, y0, x1, y1), prob = self.predict_region(rgb, clicks, prev_mask, preview)
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
        self, model_path: str | os.PathLike[str], threads: int | None = None, flip_average: bool | None = None
    ):
        """``flip_average`` overrides the file's "test_time_flip" setting (None: as recorded)."""
        self.model_path = str(model_path)
        # the metadata first (read_header is cached and needs no session): it decides the threads
        spec = read_click_spec(dict(read_header(model_path).metadata), self.model_path)
        if flip_average is not None:
            spec.flip_average = flip_average
        # With mirror averaging on a multi-core machine the two passes run side by side on one
        # thread each (see _run_pair); otherwise one pass uses all the cores.
        self._side_by_side = spec.flip_average and threads is None and physical_cores() >= 2
        self.session = get_session(model_path, threads=1 if self._side_by_side else threads)
        super().__init__(spec, self._run_session)
        self.provider = active_provider(self.session)
        names = [i.name for i in self.session.get_inputs()]
        if len(names) != 2:
            raise ModelError(f"{self.model_path}: a click model has 2 inputs (image, guidance), found {names}")
        self._image_name, self._guidance_name = names

    def _run_pair(self, x, g, x_mirror, g_mirror) -> tuple[np.ndarray, np.ndarray]:
        """The crop and its mirror on two threads at once, one core each.

        A 320 px click network is a chain of small layers: one pass on two threads spends much
        of its time handing work between them, so a batch of two took 72 ms on 2 cores where
        two single-thread passes side by side take 51 ms (AVX2 EPYC, session 15). The mirror
        runs on a persistent helper thread (onnxruntime releases the GIL), never one per click.
        """
        if not self._side_by_side:
            return super()._run_pair(x, g, x_mirror, g_mirror)
        mirrored = _mirror_pool().submit(self._run, np.ascontiguousarray(x_mirror), np.ascontiguousarray(g_mirror))
        plain = self._run(x, g)
        return plain, mirrored.result()

    def _run_session(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        try:
            (out,) = self.session.run(None, {self._image_name: image, self._guidance_name: guidance})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.model_path}: inference failed: {exc}") from exc
        if not np.isfinite(out).all():  # NaN would be clipped into a silently empty mask
            raise ModelError(f"{self.model_path}: the click model produced non-finite values (NaN or inf)")
        return out


@functools.cache
def _mirror_pool() -> ThreadPoolExecutor:
    """The one helper thread that runs mirrored passes (created on first use, kept)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="click-mirror")


def _shrink_mask(window: np.ndarray, size: int) -> np.ndarray:
    """A uint8 [0, 255] or float [0, 1] mask window as a float32 [0, 1] size x size map.

    Area averaging reads every pixel of the window: ~40 ms for a 4800 x 4000 box on a 24 MP
    photo, half of a click's budget. Windows more than 4x the target are first point-sampled
    to 2x it (reading only those pixels), then area-averaged, which keeps the guidance map's
    soft edges; windows of ordinary photos (Berkeley, the evaluation) take the exact path.
    """
    if max(window.shape) > 4 * size:
        window = cv2.resize(window, (2 * size, 2 * size), interpolation=cv2.INTER_NEAREST)
    if window.dtype == np.uint8:  # shrink first, convert the S x S result only
        return cv2.resize(window, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return cv2.resize(window.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)


def _crop_from(rgb: np.ndarray, preview: np.ndarray | None, box, size: int) -> np.ndarray:
    """The crop resized to size x size, taken from ``preview`` when it has enough pixels."""
    x0, y0, x1, y1 = box
    src, scale = rgb, 1.0
    if preview is not None and preview.shape[0] < rgb.shape[0]:
        pscale = preview.shape[0] / rgb.shape[0]
        if (x1 - x0) * pscale >= 2 * size:  # preview still oversamples the crop
            src, scale = preview, pscale
    c = src[
        int(y0 * scale) : max(int(y0 * scale) + 1, int(y1 * scale)),
        int(x0 * scale) : max(int(x0 * scale) + 1, int(x1 * scale)),
    ]
    interp = cv2.INTER_AREA if c.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(c, (size, size), interpolation=interp)
