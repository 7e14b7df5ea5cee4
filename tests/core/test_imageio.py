"""Loading real-world files (and refusing broken ones clearly); atomic, alpha-keeping saves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers.corpus import bomb_png, make_corpus, photo, tree_hashes
from PIL import Image

from desktop_app.core.errors import ImageLoadError, ImageSaveError
from desktop_app.core.imageio import (
    TEMP_SUFFIX,
    encode_image,
    load_image,
    looks_like_image,
    remove_stale_temps,
    save_image_atomic,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, {c.path.name: c for c in make_corpus(folder)}


def test_every_corpus_file_loads_or_fails_clearly(corpus) -> None:
    folder, cases = corpus
    before = tree_hashes(folder)
    for name, case in cases.items():
        if case.ok:
            img = load_image(case.path)
            assert img.rgb.dtype == np.uint8 and img.rgb.ndim == 3 and img.rgb.shape[2] == 3, name
            assert img.rgb.flags.c_contiguous
            if case.expect:
                assert any(case.expect in w for w in img.warnings), (name, img.warnings)
        else:
            with pytest.raises(ImageLoadError) as info:
                load_image(case.path)
            assert case.expect in str(info.value), (name, str(info.value))
            assert name in str(info.value)  # the message names the file
    assert tree_hashes(folder) == before  # loading never writes


def test_exif_orientation_is_applied(corpus) -> None:
    img = load_image(corpus[1]["exif_rotated.jpg"].path)
    assert img.rgb.shape[:2] == (40, 20)  # stored 40 wide x 20 high, displayed rotated


def test_16bit_grey_is_scaled_not_clipped(corpus) -> None:
    img = load_image(corpus[1]["grey16.png"].path)
    assert img.rgb[0, 0, 0] == 0 and img.rgb[-1, -1, 0] == 255
    assert 100 < int(img.rgb[24, 32, 0]) < 155


def test_16bit_rgb_matches_8bit(corpus) -> None:
    img = load_image(corpus[1]["rgb16.png"].path)
    assert np.abs(img.rgb.astype(int) - photo().astype(int)).max() <= 1


def test_cmyk_becomes_rgb_red(corpus) -> None:
    r, g, b = load_image(corpus[1]["cmyk.jpg"].path).rgb[24, 32].astype(int)
    assert r > 200 and g < 80 and b < 80


def test_alpha_sources(corpus) -> None:
    pal = load_image(corpus[1]["palette_transparent.png"].path)
    assert pal.alpha is not None and (pal.alpha == 0).any() and (pal.alpha == 255).any()
    la = load_image(corpus[1]["grey_alpha.png"].path)
    assert la.alpha is not None and la.alpha[0, 0] == 0 and la.alpha[0, -1] == 255
    assert load_image(corpus[1]["plain.jpg"].path).alpha is None


def test_animated_takes_first_frame(corpus) -> None:
    for name in ("animated.gif", "animated.webp"):
        img = load_image(corpus[1][name].path)
        r, g, b = img.rgb[10, 10].astype(int)
        assert r > 240 and g < 15 and b < 15, name  # red, not the later blue/green frames


def test_bomb_limit_is_configurable(tmp_path: Path) -> None:
    small_bomb = bomb_png(tmp_path / "b.png", 3000, 3000)
    with pytest.raises(ImageLoadError, match="exceeds the limit of 1 MP"):
        load_image(small_bomb, max_pixels=1_000_000)
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):  # allowed size, but no real data
        load_image(small_bomb, max_pixels=None)


def test_bytes_source_and_sniffing(tmp_path: Path, corpus) -> None:
    data = corpus[1]["png_named.jpg"].path.read_bytes()
    img = load_image(data)
    assert img.source_format == "PNG" and img.path is None
    assert looks_like_image(corpus[1]["png_named.jpg"].path)
    assert not looks_like_image(corpus[1]["empty.jpg"].path)
    with pytest.raises(ImageLoadError, match="stdin"):
        load_image(b"nope")
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod 000 files; permission case not testable")
def test_unreadable_file(corpus) -> None:
    with pytest.raises(ImageLoadError, match="permission denied"):
        load_image(corpus[1]["locked.jpg"].path)


def rgba_sample() -> np.ndarray:
    rgba = np.dstack([photo(), np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))])
    return np.ascontiguousarray(rgba)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_png_and_webp_keep_alpha(tmp_path: Path, fmt: str) -> None:
    rgba = rgba_sample()
    path = save_image_atomic(tmp_path / f"out.{fmt}", rgba, fmt, quality=100)
    back = np.asarray(Image.open(path).convert("RGBA"))
    assert np.abs(back[..., 3].astype(int) - rgba[..., 3]).max() <= 1
    opaque = rgba[..., 3] == 255
    if fmt == "png":
        assert np.array_equal(back[..., :3][opaque], rgba[..., :3][opaque])
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))


def test_png_cutouts_are_lossless_for_other_decoders(tmp_path: Path) -> None:
    """The PNG encoder's speed settings (Paeth filter, run-length zlib strategy) change only the
    bytes: Pillow (libpng's rival decoder here) reads every channel of a cut-out back exactly,
    soft edges, transparent zeros and all; grey masks too."""
    rng = np.random.default_rng(5)
    rgba = np.zeros((61, 83, 4), np.uint8)
    rgba[10:50, 15:70, :3] = rng.integers(0, 256, (40, 55, 3))
    rgba[10:50, 15:70, 3] = 255
    rgba[8:52, 13:72, 3] = np.maximum(rgba[8:52, 13:72, 3], 90)  # a soft rim
    for image in (rgba, rgba[..., 3], rgba[..., :3]):
        path = save_image_atomic(tmp_path / f"c{image.ndim}{image.shape[-1]}.png", np.ascontiguousarray(image))
        assert np.array_equal(np.asarray(Image.open(path)), image)


def test_jpg_is_flattened_on_background(tmp_path: Path) -> None:
    rgba = rgba_sample()
    path = save_image_atomic(tmp_path / "out.jpg", rgba, "jpg", background=(0, 255, 0))
    back = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert back[24, 0, 1] > 230 and back[24, 0, 0] < 30  # fully transparent column shows the green
    assert Image.open(path).format == "JPEG"


def test_grey_mask_and_bad_arrays(tmp_path: Path) -> None:
    mask = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    path = save_image_atomic(tmp_path / "m.png", mask)
    assert np.array_equal(np.asarray(Image.open(path)), mask)
    with pytest.raises(ImageSaveError):
        encode_image(np.zeros((4, 4, 2), np.uint8), "png")
    with pytest.raises(ImageSaveError, match="unsupported output format"):
        save_image_atomic(tmp_path / "x.gif", mask)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ImageSaveError):
        save_image_atomic(blocker / "out.png", rgba_sample())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_outputs_get_normal_permissions(tmp_path: Path) -> None:
    from desktop_app.core.imageio import _FILE_MODE

    path = save_image_atomic(tmp_path / "o.png", rgba_sample())
    assert path.stat().st_mode & 0o777 == _FILE_MODE  # not mkstemp's 0600


def test_remove_stale_temps(tmp_path: Path) -> None:
    dead = tmp_path / f".a.png.999999999-x1{TEMP_SUFFIX}"
    mine = tmp_path / f".b.png.{os.getpid()}-x2{TEMP_SUFFIX}"
    other = tmp_path / "keep.png"
    for p in (dead, mine, other):
        p.write_bytes(b"1")
    assert remove_stale_temps(tmp_path) == 1
    assert not dead.exists() and mine.exists() and other.exists()


def test_permission_error_message_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "secret.jpg"
    target.write_bytes(b"x")
    real_open = os.open

    def deny(path, flags, *args, **kwargs):  # what open(2) says to a non-root user on a 0600 file
        if Path(path) == target:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(ImageLoadError, match="permission denied"):
        load_image(target)


def test_loading_a_photo_imports_only_the_decoders_we_take(tmp_path: Path) -> None:
    """Pillow imports all ~40 of its format plugins (~45 ms per process, paid by every batch run)
    when asked for a format it has not registered; ours are registered up front."""
    import json
    import subprocess
    import sys

    for ext in ("webp", "png", "jpg", "tif", "bmp", "gif"):
        Image.fromarray(photo(24, 32)).save(tmp_path / f"p.{ext}")
    code = (
        "import json, sys\n"
        "from desktop_app.core.imageio import load_image\n"
        f"for ext in ('webp', 'png', 'jpg', 'tif', 'bmp', 'gif'): load_image(r'{tmp_path}' + '/p.' + ext)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('PIL.') and m.endswith('Plugin'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert {"PIL.WebPImagePlugin", "PIL.PngImagePlugin", "PIL.JpegImagePlugin"} <= loaded
    assert "PIL.XbmImagePlugin" not in loaded and "PIL.PsdImagePlugin" not in loaded
