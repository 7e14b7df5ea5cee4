"""Folder datasets of ``images/<stem>.*`` + ``masks/<stem>.png`` and a decoded-pixel cache.

Decoding 10k WebP files every epoch would cost as much CPU as a small model's forward pass on
this 2-core machine, so the images are decoded once into one flat uint8 file that every data
loader process memory-maps. The cache lives outside the repository (``runs/cache`` by default)
and is rebuilt when the list of files or their sizes change.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".webp", ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


def list_pairs(root: str | Path, require_masks: bool = True) -> list[tuple[Path, Path | None]]:
    """Pair ``images/<stem>.*`` with ``masks/<stem>.png``; unpaired images are an error."""
    root = Path(root)
    image_dir, mask_dir = root / "images", root / "masks"
    if not image_dir.is_dir():
        raise FileNotFoundError(f"{root} has no images/ folder")
    images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f"{image_dir} holds no images")
    pairs: list[tuple[Path, Path | None]] = []
    missing = []
    for img in images:
        mask = mask_dir / f"{img.stem}.png"
        if mask.is_file():
            pairs.append((img, mask))
        elif require_masks:
            missing.append(img.name)
        else:
            pairs.append((img, None))
    if missing:
        raise FileNotFoundError(f"{len(missing)} images in {image_dir} have no mask, e.g. {missing[:3]}")
    return pairs


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image as RGB uint8 (alpha dropped)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def read_rgba(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def read_mask(path: Path) -> np.ndarray:
    """Decode a mask as uint8 HxW (0 background .. 255 foreground)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("L"))


@dataclass
class DecodedSet:
    """All images and masks of a folder, decoded, in one memory-mapped blob."""

    blob: np.ndarray  # flat uint8
    entries: list[dict]  # per item: offset, h, w (image hwc then mask hw)
    stems: list[str]

    def __len__(self) -> int:
        return len(self.entries)

    def image(self, i: int) -> np.ndarray:
        e = self.entries[i]
        n = e["h"] * e["w"] * 3
        return self.blob[e["offset"] : e["offset"] + n].reshape(e["h"], e["w"], 3)

    def mask(self, i: int) -> np.ndarray:
        e = self.entries[i]
        start = e["offset"] + e["h"] * e["w"] * 3
        return self.blob[start : start + e["h"] * e["w"]].reshape(e["h"], e["w"])


def _fingerprint(pairs: list[tuple[Path, Path | None]], max_side: int) -> str:
    h = hashlib.sha1(str(max_side).encode())
    for img, mask in pairs:
        h.update(f"{img.name}:{img.stat().st_size}:{mask.stat().st_size if mask else 0}".encode())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    return Path(os.environ.get("SEED_CACHE", "runs/cache"))


def load_decoded(root: str | Path, cache_dir: Path | None = None, max_side: int = 0, limit: int = 0) -> DecodedSet:
    """Decode a folder dataset once and memory-map it afterwards.

    ``max_side`` > 0 downsizes larger images (INTER_AREA) so the cache stays small;
    ``limit`` > 0 keeps the first N pairs (smoke runs, tests).
    """
    pairs = list_pairs(root)
    if limit:
        pairs = pairs[:limit]
    cache_dir = cache_dir or default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = f"{Path(root).resolve().name}-{_fingerprint(pairs, max_side)}"
    blob_path, index_path = cache_dir / f"{key}.u8", cache_dir / f"{key}.json"
    if not (blob_path.is_file() and index_path.is_file()):
        _build_cache(pairs, blob_path, index_path, max_side)
    index = json.loads(index_path.read_text())
    blob = np.memmap(blob_path, dtype=np.uint8, mode="r")
    return DecodedSet(blob=blob, entries=index["entries"], stems=index["stems"])


def _build_cache(pairs, blob_path: Path, index_path: Path, max_side: int) -> None:
    # Several processes (DDP ranks) may build the same cache at once: each writes its own
    # temp files and renames them into place, so the identical results just replace each other.
    entries, stems, offset = [], [], 0
    tmp = blob_path.with_suffix(f".{os.getpid()}.part")
    with open(tmp, "wb") as fh:
        for img_path, mask_path in pairs:
            img, mask = read_rgb(img_path), read_mask(mask_path)
            if mask.shape != img.shape[:2]:
                mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
            if max_side and max(img.shape[:2]) > max_side:
                scale = max_side / max(img.shape[:2])
                size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
            h, w = mask.shape
            fh.write(np.ascontiguousarray(img).tobytes())
            fh.write(np.ascontiguousarray(mask).tobytes())
            entries.append({"offset": offset, "h": h, "w": w})
            stems.append(img_path.stem)
            offset += h * w * 4
    os.replace(tmp, blob_path)
    tmp_index = index_path.with_suffix(f".{os.getpid()}.part")
    tmp_index.write_text(json.dumps({"entries": entries, "stems": stems}))
    os.replace(tmp_index, index_path)
