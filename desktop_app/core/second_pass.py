"""A second pass for automatic background removal through the click model, Qt-free.

The click model was trained to correct imperfect masks: it sees the photo, the previous mask
and the user's clicks, on a crop zoomed onto the object. Background removal can use it with
no user at all: take the segmentation model's mask as the previous mask and put one positive
click where a user would put their first, the point deepest inside the subject (the field's
first-click rule). The click model then re-predicts the subject at its zoomed-in scale.

Measured on SOD (300 images, docs/decisions.md #8; session 13, seednet-lite0 + the 320 px
click model): MAE 0.1117 -> 0.1044, max F 0.8109 -> 0.8105, boundary F 0.454 -> 0.522. It costs no
extra download: the click model ships for the editor anyway.

Large photos run the second pass on a working copy whose long side is ``WORK_SIDE``
(:func:`second_pass_alpha`): the click model sees at most 320 px of any zoom box, and its
smallest box is a fifth of the long side, so 1600 px loses nothing the network would see,
while every full-resolution pass (mask copy, first-click search, box crop, upscale) becomes
a quarter-size pass or disappears. The result is upscaled once at the end.
"""

from __future__ import annotations

import cv2
import numpy as np

from desktop_app.core.clicks.engine import Click, ClickPredictor, ClickSegmenter, _binary_u8, find_click_model
from desktop_app.core.errors import ModelError
from desktop_app.core.refine import guided_upsample, refine_alpha
from desktop_app.core.segment import Segmenter, resize_to

SEARCH_SIDE = 512  # the first click is searched on a mask shrunk to at most this side
WORK_SIDE = 1600  # long side of the working copy: the smallest zoom box (1/5 of it) is the click input


def shrink_long_side(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` (a photo or a mask) itself when its long side is at most ``side``, else an
    area-averaged copy that fits."""
    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    scale = side / max(h, w)
    return resize_to(image, (max(1, round(h * scale)), max(1, round(w * scale))))


def interior_click(alpha: np.ndarray) -> Click | None:
    """The point farthest from the edge of the subject (alpha >= 0.5), or None if empty.

    The distance transform runs on a copy shrunk to ``SEARCH_SIDE`` so a 24 MP mask costs a
    few milliseconds; the point is mapped back to full-resolution pixel coordinates.
    """
    h, w = alpha.shape[:2]
    small = shrink_long_side(alpha, SEARCH_SIDE)
    scale_y, scale_x = small.shape[0] / h, small.shape[1] / w  # the sizes as rounded, per axis
    binary = _binary_u8(small)  # the click engine's own object test (uint8 >= 128, float >= 0.5)
    if not binary.any():
        return None
    # pad so the photo's border counts as an edge: a subject cut by the frame is clicked inside
    dist = cv2.distanceTransform(np.pad(binary, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(dist.argmax()), dist.shape)
    return Click(float((x + 0.5) / scale_x - 0.5), float((y + 0.5) / scale_y - 0.5), positive=True)


def second_pass(clicker: ClickPredictor, rgb: np.ndarray, alpha: np.ndarray, refine: bool = False) -> np.ndarray:
    """The click model's answer for the subject in ``alpha`` (float32 HxW in [0, 1]).

    Outside the click model's zoom box the first mask is kept; an empty mask is returned
    unchanged (there is no subject to click on). ``refine`` snaps the new mask's edges to the
    photo the way the segmentation model's are (guided upsampling from the network's size).
    """
    alpha = np.array(alpha, np.float32)  # a copy: the caller's mask is not written to
    click = interior_click(alpha)
    if click is None:
        return alpha
    (x0, y0, x1, y1), prob = clicker.predict_region(rgb, [click], alpha, focus=False)
    if refine:
        s = clicker.spec.input_size
        prob = refine_alpha(rgb[y0:y1, x0:x1], prob, model_size=(s, s))
    alpha[y0:y1, x0:x1] = prob
    return alpha


def second_pass_alpha(
    segmenter: Segmenter, clicker: ClickPredictor, rgb: np.ndarray, refine: bool = False, work_side: int = WORK_SIDE
) -> np.ndarray:
    """Segmentation plus the second pass for a photo of any size (float32 HxW in [0, 1]).

    Both models run on the working copy (:func:`shrink_long_side`); photos that fit are used
    as they are, so their result equals :func:`second_pass` on the segmenter's full-size mask.
    The working mask is brought to the photo's size once: with ``refine`` by guided
    upsampling against the full-resolution photo, otherwise bilinearly.
    """
    work = shrink_long_side(rgb, work_side)
    alpha = second_pass(clicker, work, segmenter.predict(work, refine=refine), refine=refine)
    if work is rgb:
        return alpha
    return guided_upsample(rgb, alpha) if refine else resize_to(alpha, rgb.shape[:2])


def default_clicker() -> ClickSegmenter:
    """The click model the editor uses (embedded first, then the user's models)."""
    path = find_click_model()
    if path is None:
        raise ModelError(
            "the second pass needs a click model (kind 'clicks'), and none was found in the "
            "embedded or user model folders"
        )
    return ClickSegmenter(path)
