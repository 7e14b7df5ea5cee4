"""The Fluent Emoji 3D images as one small uint8 array, decoded once, with a stable split.

Why an array and not a folder dataset: 3,391 images at 64x64x3 are 42 MB, so decoding the
WebP files every epoch (the slow part on two cores) would cost more than the VAE's forward
pass. They are decoded once into ``runs/cache/<name>-<fingerprint>-<size>.npy`` and loaded
from there afterwards.

Alpha is composited onto white before downscaling: the app shows generated images as plain
pictures, a white background is what emoji are drawn on in most places, and a 3-channel target
keeps the decoder small. Downscaling 128 -> 64 uses premultiplied area averaging (composite
first), so there are no dark fringes.

The validation split is decided per file *name* (a hash of the stem), not by position, so it
never changes when files are added, removed or listed in another order.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from desktop_app.core.files import write_bytes_atomic

from .folder import IMAGE_SUFFIXES, default_cache_dir

WHITE = (255, 255, 255)


def list_images(root: str | Path, limit: int = 0) -> list[Path]:
    """Images of ``root/images`` (or ``root`` itself when it holds the files), sorted by name."""
    root = Path(root)
    folder = root / "images" if (root / "images").is_dir() else root
    if not folder.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder} holds no images")
    return files[:limit] if limit else files


def composite_resize(rgba: np.ndarray, size: int, background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """RGBA (or RGB) uint8 -> RGB uint8 ``size`` x ``size`` on ``background``."""
    if rgba.ndim == 3 and rgba.shape[2] == 4:
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        bg = np.asarray(background, np.float32).reshape(1, 1, 3)
        rgb = rgba[..., :3].astype(np.float32) * a + bg * (1.0 - a)
    else:
        rgb = rgba[..., :3].astype(np.float32)
    if rgb.shape[:2] != (size, size):
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _decode(path: Path, size: int) -> np.ndarray:
    with Image.open(path) as im:
        return composite_resize(np.asarray(im.convert("RGBA")), size)


def _fingerprint(files: list[Path], size: int) -> str:
    h = hashlib.sha1(f"{size}:white".encode())
    for f in files:
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:16]


def load_emoji(
    root: str | Path, size: int = 64, limit: int = 0, cache_dir: Path | None = None
) -> tuple[np.ndarray, list[str]]:
    """(N x size x size x 3 uint8, stems); decoded once and cached as ``.npy``."""
    files = list_images(root, limit)
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{Path(root).resolve().name}-{_fingerprint(files, size)}-{size}.npy"
    if path.is_file():
        return np.load(path), [f.stem for f in files]
    images = np.stack([_decode(f, size) for f in files])
    # the app's atomic writer gives each writer its own temp file: two trainings started together
    # used to share one name, and the second os.replace found it gone; now the last writer wins
    buffer = io.BytesIO()
    np.save(buffer, images)
    write_bytes_atomic(path, buffer.getvalue())
    return images, [f.stem for f in files]


def is_validation(stem: str, fraction: float = 0.1) -> bool:
    """Deterministic, order-independent membership of the held-out split."""
    bucket = int.from_bytes(hashlib.sha1(stem.encode()).digest()[:4], "big") / 2**32
    return bucket < fraction


def split(stems: list[str], fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Indices of (training, validation) items; at least one of each when possible."""
    val = np.array([is_validation(s, fraction) for s in stems], bool)
    if fraction > 0 and not val.any() and len(stems) > 1:
        val[-1] = True  # tiny smoke sets: keep one image aside so evaluation has something
    return np.flatnonzero(~val), np.flatnonzero(val)


class ArraySet:
    """A torch-style dataset over uint8 HWC images: item -> float CHW in [0, 1].

    Optional horizontal flips (off by default: keycaps, flags and letters have a handedness).
    """

    def __init__(self, images: np.ndarray, flip: bool = False, seed: int = 0):
        self.images, self.flip, self.seed, self.epoch = images, flip, seed, 0

    def __len__(self) -> int:
        return len(self.images)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> torch.Tensor:
        img = self.images[i]
        if self.flip and np.random.default_rng((self.seed, self.epoch, i)).random() < 0.5:
            img = img[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255.0)
