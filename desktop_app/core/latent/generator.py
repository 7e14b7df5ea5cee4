"""Latent-space logic of the latent sliders: models, directions and prior samples (no Qt, no torch).

Saved points and paths between them live in ``points``.

A generator is an ONNX decoder ``z (N x D) -> image`` plus, optionally, an encoder
``image -> (mean, log-variance)``. Our exported files carry the latent description in
``extra`` (see ``training.gen.export``): PCA directions d_k of the data, their standard
deviations sigma_k and the data mean. A slider value v on direction k moves the current *base*
point by exactly ``v * sigma_k * d_k``, so every slider spans the data alike ("+-3 sigma").

A file without our metadata whose input is one vector can still be explored with random
orthonormal directions (sigma 1, mean 0): useful for third-party GAN/VAE decoders. The GUI
offers that explicitly because the results are less meaningful than PCA directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from desktop_app.core import model_meta as mm
from desktop_app.core.errors import ModelError
from desktop_app.core.latent.frames import ANIMATION_SUFFIXES, save_frames, upscale  # noqa: F401 (re-exported)
from desktop_app.core.latent.mixture import MixturePrior
from desktop_app.core.models import models_dir
from desktop_app.core.onnx_inspect import ModelHeader, read_header
from desktop_app.core.session import get_session

DEFAULT_GENERATOR = "emoji-vae"


class GeneratorError(ModelError):
    """A file cannot be used as a generator, or a latent point does not fit the model."""


class MissingGeneratorMetadata(GeneratorError):
    """No latent metadata; ``vector_size`` is set when random directions could be used."""

    def __init__(self, message: str, vector_size: int | None):
        super().__init__(message)
        self.vector_size = vector_size  # None: the graph's input is not a single vector


@dataclass(frozen=True)
class LatentSpace:
    """Where sliders move: ``z = base + sum_k v_k * sigmas[k] * directions[k]``."""

    mean: np.ndarray  # (D,)
    directions: np.ndarray  # (K, D), orthonormal rows
    sigmas: np.ndarray  # (K,)
    explained: tuple[float, ...] = ()
    synthetic: bool = False  # random directions, not learned from data
    fit_directions: np.ndarray | None = None  # all principal directions (D x D) of the data...
    fit_sigmas: np.ndarray | None = None  # ...and their standard deviations: a Gaussian fit
    mixture: MixturePrior | None = None  # a Gaussian mixture fit: preferred for random points

    @property
    def size(self) -> int:
        return int(self.mean.shape[0])

    @property
    def count(self) -> int:
        return int(self.directions.shape[0])

    def move(self, base: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``base`` moved by every non-zero slider value (float64, shape (D,))."""
        z = np.array(base, np.float64, copy=True)
        for k, v in enumerate(np.asarray(values, np.float64)):
            if v:
                z += v * self.sigmas[k] * self.directions[k]
        return z

    @property
    def has_fit(self) -> bool:
        return self.fit_sigmas is not None or self.mixture is not None

    def sample(self, seed: int, temperature: float = 1.0, fitted: bool = True) -> np.ndarray:
        """A reproducible random point: from the VAE's prior N(0, T² I), or (``fitted``, when the
        model has one) from the fit to the encoded training set: the Gaussian mixture if the file
        has it, else the single Gaussian. The encoder's means spread far wider than the prior
        and cluster, so prior samples crowd round the blurry centre; samples from the fit look
        like the data (ex-post density estimation, Ghosh et al. 2020; see mixture).
        """
        if fitted and self.mixture is not None:
            return self.mixture.sample(seed, temperature)
        eps = sample_prior(self.size, seed, temperature)
        if not fitted or self.fit_sigmas is None or self.fit_directions is None:
            return eps
        k = len(self.fit_sigmas)
        return self.mean + (eps[:k] * self.fit_sigmas) @ self.fit_directions

    @classmethod
    def random(cls, size: int, count: int = 16, seed: int = 0) -> LatentSpace:
        """``count`` random orthonormal directions (QR of a Gaussian matrix), sigma 1, mean 0."""
        count = min(count, size)
        q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, count)))
        q = q * np.sign(np.diag(r))  # unique, well-defined QR
        return cls(np.zeros(size), q.T.copy(), np.ones(count), synthetic=True)

    @classmethod
    def from_extra(cls, extra: dict, where: str) -> LatentSpace:
        try:
            size = int(extra["latent_size"])
            mean = np.asarray(extra.get("latent_mean", [0.0] * size), np.float64)
            dirs = np.asarray(extra["directions"], np.float64).reshape(-1, size)
            sigmas = np.asarray(extra["sigmas"], np.float64)
            fit_s = np.asarray(extra["fit_sigmas"], np.float64) if "fit_sigmas" in extra else None
            fit_d = np.asarray(extra["fit_directions"], np.float64).reshape(-1, size) if fit_s is not None else None
            mixture = MixturePrior.from_extra(extra["mixture"], size) if "mixture" in extra else None
        except (KeyError, TypeError, ValueError) as exc:  # MixtureError is a ValueError
            raise GeneratorError(f"{where}: latent metadata is incomplete or malformed ({exc})") from exc
        if (
            mean.shape != (size,)
            or sigmas.shape != (dirs.shape[0],)
            or (fit_s is not None and fit_d is not None and fit_s.shape != (fit_d.shape[0],))
        ):
            raise GeneratorError(f"{where}: latent metadata sizes disagree (mean, directions, sigmas)")
        explained = tuple(float(e) for e in extra.get("explained_variance", ()))
        return cls(mean, dirs, sigmas, explained, fit_directions=fit_d, fit_sigmas=fit_s, mixture=mixture)


@dataclass(frozen=True)
class GeneratorInfo:
    path: Path
    name: str
    space: LatentSpace
    image_size: tuple[int, int] | None  # (H, W); None until known for third-party files
    encoder_path: Path | None = None
    version: str = ""
    metrics: dict = field(default_factory=dict)
    training_data: str = ""
    output_range: tuple[float, float] = (0.0, 1.0)
    kind: str = "vae"  # "vae", "gan", or "unknown" (a third-party file)
    direction_names: tuple[str, ...] = ()  # default slider names ("" = unnamed) from the metadata
    direction_source: str = ""

    @property
    def kind_label(self) -> str:
        return {"vae": "VAE", "gan": "GAN"}.get(self.kind, "generator")

    @property
    def draw_word(self) -> str:
        """What scaling the random draw is called for this kind: a GAN's is the truncation."""
        return "truncation" if self.kind == "gan" else "temperature"

    @property
    def latent_size(self) -> int:
        return self.space.size

    @property
    def key(self) -> str:
        """Identity for per-model settings (slider names): name + version, else the file name."""
        return f"{self.name}@{self.version}" if self.version else self.path.name


def _vector_size(header: ModelHeader) -> int | None:
    """D if the graph takes exactly one float vector (N x D or D) with a fixed D."""
    shape = header.inputs[0].shape if len(header.inputs) == 1 else None
    ok = shape is not None and len(shape) in (1, 2) and isinstance(shape[-1], int) and shape[-1] > 0
    return int(shape[-1]) if ok else None


def read_generator_info(path: str | Path, random_directions: int = 0, seed: int = 0) -> GeneratorInfo:
    """Describe a generator decoder (an encoder file is followed to its decoder).

    ``random_directions`` > 0 accepts a file without our metadata if its input is a vector.
    Raises :class:`MissingGeneratorMetadata` / :class:`GeneratorError` with readable text.
    """
    header = read_header(path)
    md, p = header.metadata, Path(path)
    kind = md.get(mm.KEY_KIND, "")
    if kind == mm.KIND_GENERATOR_ENCODER:
        pair = mm.parse_json(md, mm.KEY_EXTRA).get("decoder")
        if pair and (p.parent / pair).is_file():
            return read_generator_info(p.parent / pair, random_directions, seed)
        raise GeneratorError(f"{p.name}: this is a generator *encoder*; open its decoder file instead")
    if kind == mm.KIND_GENERATOR_DECODER:
        try:
            extra = mm.parse_json(md, mm.KEY_EXTRA)
            metrics = mm.parse_json(md, mm.KEY_METRICS)
        except ValueError as exc:
            raise GeneratorError(f"{p.name}: unreadable generator metadata ({exc})") from exc
        space = LatentSpace.from_extra(extra, p.name)
        size = mm.parse_floats(md.get(mm.KEY_INPUT_SIZE, "")) or extra.get("image_size")
        enc = extra.get("encoder")
        return GeneratorInfo(
            path=p,
            name=md.get(mm.KEY_NAME, p.stem),
            space=space,
            image_size=(int(size[0]), int(size[1])) if size else None,
            encoder_path=p.parent / enc if enc and (p.parent / enc).is_file() else None,
            version=md.get(mm.KEY_VERSION, ""),
            metrics=metrics,
            training_data=md.get(mm.KEY_TRAINING_DATA, ""),
            output_range=tuple(extra.get("output_range", (0.0, 1.0))),
            kind=str(extra.get("generator_kind", "vae")),
            direction_names=tuple(str(n) for n in extra.get("direction_names", ())),
            direction_source=str(extra.get("direction_source", "")),
        )
    vector = _vector_size(header)
    if kind:
        raise GeneratorError(f"{p.name}: a {kind} model, not a generator")
    if vector is None:
        raise MissingGeneratorMetadata(
            f"{p.name}: not a Seed Studio generator (no latent metadata), and its input is not a "
            "single latent vector, so it cannot be explored with sliders.",
            None,
        )
    if random_directions <= 0:
        raise MissingGeneratorMetadata(
            f"{p.name}: no Seed Studio generator metadata (directions, image size). Its input is a "
            f"single vector of {vector} numbers, so it can be explored with random orthonormal "
            "directions instead (less meaningful than learned ones).",
            vector,
        )
    space = LatentSpace.random(vector, random_directions, seed)
    return GeneratorInfo(path=p, name=p.stem, space=space, image_size=None, kind="unknown")


def encode_input(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB(A) uint8 -> 1 x 3 x H x W float in [0, 1]: alpha onto white, padded square, resized.

    White and square because that is how the training images look (emoji composited on white);
    padding rather than cropping keeps the whole subject of a cut-out.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    rgb = img[..., :3].astype(np.float32)
    if img.shape[2] == 4:
        a = img[..., 3:4].astype(np.float32) / 255.0
        rgb = rgb * a + 255.0 * (1.0 - a)
    h, w = rgb.shape[:2]
    side = max(h, w)
    canvas = np.full((side, side, 3), 255.0, np.float32)
    canvas[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = rgb
    out = cv2.resize(canvas, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return (out.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)


def cut_out(rgb: np.ndarray, mask: np.ndarray | None, margin: float = 0.06) -> np.ndarray:
    """RGBA of the subject's bounding box (plus ``margin`` of its size) from a photo + mask.

    Emoji fill their square, so a cut-out must be framed the same way before encoding or the
    encoder sees a tiny subject in a sea of white.
    """
    if mask is None:
        return rgb
    ys, xs = np.nonzero(mask > 127)
    if len(ys) == 0:
        raise GeneratorError("the mask is empty: nothing to encode")
    pad = int(margin * (max(np.ptp(ys), np.ptp(xs)) + 1))
    y0, y1 = max(0, ys.min() - pad), min(mask.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(mask.shape[1], xs.max() + pad + 1)
    return np.dstack([rgb[y0:y1, x0:x1, :3], mask[y0:y1, x0:x1]])


class Generator:
    """Runs a generator's decoder (VAE) or generator network (GAN) through onnxruntime, and the
    VAE's encoder if it has one (a GAN has none: nothing maps an image back to its latent)."""

    def __init__(self, path: str | Path, random_directions: int = 0, seed: int = 0, threads: int | None = None):
        self.info = read_generator_info(path, random_directions, seed)
        self.session = get_session(self.info.path, threads=threads)
        self._input = self.session.get_inputs()[0]
        self._vector_input = len(self._input.shape) == 1
        self._fixed_batch = not self._vector_input and self._input.shape[0] == 1
        self._threads = threads
        if self.info.space.synthetic:  # learn the layout and value range from a probe
            probe = self.decode_float(np.zeros((1, self.info.latent_size)))
            lo = -1.0 if probe.min() < -0.05 else 0.0
            hi = 255.0 if probe.max() > 1.5 else 1.0
            self.info = replace(self.info, image_size=probe.shape[-2:], output_range=(lo, hi))

    @property
    def has_encoder(self) -> bool:
        return self.info.encoder_path is not None

    def decode_float(self, z: np.ndarray) -> np.ndarray:
        """Raw decoder output as N x C x H x W float32 for latent(s) ``z`` ((D,) or (N, D))."""
        z = np.atleast_2d(np.asarray(z, np.float32))
        if z.shape[1] != self.info.latent_size:
            raise GeneratorError(f"latent has {z.shape[1]} values; the model expects {self.info.latent_size}")
        name = self._input.name
        if self._vector_input or self._fixed_batch:  # one latent per call
            outs = [self.session.run(None, {name: row if self._vector_input else row[None]})[0] for row in z]
        else:
            outs = [self.session.run(None, {name: z})[0]]
        out = np.concatenate([o if o.ndim == 4 else o.reshape(1, *o.shape[-3:]) for o in outs])
        if out.shape[1] not in (1, 3, 4) and out.shape[-1] in (1, 3, 4):
            out = out.transpose(0, 3, 1, 2)  # NHWC third-party decoder
        return out.astype(np.float32, copy=False)

    def decode_batch(self, z: np.ndarray) -> np.ndarray:
        """N x H x W x 3 uint8 images for latents ``z``."""
        out = self.decode_float(z)
        lo, hi = self.info.output_range
        out = np.repeat(out, 3, axis=1) if out.shape[1] == 1 else out
        out = (out - lo) * (255.0 / (hi - lo))
        return np.clip(out[:, :3] + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()

    def decode(self, z: np.ndarray) -> np.ndarray:
        """One H x W x 3 uint8 image."""
        return self.decode_batch(np.asarray(z)[None] if np.ndim(z) == 1 else z)[0]

    def encode(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(posterior mean, log-variance), each (D,) float64, of an RGB(A) uint8 image."""
        if self.info.encoder_path is None or self.info.image_size is None:
            raise GeneratorError(f"{self.info.name}: this generator has no encoder file next to it")
        session = get_session(self.info.encoder_path, threads=self._threads)
        x = encode_input(image, self.info.image_size)
        mean, logvar = session.run(None, {session.get_inputs()[0].name: x})[:2]
        return mean[0].astype(np.float64), logvar[0].astype(np.float64)


def default_generator_path() -> Path:
    return models_dir() / f"{DEFAULT_GENERATOR}-decoder.onnx"


GENERATOR_SUFFIXES = ("-decoder.onnx", "-generator.onnx")  # a VAE's decoder, a GAN's generator


def find_generator(name_or_path: str | Path) -> Path:
    """A generator path given a path, a NAME (``NAME-decoder.onnx`` for a VAE,
    ``NAME-generator.onnx`` for a GAN) or a prefix like assets/models/NAME."""
    p = Path(name_or_path).expanduser()
    candidates = [p] + [p.with_name(p.name + s) for s in GENERATOR_SUFFIXES]
    candidates += [models_dir() / (p.name + s) for s in GENERATOR_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise GeneratorError(
        f"{name_or_path}: no such generator (looked for the file, NAME-decoder.onnx, NAME-generator.onnx)"
    )


def sample_prior(size: int, seed: int, temperature: float = 1.0) -> np.ndarray:
    """z ~ N(0, temperature^2 I), reproducible from ``seed`` (float64, (D,))."""
    return np.random.default_rng(seed).standard_normal(size) * float(temperature)
