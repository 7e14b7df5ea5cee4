"""The numba-free foreground estimators: the vectorised multilevel solver against a per-pixel
reference, against pymatting (when installed), and on scenes with known colours."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from desktop_app.core import compose, fb_estimation

F_TRUE = np.array([0.85, 0.25, 0.2], np.float32)
B_TRUE = np.array([0.1, 0.55, 0.3], np.float32)


def known_scene(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A soft-edged disc of colour F_TRUE over B_TRUE, with a little texture in both."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    alpha = np.clip((0.35 * min(h, w) - np.hypot(yy - h / 2, xx - w / 2)) / 6.0 + 0.5, 0, 1).astype(np.float32)
    fg = F_TRUE + rng.normal(0, 0.01, (h, w, 3)).astype(np.float32)
    bg = B_TRUE + rng.normal(0, 0.01, (h, w, 3)).astype(np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return np.clip(image, 0, 1).astype(np.float32), alpha


def reference_red_black(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Germer et al.'s multilevel estimator written pixel by pixel: pymatting's equations,
    iteration schedule and border clamping, red pixels then black pixels per sweep. The
    vectorised solver clamps only on levels up to THIN_SIZE across and gives an outside
    neighbour weight 0 elsewhere: a 1e-5 weight apart, within the tolerance below."""
    h0, w0 = alpha.shape
    fg_mask, bg_mask = alpha > 0.9, alpha < 0.1
    f_prev = (image[fg_mask].sum(0) / (fg_mask.sum() + 1e-5)).reshape(1, 1, 3)
    b_prev = (image[bg_mask].sum(0) / (bg_mask.sum() + 1e-5)).reshape(1, 1, 3)
    n_levels = max(1, int(np.ceil(np.log2(max(w0, h0)))))  # pymatting divides by zero on 1x1
    for level in range(n_levels + 1):
        w, h = round(w0 ** (level / n_levels)), round(h0 ** (level / n_levels))

        def nearest(x: np.ndarray, h: int = h, w: int = w) -> np.ndarray:
            ys = np.minimum(x.shape[0] - 1, np.arange(h) * x.shape[0] // h)
            xs = np.minimum(x.shape[1] - 1, np.arange(w) * x.shape[1] // w)
            return x[ys][:, xs].astype(np.float64)

        img, a, f, b = nearest(image), nearest(alpha), nearest(f_prev), nearest(b_prev)
        iterations = 10 if w <= 32 and h <= 32 else 2  # pymatting's schedule
        for _ in range(iterations):
            for colour in (0, 1):
                for y in range(h):
                    for x in range(w):
                        if (y + x) % 2 != colour:
                            continue
                        a0 = a[y, x]
                        a00, a11, a01 = a0 * a0, (1 - a0) ** 2, a0 * (1 - a0)
                        b0, b1 = a0 * img[y, x], (1 - a0) * img[y, x]
                        for dy, dx in ((0, -1), (0, 1), (-1, 0), (1, 0)):
                            y2, x2 = min(h - 1, max(0, y + dy)), min(w - 1, max(0, x + dx))
                            da = fb_estimation.REGULARIZATION + abs(a0 - a[y2, x2])
                            a00, a11 = a00 + da, a11 + da
                            b0, b1 = b0 + da * f[y2, x2], b1 + da * b[y2, x2]
                        det = a00 * a11 - a01 * a01
                        f[y, x] = np.clip((a11 * b0 - a01 * b1) / det, 0, 1)
                        b[y, x] = np.clip((a00 * b1 - a01 * b0) / det, 0, 1)
        f_prev, b_prev = f, b
    return f_prev, b_prev


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (9, 14), (23, 17), (32, 32), (1, 120), (3, 50), (40, 9)])
def test_vectorised_solver_matches_the_per_pixel_reference(shape) -> None:
    rng = np.random.default_rng(3)
    image = rng.random((*shape, 3), dtype=np.float32)
    alpha = np.clip(rng.random(shape, dtype=np.float32) * 1.4 - 0.2, 0, 1)
    f, b = fb_estimation.multilevel_fb(image, alpha)
    f_ref, b_ref = reference_red_black(image, alpha)
    assert f.shape == b.shape == (*shape, 3) and f.dtype == np.float32
    # float32 against float64: the 2x2 systems of flat regions are nearly singular (det ~ 1e-5)
    np.testing.assert_allclose(f, f_ref, atol=1e-3)
    np.testing.assert_allclose(b, b_ref, atol=1e-3)


@pytest.mark.parametrize("shape", [(64, 96), (121, 77)])  # odd sizes exercise the padded phases
def test_recovers_known_foreground_and_background(shape) -> None:
    image, alpha = known_scene(*shape)
    f, b = fb_estimation.multilevel_fb(image, alpha)
    band = (alpha > 0.1) & (alpha < 0.9)
    naive_error = np.abs(image[band] - F_TRUE).mean()
    assert np.abs(f[band] - F_TRUE).mean() < min(0.03, naive_error / 5)
    assert np.abs(b[band] - B_TRUE).mean() < 0.03
    assert f.min() >= 0 and f.max() <= 1 and np.isfinite(b).all()


def test_close_to_pymatting() -> None:
    """Same method as pymatting's (Gauss-Seidel order differs: red-black, not scan order)."""
    pymatting = pytest.importorskip("pymatting")
    image, alpha = known_scene(90, 130, seed=1)
    f, b = fb_estimation.multilevel_fb(image, alpha)
    f_ref, b_ref = pymatting.estimate_foreground_ml(image, alpha, return_background=True)
    band = (alpha > 0.01) & (alpha < 0.99)
    assert np.abs(f - f_ref)[band].mean() * 255 < 1.0
    assert np.abs(b - b_ref)[band].mean() * 255 < 1.0


def test_default_cutout_path_imports_neither_pymatting_nor_numba() -> None:
    code = (
        "import sys, numpy as np\n"
        "from desktop_app.core import compose\n"
        "a = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (48, 1))\n"
        "rgb = np.full((48, 64, 3), 120, np.uint8)\n"
        "compose.estimate_foreground(rgb, a)\n"
        "print(sorted(m for m in ('pymatting', 'numba', 'scipy', 'onnx') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_estimate_foreground_rejects_unknown_method() -> None:
    image, alpha = known_scene(20, 20)
    with pytest.raises(ValueError, match="unknown foreground estimator"):
        compose.estimate_foreground((image * 255).astype(np.uint8), alpha, method="nope")
