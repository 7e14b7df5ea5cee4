"""Photo -> alpha matte with an ONNX segmentation model, at the photo's own resolution.

The steps mirror :class:`~desktop_app.core.models.ModelSpec` one to one (resize, scale,
mean/std, channel order, output choice, activation, min-max, resize back) so a test can check
each one exactly with a tiny model whose output is a known function of its input.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

import cv2
import numpy as np

from desktop_app.core.errors import ModelError
from desktop_app.core.models import ModelSpec, load_spec, resolve_convention
from desktop_app.core.refine import guided_upsample, hard_threshold
from desktop_app.core.session import active_provider, get_session


def resize_to(image: np.ndarray, size_hw: tuple[int, int], interpolation: int | None = None) -> np.ndarray:
    """Resize with INTER_AREA when shrinking (no aliasing) and INTER_LINEAR when enlarging."""
    h, w = image.shape[:2]
    th, tw = size_hw
    if (h, w) == (th, tw):
        return image
    if interpolation is None:
        interpolation = cv2.INTER_AREA if th <= h and tw <= w else cv2.INTER_LINEAR
    return cv2.resize(image, (tw, th), interpolation=interpolation)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Written as 0.5*(1+tanh(x/2)): same function, no overflow warning for large |x|.
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


class Segmenter:
    """A loaded segmentation model.

    ``Segmenter(path)`` detects the convention; ``spec_override`` is either a convention name
    (``"isnet"``) or a full :class:`ModelSpec`. ``provider`` tells which onnxruntime provider
    runs it (show it to users: "CPU" vs "CUDA" explains speed). Instances are cheap: the
    onnxruntime session is shared through the session cache. ``predict`` is thread-safe.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        spec_override: str | ModelSpec | None = None,
        providers: list[str] | None = None,
        threads: int | None = None,
        flip_average: bool | None = None,
    ) -> None:
        if isinstance(spec_override, ModelSpec):
            self.spec = spec_override
        else:
            if spec_override is not None:
                resolve_convention(spec_override)
            self.spec = load_spec(model_path, spec_override)
        self.model_path = str(model_path)
        self._providers = providers
        self.session = get_session(model_path, providers=providers, threads=threads)
        self.provider = active_provider(self.session)
        self._output_name = self.spec.output_name or self.session.get_outputs()[self.spec.output_index].name
        self._input_name = self.spec.input_name or self.session.get_inputs()[0].name
        # Half-precision exports (e.g. rembg's birefnet-general-fp16) take float16 input.
        self._input_dtype = np.float16 if self.session.get_inputs()[0].type == "tensor(float16)" else np.float32
        # Mirror averaging: the map for the photo and for its mirror image, averaged. Our exports
        # record in their metadata whether they were validated this way ("test_time_flip");
        # ``flip_average`` overrides that (None: as the file says).
        recorded = bool(self.spec.extra.get("test_time_flip", False))
        self.flip_average = recorded if flip_average is None else flip_average

    def with_threads(self, threads: int) -> Segmenter:
        """The same model, spec and mirror setting on a session with ``threads`` intra-op threads
        (the batch engine's data-parallel lanes use single-threaded sessions)."""
        twin = copy.copy(self)  # keeps a subclass's behaviour (and every setting) with the new session
        twin.session = get_session(self.model_path, providers=self._providers, threads=threads)
        twin.provider = active_provider(twin.session)
        return twin

    # ---------------------------------------------------------------- steps (public for tests)

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 HxWx3 -> float32 1x3xHxW network input, exactly per the spec."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        if rgb.shape[0] == 0 or rgb.shape[1] == 0:  # OpenCV's resize would assert on it
            raise ValueError(f"the image has no pixels ({rgb.shape[1]}x{rgb.shape[0]})")
        small = resize_to(rgb, self.spec.network_size(rgb.shape[0], rgb.shape[1]))
        # (x * scale - mean) / std as one multiply-add per channel, written straight into the
        # planar NCHW array instead of whole-array steps plus a transposing copy: the whole
        # preparation 3.5 -> 1.75 ms of CPU per SOD photo at 320 px, same values to float rounding
        scale = 1.0 / max(float(small.max()), 1e-6) if self.spec.scale == "image-max" else 1.0 / 255.0
        std = np.asarray(self.spec.std, np.float64)
        gain, offset = scale / std, -np.asarray(self.spec.mean, np.float64) / std
        order = (2, 1, 0) if self.spec.channel_order == "BGR" else (0, 1, 2)
        x = np.empty((1, 3, *small.shape[:2]), np.float32)
        for dst, src in enumerate(order):
            np.multiply(small[:, :, src], np.float32(gain[src]), out=x[0, dst], casting="unsafe")
            x[0, dst] += np.float32(offset[src])
        return x if self._input_dtype == np.float32 else x.astype(self._input_dtype)

    def postprocess(self, raw: np.ndarray, size_hw: tuple[int, int] | None) -> np.ndarray:
        """One raw output map (1xHxW, HxW, 1x1xHxW or HxWx1) -> float32 alpha at ``size_hw``.

        ``size_hw=None`` keeps the model's resolution (for guided upsampling).
        """
        m = np.asarray(raw, dtype=np.float32)
        while m.ndim > 2 and m.shape[0] == 1:
            m = m[0]
        if m.ndim == 3 and m.shape[-1] == 1:
            m = m[..., 0]
        if m.ndim == 3:  # several channels: channel 0 is the foreground map in every family we know
            m = m[0]
        if m.ndim != 2:
            raise ModelError(f"{self.model_path}: output has shape {raw.shape}; cannot read a mask from it")
        if self.spec.activation == "sigmoid":
            m = _sigmoid(m)
        if self.spec.minmax:
            lo, hi = float(m.min()), float(m.max())
            m = (m - lo) / (hi - lo) if hi - lo > 1e-8 else np.zeros_like(m)
        m = np.clip(m, 0.0, 1.0).astype(np.float32, copy=False)
        if size_hw is None:
            return m
        out = resize_to(m, size_hw)
        return np.clip(out, 0.0, 1.0, out=out) if out is not m else out

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the network on an Nx3xHxW batch; returns the selected output (N, ...)."""
        try:
            (out,) = self.session.run([self._output_name], {self._input_name: batch})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.model_path}: inference failed: {exc}") from exc
        if np.issubdtype(np.asarray(out).dtype, np.floating) and not np.isfinite(out).all():
            # NaN would become alpha 0 after clipping: a "successful", fully transparent cut-out.
            bad = int(np.count_nonzero(~np.isfinite(out)))
            raise ModelError(
                f"{self.model_path}: the model produced non-finite values (NaN or inf) in {bad} of "
                f"{np.asarray(out).size} outputs; the model file is broken or does not suit this photo"
            )
        return out

    def run_averaged(self, batch: np.ndarray) -> np.ndarray:
        """:meth:`run`, averaged with the mirrored input's output when ``flip_average`` is on.

        Both halves go through one network call when the batch dimension is dynamic. Only
        N x C x H x W outputs at the input's width are mirrored back; any other output shape
        (a third-party layout) is returned from the plain pass.
        """
        if not self.flip_average:
            return self.run(batch)
        mirrored = np.ascontiguousarray(batch[..., ::-1])
        if self.spec.dynamic_batch:
            both = self.run(np.concatenate([batch, mirrored]))
            plain, flipped = both[: len(batch)], both[len(batch) :]
        else:
            plain, flipped = self.run(batch), self.run(mirrored)
        if plain.ndim != 4 or plain.shape[-1] != batch.shape[-1]:
            return plain
        return (plain.astype(np.float32) + flipped[..., ::-1]) * np.float32(0.5)

    # ---------------------------------------------------------------- main API

    def predict(self, rgb: np.ndarray, refine: bool = False, threshold: float | None = None) -> np.ndarray:
        """Alpha matte (float32 HxW in [0, 1]) for an RGB uint8 photo at its own resolution."""
        return self.predict_batch([rgb], refine=refine, threshold=threshold)[0]

    def predict_batch(
        self, images: Sequence[np.ndarray], refine: bool = False, threshold: float | None = None
    ) -> list[np.ndarray]:
        """Like :meth:`predict` for several photos; one network call when the batch dim is dynamic.

        Per-image steps (min-max, resize back, refinement) stay per image, so results equal
        calling :meth:`predict` on each.
        """
        if not images:
            return []
        inputs = [self.preprocess(im) for im in images]
        raws: list[np.ndarray | None] = [None] * len(inputs)
        if self.spec.dynamic_batch and len(inputs) > 1:
            # One network call per input shape (keep-aspect models give 3:2 and 2:3 photos
            # different shapes; a camera's photos usually share one).
            groups: dict[tuple[int, ...], list[int]] = {}
            for i, x in enumerate(inputs):
                groups.setdefault(x.shape, []).append(i)
            for members in groups.values():
                raw = self.run_averaged(np.concatenate([inputs[i] for i in members], axis=0))
                for j, i in enumerate(members):
                    raws[i] = raw[j : j + 1]
        else:
            raws = [self.run_averaged(x) for x in inputs]
        alphas = []
        for im, r in zip(images, raws, strict=True):
            if refine and (r.shape[-2] < im.shape[0] or r.shape[-1] < im.shape[1]):
                a = guided_upsample(im, self.postprocess(r, None))
            else:
                a = self.postprocess(r, im.shape[:2])
            if threshold is not None:
                a = hard_threshold(a, threshold)
            alphas.append(a)
        return alphas

    def describe(self) -> str:
        """One line for status bars and the CLI summary."""
        s = self.spec
        return f"{s.name} ({s.convention}, {s.describe_size()}, {self.provider})"
