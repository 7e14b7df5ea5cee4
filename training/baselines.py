"""Classical (no learning) baselines, run beside our models so the gain is visible."""

from __future__ import annotations

import cv2
import numpy as np


def grabcut_center_rect(rgb: np.ndarray, margin: float = 0.1, iterations: int = 5, max_side: int = 400) -> np.ndarray:
    """Foreground estimate by OpenCV GrabCut initialised with a centred rectangle.

    The rectangle leaves ``margin`` of each side as sure background, the usual way to seed
    GrabCut when the subject is assumed to be roughly centred (it is, in most SOD photos).
    Runs at most ``max_side`` px for speed; returns float32 {0, 1} at the input size.
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    sh, sw = small.shape[:2]
    rect = (int(sw * margin), int(sh * margin), int(sw * (1 - 2 * margin)), int(sh * (1 - 2 * margin)))
    mask = np.zeros((sh, sw), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    if scale < 1:
        fg = (cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5).astype(np.float32)
    return fg
