"""Pictures for people: sample grids, reconstruction grids and one sweep strip per direction.

Everything here takes a ``decode(z) -> N x H x W x 3 uint8`` callable, so the same code draws
from a PyTorch checkpoint during training and from the exported ONNX files afterwards (which
is what ``gen sample`` uses: the figures then show exactly what the app will show).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

Decode = Callable[[np.ndarray], np.ndarray]
SWEEP_STEPS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


def tile(images: np.ndarray, cols: int, pad: int = 2, scale: int = 1, fill: int = 255) -> np.ndarray:
    """N x H x W x 3 uint8 -> one grid image, ``pad`` pixels between cells, nearest upscaling."""
    n, h, w, _ = images.shape
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), fill, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = img
    return out


def save_png(array: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def sample_grid(
    decode: Decode,
    latent: int,
    n: int = 64,
    seed: int = 0,
    temperature: float = 1.0,
    scale: int = 1,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Decode ``n`` draws into a square-ish grid: from N(0, T^2 I), or with ``fit`` = (mean,
    vectors, sigmas) from that Gaussian (mean + sum_k T eps_k sigma_k v_k)."""
    z = np.random.default_rng(seed).standard_normal((n, latent)) * temperature
    if fit is not None:
        mean, vectors, sigmas = fit
        z = mean + (z[:, : len(sigmas)] * sigmas) @ vectors
    return tile(decode(z.astype(np.float32)), cols=int(np.ceil(np.sqrt(n))), scale=scale)


def recon_grid(originals: np.ndarray, recons: np.ndarray, cols: int = 8, scale: int = 1) -> np.ndarray:
    """Rows alternate: originals, then their reconstructions underneath."""
    blocks = []
    for start in range(0, len(originals), cols):
        blocks += [originals[start : start + cols], recons[start : start + cols]]
    cells = []
    for block in blocks:
        if len(block) < cols:
            block = np.concatenate([block, np.full((cols - len(block), *block.shape[1:]), 255, np.uint8)])
        cells.append(block)
    return tile(np.concatenate(cells), cols=cols, scale=scale)


def sweep_strip(
    decode: Decode,
    bases: np.ndarray,
    vector: np.ndarray,
    sigma: float,
    steps: Sequence[float] = SWEEP_STEPS,
    scale: int = 1,
) -> np.ndarray:
    """One row per base point; columns move it by ``v * sigma * vector`` for v in ``steps``."""
    z = np.stack([b + v * sigma * vector for b in bases for v in steps]).astype(np.float32)
    return tile(decode(z), cols=len(steps), scale=scale)


def label(image: np.ndarray, text: str, height: int = 14) -> np.ndarray:
    """Put a one-line caption above ``image`` (PIL's built-in bitmap font, no font files)."""
    canvas = Image.new("RGB", (image.shape[1], image.shape[0] + height), "white")
    canvas.paste(Image.fromarray(image), (0, height))
    ImageDraw.Draw(canvas).text((3, 1), text, fill=(40, 40, 40))
    return np.asarray(canvas)


def write_sweeps(
    decode: Decode,
    out_dir: str | Path,
    bases: np.ndarray,
    vectors: np.ndarray,
    sigmas: np.ndarray,
    explained: Sequence[float] | None = None,
    overview_count: int = 8,
) -> list[Path]:
    """``sweep-NN.png`` per direction plus ``sweeps.png`` (first ``overview_count``, one row each)."""
    out_dir = Path(out_dir)
    paths, rows = [], []
    for k, (vec, sig) in enumerate(zip(vectors, sigmas, strict=True)):
        strip = sweep_strip(decode, bases, vec, float(sig))
        share = f", {100 * explained[k]:.1f}% of variance" if explained is not None else ""
        text = f"direction {k + 1}: -3 .. +3 sigma (sigma {sig:.2f}{share})"
        paths.append(save_png(label(strip, text), out_dir / f"sweep-{k + 1:02d}.png"))
        if k < overview_count:
            rows.append(label(sweep_strip(decode, bases[:1], vec, float(sig)), f"direction {k + 1}"))
    if rows:
        paths.append(save_png(np.concatenate(rows), out_dir / "sweeps.png"))
    return paths


def onnx_decoder(path: Path):
    """``decode(z) -> N x H x W x 3 uint8`` through onnxruntime (what the app will show)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def decode(z: np.ndarray) -> np.ndarray:
        out = np.concatenate([session.run(None, {"z": z[i : i + 64]})[0] for i in range(0, len(z), 64)])
        return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)

    return decode
