"""Hostile inputs for the decoder and the batch planner, as hypothesis strategies plus checkers.

Shared by the bounded CI fuzz test (tests/core/test_fuzz_hostile.py) and the long run in
benchmarks/fuzz_hostile.py, so both try the same things and judge them the same way:

* bytes: random junk, truncated real files of every supported format, real files with a few
  bytes flipped, a real header followed by junk;
* trees: folders of photos, junk, empty files, FIFOs, and symlinks to files, to folders, to
  themselves, in loops, to nowhere and to ``/dev/zero``.

The property is the issue's: the decoder returns a well-formed image or raises
:class:`ImageLoadError`, nothing else; a batch over any tree finishes (the caller bounds the
time), reports every photo-named entry once with a final status, writes distinct outputs that
are never inputs, and never modifies a regular input file.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from desktop_app.core.errors import ImageLoadError
from desktop_app.core.imageio import IMAGE_EXTENSIONS, LoadedImage, load_image
from helpers.corpus import photo

FINAL = {"done", "skipped", "failed"}
FORMATS = ["JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF"] + (["AVIF"] if ".avif" in IMAGE_EXTENSIONS else [])


def _encode(fmt: str, mode: str) -> bytes:
    img = Image.fromarray(photo(12, 16)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def real_files() -> list[bytes]:
    """Small valid files: every supported format, plus alpha and palette variants."""
    files = [_encode(fmt, "RGB") for fmt in FORMATS]
    files += [_encode("PNG", "RGBA"), _encode("PNG", "P"), _encode("PNG", "LA"), _encode("TIFF", "CMYK")]
    return files


REAL = real_files()


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    """One would-be image file: junk, or a real file truncated, bit-flipped or with a junk tail."""
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "junk_tail"]))
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=2048))
    real = draw(st.sampled_from(REAL))
    if kind == "truncated":
        return real[: draw(st.integers(0, len(real)))]
    if kind == "junk_tail":
        cut = draw(st.integers(8, len(real)))
        return real[:cut] + draw(st.binary(min_size=1, max_size=512))
    data = bytearray(real)
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data)


def check_loaded(img: LoadedImage) -> None:
    """A decoded image is what the pipeline expects: HxWx3 uint8, alpha HxW or None."""
    h, w = img.rgb.shape[:2]
    assert img.rgb.dtype == np.uint8 and img.rgb.shape == (h, w, 3) and h > 0 and w > 0
    assert img.alpha is None or (img.alpha.dtype == np.uint8 and img.alpha.shape == (h, w))


def check_decode(data: bytes, folder: Path, name: str = "x.jpg") -> str:
    """Decode ``data`` from memory and from a file; returns 'ok' or 'refused' (else it raised)."""
    outcome = ""
    path = folder / name
    path.write_bytes(data)
    for source in (data, path):
        try:
            img = load_image(source, max_pixels=4_000_000)
        except ImageLoadError as exc:
            assert str(exc).strip(), "an error needs a message"
            outcome = outcome or "refused"
        else:
            check_loaded(img)
            outcome = outcome or "ok"
    return outcome


KINDS = ["photo", "junk", "empty", "fifo", "dir", "link_file", "link_dir", "link_self", "link_loop",
         "link_nowhere", "link_devzero", "link_up"]  # fmt: skip
DIRS = ["", "a", "a/b", "c"]
NAMES = ["p.jpg", "q.png", "r.webp", "s", "t.gif", "u.JPG", "v.tif", "w.jpg"]

tree_specs = st.lists(st.tuples(st.sampled_from(DIRS), st.sampled_from(NAMES), st.sampled_from(KINDS)), max_size=12)


def build_tree(root: Path, spec: list[tuple[str, str, str]], photo_bytes: bytes) -> None:
    """Materialise a tree spec under ``root`` (later entries never replace earlier ones)."""
    root.mkdir(parents=True, exist_ok=True)
    for d, name, kind in spec:
        folder = root / d
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # a file or link already sits where the folder would go
            continue
        p = folder / name
        if os.path.lexists(p):
            continue
        if kind == "photo":
            p.write_bytes(photo_bytes)
        elif kind == "junk":
            p.write_bytes(b"junk" * 16)
        elif kind == "empty":
            p.write_bytes(b"")
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "dir":
            p.mkdir()
        elif kind == "link_file":
            p.symlink_to(root / "missing-or-not" if not (root / "p.jpg").exists() else root / "p.jpg")
        elif kind == "link_dir":
            p.symlink_to(root)
        elif kind == "link_self":
            p.symlink_to(p.name)
        elif kind == "link_loop":
            p.symlink_to(f"{p.name}.other")
            if not os.path.lexists(folder / f"{p.name}.other"):
                (folder / f"{p.name}.other").symlink_to(p.name)
        elif kind == "link_nowhere":
            p.symlink_to(root / "does-not-exist.jpg")
        elif kind == "link_devzero":
            p.symlink_to("/dev/zero")
        elif kind == "link_up":
            p.symlink_to("..")


def regular_hashes(root: Path) -> dict[str, str]:
    """sha256 of every regular file (not following links) under ``root``: FIFOs are never opened."""
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if p.is_symlink() or not p.is_file():
                continue
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def check_report(report, root: Path, out: Path, before: dict[str, str]) -> None:
    """The batch properties of the module docstring."""
    sources = [str(it.source) for it in report.items]
    assert len(sources) == len(set(sources)), "an entry was reported twice"
    for it in report.items:
        assert it.status in FINAL, (it.source, it.status)
        assert it.status == "done" or it.reason, (it.source, "a non-done entry needs a reason")
        assert "Traceback" not in it.reason and "Errno" not in it.reason, it.reason
    outs = [str(it.output).lower() for it in report.items if it.output is not None and it.status == "done"]
    assert len(outs) == len(set(outs)), "two photos were written to one output"
    for it in report.items:
        if it.status == "done":
            assert it.output is not None and it.output.is_file()
            assert os.path.realpath(it.output) != os.path.realpath(it.source)
    after = regular_hashes(root)
    assert all(after.get(k) == v for k, v in before.items()), "an input file was modified or removed"
    assert not (out.exists() and list(out.rglob("*.seedtmp"))), "a temp file was left behind"
