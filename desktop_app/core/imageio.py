"""Reading photos the way real files come, and writing results so no partial file ever exists.

Why Pillow for decoding: it sniffs the real format from the bytes (a PNG named ``.jpg`` is
still read), exposes EXIF orientation, palettes, CMYK and ICC profiles, and lets us check the
pixel count from the header *before* decoding (decompression bombs). Why OpenCV for encoding:
``cv2.imencode`` releases the GIL and its PNG/WebP encoders are fast, which matters because the
batch engine encodes on a writer thread while inference runs.
"""

from __future__ import annotations

import importlib
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError, features

from desktop_app.core.errors import ImageLoadError, ImageSaveError
from desktop_app.core.files import _FILE_MODE as _FILE_MODE  # re-exported (tests, older callers)
from desktop_app.core.files import DEFAULT_MAX_FILE_BYTES, human_size, open_input, read_head, write_bytes_atomic
from desktop_app.core.files import TEMP_SUFFIX as TEMP_SUFFIX
from desktop_app.core.files import remove_stale_temps as remove_stale_temps

# Pillow's own bomb guard is a process-wide global that is not thread-safe to toggle; we
# enforce our own, per-call and configurable, limit from the header instead (see load_image).
Image.MAX_IMAGE_PIXELS = None

DEFAULT_MAX_PIXELS = 150_000_000  # ~150 MP: larger than any camera, far below a 30k x 30k bomb
# AVIF comes with Pillow 11.3+ wheels (libavif); older or slimmer builds cannot decode it, and
# then .avif files are listed as skipped with the reason instead of silently ignored.
AVIF_SUPPORTED = bool(features.check_module("avif")) if "avif" in features.modules else False
_AVIF = {"AVIF"} if AVIF_SUPPORTED else set()
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF"} | _AVIF)
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".dib", ".gif"}
    | ({".avif"} if AVIF_SUPPORTED else set())
)
# Photo formats people do drop into folders that this build cannot decode: listed, not ignored.
UNSUPPORTED_EXTENSIONS = {".heic": "HEIC", ".heif": "HEIF", ".jxl": "JPEG XL"} | (
    {} if AVIF_SUPPORTED else {".avif": "AVIF"}
)
OUTPUT_FORMATS = ("png", "webp", "jpg")
_PIL_FORMATS = sorted(SUPPORTED_FORMATS - {"MPO"})  # Pillow reports MPO for some JPEGs on its own
# Register exactly the decoders we take. ``Image.open`` calls ``Image.init()`` -- importing all of
# Pillow's ~40 format plugins, ~45 ms per process -- whenever a requested format is not
# registered yet (WebP is not among its "common" five); with these imported it never needs to.
for _fmt in _PIL_FORMATS:  # Pillow's module names: BmpImagePlugin, ..., WebPImagePlugin
    importlib.import_module(f"PIL.{'WebP' if _fmt == 'WEBP' else _fmt.capitalize()}ImagePlugin")
_FORMAT_LIST = "/".join(["JPEG", "PNG", "WebP", "TIFF", "BMP", "GIF", *(["AVIF"] if AVIF_SUPPORTED else [])])

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),  # little endian
    (b"MM\x00*", "TIFF"),  # big endian
    (b"BM", "BMP"),
)


@dataclass
class LoadedImage:
    """A decoded photo, upright, as 8-bit sRGB-ish RGB plus its own alpha if it had one.

    ``alpha`` is None when the file had no alpha channel or it was fully opaque, so callers
    can skip work. ``warnings`` holds things a user may want to know (animated file, colour
    profile converted, 16-bit reduced) without failing the load.
    """

    rgb: np.ndarray  # HxWx3 uint8, C-contiguous
    alpha: np.ndarray | None  # HxW uint8 or None
    source_format: str
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) like Pillow, for messages."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes announce (magic numbers), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    return next((fmt for magic, fmt in _MAGIC if head.startswith(magic)), None)


def looks_like_image(path: str | os.PathLike[str]) -> bool:
    """Cheap content sniff (magic bytes) for files whose extension says nothing.

    Reads only regular files (a FIFO without an extension must not block the folder walk).
    """
    fmt = sniff_format(read_head(path, 16))
    return fmt is not None and (fmt != "AVIF" or AVIF_SUPPORTED)


def _describe(source: object) -> str:
    return "stdin" if isinstance(source, bytes | bytearray | memoryview) else str(source)


def load_image(
    source: str | os.PathLike[str] | bytes,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
) -> LoadedImage:
    """Decode ``source`` (a path or the raw bytes of a file) into a :class:`LoadedImage`.

    The file is opened read-only and never written to; only regular files are opened, files
    over ``max_bytes`` are refused from their size alone, and the header is checked (format,
    pixel count against ``max_pixels``) before the pixels are read. Raises
    :class:`ImageLoadError` with a message naming the file and the problem for anything that
    is not a readable image.
    """
    name = _describe(source)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise ImageLoadError(f"{name}: the input is empty (0 bytes)")
        if max_bytes is not None and len(data) > max_bytes:
            raise ImageLoadError(f"{name}: {human_size(len(data))} is over the {human_size(max_bytes)} limit")
        return _decode(io.BytesIO(data), name, None, max_pixels)
    path = Path(source)
    with open_input(path, max_bytes) as fh:
        return _decode(fh, name, path, max_pixels)


def _unidentified(fh: BinaryIO, head: bytes) -> str:
    """Why Pillow could not open the file, in words: corrupt known format, or not an image."""
    fmt = sniff_format(head)
    if fmt == "AVIF" and not AVIF_SUPPORTED:
        return "AVIF images are not supported by this build (Pillow without libavif)"
    if fmt is not None:
        return f"corrupt {fmt} (the file starts like a {fmt} but its header or a checksum is damaged)"
    try:  # a real format we do not take (PSD, ICO...)? Header only: Pillow is lazy.
        fh.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = Image.open(fh).format
    except Exception:
        other = None
    if other:
        return f"{other} images are not supported"
    return f"not a recognised image format (content is not {_FORMAT_LIST})"


def _decode(fh: BinaryIO, name: str, path: Path | None, max_pixels: int | None) -> LoadedImage:
    notes: list[str] = []
    head = fh.read(16)
    fh.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(fh, formats=_PIL_FORMATS)
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{name}: {_unidentified(fh, head)}") from exc
    except Exception as exc:  # Pillow raises many types for corrupt headers
        raise ImageLoadError(f"{name}: corrupt image header ({exc})") from exc
    fmt = (im.format or "").upper()
    if fmt not in SUPPORTED_FORMATS:
        raise ImageLoadError(f"{name}: {fmt or 'unknown'} images are not supported")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name}: image has no pixels ({width}x{height})")
    if max_pixels is not None and width * height > max_pixels:
        raise ImageLoadError(
            f"{name}: {width}x{height} = {width * height / 1e6:.0f} MP exceeds the limit of "
            f"{max_pixels / 1e6:.0f} MP (possible decompression bomb; raise the limit if the file is genuine)"
        )
    if path is not None and path.suffix.lower() in IMAGE_EXTENSIONS:
        ext_fmt = _EXT_TO_FORMAT.get(path.suffix.lower())
        if ext_fmt and ext_fmt != fmt and not (ext_fmt == "JPEG" and fmt == "MPO"):
            notes.append(f"file content is {fmt} although the name says {path.suffix}")
    try:  # Pillow raises many types for damaged files (TypeError, struct.error, SyntaxError...)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Tag data larger than file" and the like: we judge the result
            if getattr(im, "is_animated", False) and getattr(im, "n_frames", 1) > 1:
                kind = "multi-page" if fmt == "TIFF" else "animated"
                notes.append(f"{kind} {fmt} with {im.n_frames} frames: only the first frame is used")
                im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im) or im
    except Exception as exc:
        raise ImageLoadError(f"{name}: {fmt} image data is truncated or corrupt ({exc})") from exc
    rgb, alpha = _to_rgb_alpha(im, notes)
    return LoadedImage(rgb=rgb, alpha=alpha, source_format=fmt, path=path, warnings=notes)


_EXT_TO_FORMAT = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG", ".png": "PNG", ".webp": "WEBP",
    ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP", ".dib": "BMP", ".gif": "GIF", ".avif": "AVIF",
}  # fmt: skip

_SRGB = None


def _srgb_profile() -> ImageCms.ImageCmsProfile:
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def _to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Apply an embedded ICC profile when it is not sRGB, so colours survive the round trip.

    CMYK files are meaningless without their profile and wide-gamut (Display P3, Adobe RGB)
    photos look dull if their numbers are read as sRGB. Falls back to Pillow's plain
    conversion (noted) when the profile is broken.
    """
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = (ImageCms.getProfileDescription(src) or "").lower()
        if "srgb" in desc and im.mode != "CMYK":
            return im
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, src, _srgb_profile(), outputMode=out_mode)
        notes.append(f"colour profile '{desc.strip() or 'embedded'}' converted to sRGB")
        return converted or im
    except Exception:
        notes.append("embedded colour profile could not be applied; colours may be off")
        return im


def _to_rgb_alpha(im: Image.Image, notes: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Normalise every Pillow mode to RGB uint8 + optional alpha uint8."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(im)
        if mode == "F":
            grey = np.clip(arr, 0.0, 1.0 if arr.max() <= 1.0 else 255.0)
            scale = 255.0 if arr.max() <= 1.0 else 1.0
            grey8 = np.round(grey * scale).astype(np.uint8)
        else:
            top = 65535.0 if mode != "I" or arr.max() > 255 else 255.0
            grey8 = np.round(np.clip(arr, 0, top).astype(np.float32) * (255.0 / top)).astype(np.uint8)
            if top > 255:
                notes.append("16-bit image reduced to 8 bits per channel")
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2)), None
    if mode == "CMYK" or (mode in ("RGB", "RGBA") and im.info.get("icc_profile")):
        im = _to_srgb(im, notes)
        mode = im.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode in ("P", "L", "RGB") and "transparency" in im.info)
    im = im.convert("RGBA") if has_alpha else im.convert("RGB")
    arr = np.asarray(im)
    if not has_alpha:
        return np.ascontiguousarray(arr), None
    alpha = np.ascontiguousarray(arr[:, :, 3])
    rgb = np.ascontiguousarray(arr[:, :, :3])
    if alpha.min() == 255:
        return rgb, None
    return rgb, alpha


# ----------------------------------------------------------------------------- writing


def normalise_format(fmt: str) -> str:
    """Map user spellings (JPEG, .jpg, Png) to one of OUTPUT_FORMATS or raise ValueError."""
    f = fmt.lower().lstrip(".")
    f = {"jpeg": "jpg", "jpe": "jpg"}.get(f, f)
    if f not in OUTPUT_FORMATS:
        raise ValueError(f"unsupported output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    return f


def flatten(image: np.ndarray, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Composite straight-alpha RGBA over a solid colour (JPEG has no alpha)."""
    if image.ndim == 2 or image.shape[2] == 3:
        return image
    a = image[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
    bg = np.asarray(background, np.float32).reshape(1, 1, 3)
    out = image[:, :, :3].astype(np.float32) * a + bg * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def encode_image(
    image: np.ndarray,
    fmt: str,
    background: tuple[int, int, int] = (255, 255, 255),
    quality: int = 95,
    png_compression: int = 4,
) -> bytes:
    """Encode an HxW (mask), HxWx3 (RGB) or HxWx4 (straight RGBA) uint8 array to file bytes.

    PNG and WebP keep alpha; JPEG is flattened onto ``background``. PNG: zlib level 4 measured
    about 1/6 of the time of Pillow's default 6 on a 12 MP cut-out for ~7 % more bytes; on top
    of it, the Paeth row filter with zlib's run-length strategy (a cut-out is long runs of
    transparent zeros and smooth rows, which Paeth turns into runs) instead of libpng's
    adaptive choice of filter per row: 2.4x faster on SOD cut-outs (11.9 -> 5.0 ms CPU) for
    1 % more bytes, 2.2x on a 12 MP one for 4 % more (``docs/decisions.md``).
    """
    fmt = normalise_format(fmt)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageSaveError(f"cannot encode array of shape {image.shape} and dtype {image.dtype}")
    if fmt == "jpg":
        image = flatten(image, background)
    if image.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image = cv2.cvtColor(image, code)
    if fmt == "png":
        params = [
            cv2.IMWRITE_PNG_COMPRESSION,
            int(png_compression),
            cv2.IMWRITE_PNG_FILTER,
            cv2.IMWRITE_PNG_FILTER_PAETH,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_RLE,
        ]
    elif fmt == "webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    ok, buf = cv2.imencode("." + fmt, image, params)
    if not ok:
        raise ImageSaveError(f"OpenCV could not encode a {fmt.upper()} image of shape {image.shape}")
    return buf.tobytes()


def save_image_atomic(
    path: str | os.PathLike[str],
    image: np.ndarray,
    fmt: str | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
    quality: int = 95,
) -> Path:
    """Encode ``image`` (see :func:`encode_image`) and write it atomically; returns the path.

    ``fmt`` defaults to the path's suffix. Errors become :class:`ImageSaveError`.
    """
    path = Path(path)
    try:
        data = encode_image(image, fmt or path.suffix or "png", background=background, quality=quality)
        write_bytes_atomic(path, data)
    except ValueError as exc:
        raise ImageSaveError(str(exc)) from exc
    except OSError as exc:
        raise ImageSaveError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    return path
