"""``seg compare``: the same photos cut out by several models, side by side, for a model card.

Each row is one photo: the photo, its ground truth when the data set has one, then each
model's cut-out through the app's own removal path, on a checkerboard so semi-transparent
ghosts and missing parts show as they would in an editor. Photos are named by stem (looked
up in ``--data``) or given as paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ..data.folder import read_mask, read_rgb

LABEL_H = 22


def checkerboard(h: int, w: int, cell: int = 12) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // cell + xx // cell) % 2).astype(bool)
    board = np.full((h, w, 3), 200, np.uint8)
    board[light] = 240
    return board


def on_checkerboard(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[..., None]
    return (rgb * a + checkerboard(*alpha.shape) * (1 - a)).astype(np.uint8)


def _fit(img: np.ndarray, height: int) -> np.ndarray:
    """Scale into a height x 1.5*height cell (white margins), so portrait and landscape
    photos line up in columns and every label has room."""
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    width = round(height * 1.5)
    scale = min(height / img.shape[0], width / img.shape[1])
    w, h = max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))
    cell = np.full((height, width, 3), 255, np.uint8)
    x0, y0 = (width - w) // 2, (height - h) // 2
    cell[y0 : y0 + h, x0 : x0 + w] = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    return cell


def _label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((LABEL_H, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def resolve_photo(name: str, data: Path | None) -> tuple[Path, Path | None]:
    """A path, or a stem of ``data/images`` (with its mask when there is one)."""
    path = Path(name)
    if path.is_file():
        return path, None
    if data is None:
        raise FileNotFoundError(f"{name}: not a file, and no --data to look the stem up in")
    matches = sorted((data / "images").glob(f"{name}.*"))
    if not matches:
        raise FileNotFoundError(f"{name}: no such photo in {data / 'images'}")
    mask = data / "masks" / f"{name}.png"
    return matches[0], mask if mask.is_file() else None


def compare_grid(models: list[str], names: list[str], photos: list[str], data: Path | None, height: int) -> np.ndarray:
    from desktop_app.core.options import RemoveOptions
    from desktop_app.core.pipeline import predict_alpha
    from desktop_app.core.segment import Segmenter

    segmenters = [Segmenter(Path(m)) for m in models]
    rows = []
    for photo in photos:
        path, mask_path = resolve_photo(photo, data)
        rgb = read_rgb(path)
        cells = [_label(_fit(rgb, height), path.stem)]
        truth = read_mask(mask_path) if mask_path else np.zeros(rgb.shape[:2], np.uint8)
        cells.append(_label(_fit(truth, height), "ground truth" if mask_path else "(no ground truth)"))
        for name, segmenter in zip(names, segmenters, strict=True):
            alpha = predict_alpha(segmenter, rgb, RemoveOptions(), None)
            cells.append(_label(_fit(on_checkerboard(rgb, alpha), height), name))
        rows.append(np.hstack([np.pad(c, ((0, 0), (0, 4), (0, 0)), constant_values=255) for c in cells]))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.vstack(rows)


def add_compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", nargs="+", required=True, help="ONNX files, one column each")
    p.add_argument("--names", nargs="+", help="column titles (default: file names)")
    p.add_argument("--photos", nargs="+", required=True, help="photo paths or stems of --data")
    p.add_argument("--data", type=Path, help="data set folder with images/ and masks/ (for stems)")
    p.add_argument("--height", type=int, default=200)
    p.add_argument("--out", required=True)


def cmd_compare(args: argparse.Namespace) -> int:
    names = args.names or [Path(m).stem for m in args.models]
    if len(names) != len(args.models):
        raise SystemExit("--names needs one title per model")
    grid = compare_grid(args.models, names, args.photos, args.data, args.height)
    cv2.imwrite(str(args.out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})")
    return 0
