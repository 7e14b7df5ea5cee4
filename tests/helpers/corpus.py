"""A corpus of awkward and broken image files, generated on the fly (nothing is checked in).

Each entry says whether loading must succeed (``ok``) or fail with a message containing a
given phrase, so the same corpus drives the loader tests and the batch robustness test.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Case:
    path: Path
    ok: bool
    expect: str = ""  # phrase in the error message, or in a warning when ok


def photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth RGB test picture: red subject disc on a blue-green gradient."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = (xx * 200 // max(1, w - 1)).astype(np.uint8)
    img[..., 2] = 180
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 3) ** 2
    img[disc] = (230, 40, 30)
    noise = rng.integers(0, 6, img.shape, dtype=np.uint8)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, w: int = 30000, h: int = 30000) -> Path:
    """A valid PNG header announcing w x h pixels with almost no data behind it."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    path.write_bytes(data + _png_chunk(b"IEND", b""))
    return path


def make_corpus(folder: Path) -> list[Case]:
    """Write the corpus into ``folder`` and return its cases."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = photo()
    pil = Image.fromarray(rgb)
    cases: list[Case] = []

    def add(name: str, ok: bool, expect: str = "") -> Path:
        p = folder / name
        cases.append(Case(p, ok, expect))
        return p

    (add("empty.jpg", False, "empty")).write_bytes(b"")
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    add("truncated.jpg", False, "truncated").write_bytes(jpeg[: len(jpeg) // 2])
    add("random.jpg", False, "not a recognised image").write_bytes(os.urandom(2048))
    pil.save(add("png_named.jpg", True, "content is PNG"), "PNG")
    pil.save(add("plain.jpg", True), "JPEG", quality=90)
    pil.save(add("plain.webp", True), "WEBP", quality=90)
    pil.save(add("plain.tiff", True), "TIFF")
    pil.save(add("plain.bmp", True), "BMP")
    grey16 = (np.linspace(0, 65535, 48 * 64).reshape(48, 64)).astype(np.uint16)
    cv2.imwrite(str(add("grey16.png", True, "16-bit")), grey16)
    cv2.imwrite(str(add("rgb16.png", True)), (rgb.astype(np.uint16) * 257)[:, :, ::-1])
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(add("cmyk.jpg", True), "JPEG", quality=95)
    pal = pil.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(add("palette_transparent.png", True), "PNG", transparency=0)
    la = Image.fromarray(rgb[..., 0]).convert("LA")
    la.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))))
    la.save(add("grey_alpha.png", True), "PNG")
    frames = [Image.new("RGB", (64, 48), c) for c in ("red", "blue", "green")]
    frames[0].save(add("animated.gif", True, "first frame"), save_all=True, append_images=frames[1:], duration=80)
    frames[0].save(add("animated.webp", True, "first frame"), save_all=True, append_images=frames[1:], duration=80)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    Image.fromarray(photo(20, 40)).save(add("exif_rotated.jpg", True), "JPEG", exif=exif.tobytes())
    bomb_png(add("bomb.png", False, "exceeds the limit"))
    (add("folder_named.jpg", False, "folder")).mkdir()
    locked = folder / "locked.jpg"
    pil.save(locked, "JPEG")
    locked.chmod(0)
    # As root chmod 000 does not block reading: the file then loads fine.
    cases.append(Case(locked, os.geteuid() == 0, "" if os.geteuid() == 0 else "permission denied"))
    (folder / "notes.txt").write_text("not an image, and not named like one")
    return cases


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every readable file under ``folder`` (to prove inputs are untouched)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            try:
                out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
            except PermissionError:
                st = p.stat()
                out[str(p.relative_to(folder))] = f"unreadable:{st.st_size}:{st.st_mtime_ns}"
    return out
