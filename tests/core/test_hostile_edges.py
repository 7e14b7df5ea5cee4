"""Issue #25, edge sizes, broken models and wording: a clear sentence, never a raw exception.

1x1 and 0x0 images, models whose outputs are NaN or inf, decode messages (the path once, "corrupt
PNG"), option validation before the batch (--max-megapixels, --bg, --model pointing at a
folder), and the progress bar after Ctrl-C.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from helpers.corpus import photo
from helpers.tiny_models import make_seg_model
from PIL import Image

from desktop_app.cli import main as cli_main
from desktop_app.core.batch import photo as batch_photo  # where both engines decode
from desktop_app.core.batch.engine import run_batch
from desktop_app.core.errors import ImageLoadError
from desktop_app.core.imageio import load_image
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    return Segmenter(make_seg_model(tmp_path_factory.mktemp("edges") / "seed.onnx"))


def save(path: Path, fmt: str = "JPEG", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(seed=seed)).save(path, fmt)
    return path


# ----------------------------------------------------------------------------- 6. tiny images


@pytest.mark.parametrize(
    "opts",
    [{}, {"foreground_estimation": False}, {"mask_only": True}, {"background": "blur"}, {"crop": True},
     {"format": "jpg"}, {"refine": True}],
    ids=["default", "no-fg", "mask", "blur", "crop", "jpg", "refine"],
)  # fmt: skip
def test_one_pixel_images_work(tmp_path: Path, segmenter: Segmenter, opts: dict) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (1, 1), (230, 40, 30)).save(src / "red.png")
    Image.new("RGBA", (1, 1), (20, 40, 200, 128)).save(src / "blue_alpha.png")
    Image.new("RGB", (1, 2), (230, 40, 30)).save(src / "tall.png")
    options = RemoveOptions(**opts)
    report = run_batch([src], tmp_path / "out", options, segmenter)
    assert report.ok, [(it.source.name, it.reason) for it in report.items]
    with Image.open(tmp_path / "out" / f"red.{options.extension}") as im:
        assert im.size == (1, 1)
        if not opts:
            assert im.mode == "RGBA" and im.getpixel((0, 0))[3] > 200  # red is the tiny model's subject


def test_predict_on_an_empty_array_is_a_clear_error(segmenter: Segmenter) -> None:
    for shape in ((0, 0, 3), (0, 5, 3), (5, 0, 3)):
        with pytest.raises(ValueError, match="no pixels"):
            segmenter.predict(np.zeros(shape, np.uint8))
    assert segmenter.predict(np.full((1, 1, 3), 255, np.uint8)).shape == (1, 1)


# ----------------------------------------------------------------------------- 7. non-finite outputs


@pytest.mark.parametrize("fn", ["nan", "inf"])
def test_model_with_non_finite_output_is_an_error_naming_it(tmp_path: Path, fn: str, capsys) -> None:
    model = make_seg_model(tmp_path / f"broken-{fn}.onnx", fn=fn)
    src = save(tmp_path / "in" / "a.jpg")
    report = run_batch([src], tmp_path / "out", RemoveOptions(), Segmenter(model))
    item = report.items[0]
    assert item.status == "failed" and f"broken-{fn}.onnx" in item.reason and "non-finite" in item.reason
    assert not (tmp_path / "out" / "a.png").exists()  # no fully transparent "result"
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "cli"), "--model", str(model)]) == 1
    assert f"broken-{fn}.onnx" in capsys.readouterr().err


# ----------------------------------------------------------------------------- messages


def _png_with_bad_crc(path: Path) -> Path:
    save(path, "PNG")
    data = bytearray(path.read_bytes())
    data[29] ^= 0xFF  # inside IHDR's CRC
    path.write_bytes(bytes(data))
    return path


def test_decode_failures_name_the_path_once_and_say_corrupt_png(tmp_path: Path, seg_model: Path, capsys) -> None:
    src = tmp_path / "in"
    save(src / "good.jpg")
    (src / "bad.jpg").write_bytes(b"garbage" * 20)
    _png_with_bad_crc(src / "badcrc.png")
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model), "-q"]) == 1
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("seed-studio: failed:")]
    assert len(lines) == 2
    for line in lines:
        name = "bad.jpg" if "bad.jpg" in line else "badcrc.png"
        assert line.count(name) == 1, line
    crc_line = next(ln for ln in lines if "badcrc.png" in ln)
    assert "corrupt PNG" in crc_line and "not a recognised image format" not in crc_line
    with pytest.raises(ImageLoadError, match="corrupt PNG"):
        load_image(src / "badcrc.png")


def test_damaged_pixel_data_says_corrupt_png(tmp_path: Path) -> None:
    raw = b"".join(b"\0" + bytes(range(12)) for _ in range(4))  # 4 rows of 4 RGB pixels
    body = bytearray(zlib.compress(raw))
    body[len(body) // 2] ^= 0xFF  # the deflate stream is damaged (its chunk CRC is made to match)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b"")
    (tmp_path / "idat.png").write_bytes(data)
    with pytest.raises(ImageLoadError, match="PNG image data is truncated or corrupt"):
        load_image(tmp_path / "idat.png")


# ----------------------------------------------------------------------------- options before the batch


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
def test_max_megapixels_must_be_positive(tmp_path: Path, seg_model: Path, value: str, capsys) -> None:
    src = save(tmp_path / "a.jpg")
    with pytest.raises(SystemExit) as info:
        cli_main(["remove", str(src), "-o", str(tmp_path / "o"), "--model", str(seg_model), "--max-megapixels", value])
    assert info.value.code == 2 and "max-megapixels" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_pixels"):
        RemoveOptions(max_pixels=0)


def test_bg_that_is_not_an_image_is_refused_before_the_batch(
    tmp_path: Path, seg_model: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    src = tmp_path / "in"
    for i in range(3):
        save(src / f"p{i}.jpg", seed=i)
    (tmp_path / "bg.txt").write_text("not an image")
    decoded: list[object] = []
    real = batch_photo.load_image
    monkeypatch.setattr(batch_photo, "load_image", lambda *a, **k: decoded.append(a[0]) or real(*a, **k))
    rc = cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model), "--bg",
                   str(tmp_path / "bg.txt")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "--bg" in err and "bg.txt" in err and "not a recognised image" in err
    assert not decoded and not (tmp_path / "out").exists()


def test_folder_given_as_model_says_so(tmp_path: Path, capsys) -> None:
    src = save(tmp_path / "a.jpg")
    (tmp_path / "models").mkdir()
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "o"), "--model", str(tmp_path / "models")]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "not found" not in err


# ----------------------------------------------------------------------------- progress after Ctrl-C


class InterruptingBar:
    """Stands in for tqdm: counts updates, and the second one is where the user presses Ctrl-C."""

    instances: ClassVar[list[InterruptingBar]] = []

    def __init__(self, *args, **kwargs) -> None:
        self.n = 0
        self.total = kwargs.get("total", 0)
        InterruptingBar.instances.append(self)

    def update(self, k: int = 1) -> None:
        self.n += k
        if self.n == 2:
            raise KeyboardInterrupt

    def set_postfix_str(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def test_progress_bar_does_not_jump_to_100_after_ctrl_c(
    tmp_path: Path, seg_model: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import tqdm

    src = tmp_path / "in"
    for i in range(8):
        save(src / f"p{i}.jpg", seed=i)
    InterruptingBar.instances.clear()
    monkeypatch.setattr(tqdm, "tqdm", InterruptingBar)
    assert cli_main(["remove", str(src), "-o", str(tmp_path / "out"), "--model", str(seg_model)]) == 130
    (bar,) = InterruptingBar.instances
    written = len(list((tmp_path / "out").glob("*.png")))  # photos really finished (one may finish in flight)
    assert bar.n == written and 2 <= written < 8 and bar.total == 8  # not a jump to 8 of 8
    assert "interrupted" in capsys.readouterr().err
