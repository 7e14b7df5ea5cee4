"""Zero-copy bridges between numpy arrays and QImage, plus display pyramids.

Why zero-copy: a 24 MP photo is 72 MB and its mask 24 MB. Wrapping the numpy buffers in
QImage views (instead of converting) means the mask overlay shows brush edits as soon as the
widget repaints the dirty rectangle: no per-stroke conversion at all. The arrays must outlive
the QImage, so every view is returned together with the array it borrows from.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QColor, QImage


@dataclass
class ImageView:
    """A QImage borrowing ``array``'s memory (keep this object alive while drawing)."""

    image: QImage
    array: np.ndarray


def rgb_view(rgb: np.ndarray) -> ImageView:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return ImageView(QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888), rgb)


def rgba_view(rgba: np.ndarray) -> ImageView:
    """Straight (non-premultiplied) RGBA, as the core's compose functions return it."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return ImageView(QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888), rgba)


def grey_view(mask: np.ndarray) -> ImageView:
    h, w = mask.shape
    return ImageView(QImage(mask.data, w, h, mask.strides[0], QImage.Format.Format_Grayscale8), mask)


def alpha_view(mask: np.ndarray) -> ImageView:
    """Mask as an alpha-only image: used with DestinationIn to cut the photo out."""
    h, w = mask.shape
    return ImageView(QImage(mask.data, w, h, mask.strides[0], QImage.Format.Format_Alpha8), mask)


def tint_view(mask: np.ndarray, color: QColor, opacity: float) -> ImageView:
    """Mask as an indexed image whose palette tints what will be REMOVED: value v maps to
    ``color`` at alpha (255 - v) * opacity, so the subject keeps its true colours and the
    brush visibly "clears" the tint where it adds to the mask.

    Changing tint colour or opacity is then just a new 256-entry palette (see ``set_tint``).
    """
    h, w = mask.shape
    view = ImageView(QImage(mask.data, w, h, mask.strides[0], QImage.Format.Format_Indexed8), mask)
    set_tint(view.image, color, opacity)
    return view


def set_tint(image: QImage, color: QColor, opacity: float) -> None:
    r, g, b = color.red(), color.green(), color.blue()
    opacity = min(max(opacity, 0.0), 1.0)
    image.setColorTable([QColor(r, g, b, round((255 - v) * opacity)).rgba() for v in range(256)])


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """Copy any QImage (e.g. from the clipboard) into an HxWx3 uint8 RGB array."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """Copy a QImage into RGBA uint8 (straight alpha): for tests and screenshots."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()


def build_pyramid(rgb: np.ndarray, min_side: int = 512) -> list[np.ndarray]:
    """Half-size levels (area-averaged) down to ``min_side``: level k is 2**-k of the photo.

    Drawing a zoomed-out 24 MP photo from a level near screen resolution looks better (area
    averaging instead of bilinear point samples) and costs a fraction of the time. Computed on
    the loader thread, never on the GUI thread.
    """
    levels = [rgb]
    cur = rgb
    while min(cur.shape[:2]) >= 2 * min_side:
        h, w = cur.shape[:2]
        cur = cv2.resize(cur, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        levels.append(np.ascontiguousarray(cur))
    return levels


class MaskPyramid:
    """The live mask plus half-size levels matching the photo pyramid, with QImage views.

    Why: drawing a zoomed-out 24 MP mask straight from full resolution either aliases (nearest
    sampling) or costs tens of milliseconds (filtered). Level k is the 2x2 area average of
    level k-1, kept current by re-averaging only the dirty rectangle after each edit, so a
    brush dab costs microseconds and a whole-mask change one fast resize per level.
    """

    def __init__(self, mask: np.ndarray, n_levels: int, color: QColor, opacity: float) -> None:
        self.levels: list[np.ndarray] = [mask]
        for _ in range(1, max(n_levels, 1)):
            h, w = self.levels[-1].shape
            if h < 2 or w < 2:
                break
            self.levels.append(np.zeros((h // 2, w // 2), np.uint8))
        self.update(None)
        self.tint = [tint_view(m, color, opacity) for m in self.levels]
        self.grey = [grey_view(m) for m in self.levels]
        self.alpha = [alpha_view(m) for m in self.levels]

    def set_tint(self, color: QColor, opacity: float) -> None:
        for view in self.tint:
            set_tint(view.image, color, opacity)

    def update(self, rect: tuple[int, int, int, int] | None) -> None:
        """Recompute the coarser levels where level 0 changed (``rect`` = x, y, w, h; None: all)."""
        if rect is None:
            rect = (0, 0, self.levels[0].shape[1], self.levels[0].shape[0])
        x, y, w, h = rect
        for k in range(1, len(self.levels)):
            src, dst = self.levels[k - 1], self.levels[k]
            dh, dw = dst.shape
            x0, y0 = max(x // 2, 0), max(y // 2, 0)
            x1, y1 = min((x + w + 1) // 2, dw), min((y + h + 1) // 2, dh)
            if x1 <= x0 or y1 <= y0:
                return
            block = src[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
            dst[y0:y1, x0:x1] = cv2.resize(block, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
            x, y, w, h = x0, y0, x1 - x0, y1 - y0
