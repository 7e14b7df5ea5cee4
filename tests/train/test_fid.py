"""KID and the FID-style distance: the statistics on known sets, then through the real features."""

from __future__ import annotations

import numpy as np
import pytest

from training.fid import FeatureExtractor, distances, frechet_distance, halves, kid

from .test_gen import make_rgba_folder


def test_kid_is_about_zero_for_one_distribution_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((600, 32)), rng.standard_normal((600, 32))
    same, spread = kid(a, b, subsets=20, subset_size=300)
    assert abs(same) < 3 * spread + 1e-3
    shifted, _ = kid(a, b + 0.5, subsets=20, subset_size=300)
    further, _ = kid(a, b + 1.0, subsets=20, subset_size=300)
    assert shifted > 10 * max(abs(same), 1e-4) and further > shifted


def test_frechet_distance_of_a_shift_is_its_squared_length() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8))
    shift = np.arange(8) / 4.0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(a, 2 * a) > 1.0  # a wider copy is farther away


@pytest.mark.parametrize(
    ("n_a", "n_b", "rel"),
    [(500, 400, 1e-10), (500, 30, 1e-10), (30, 9, 1e-10), (6, 5, 1e-6), (3, 200, 1e-6)],
)
def test_frechet_distance_matches_the_textbook_sqrtm_formula(n_a, n_b, rel) -> None:
    """Against the usual FID code, Tr(Sa + Sb - 2 sqrtm(Sa Sb)) with scipy's Schur-based sqrtm, in
    8 dimensions: sets with more samples than dimensions (the QR path), fewer (the Gram path, where
    the covariances are singular and sqrtm itself is only good to ~1e-8), and one of each."""
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((n_a, 8)) @ rng.standard_normal((8, 8)) + 1.0
    b = rng.standard_normal((n_b, 8)) * np.linspace(0.5, 2, 8) - 0.5
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = mu @ mu + np.trace(sa) + np.trace(sb) - 2 * np.trace(linalg.sqrtm(sa @ sb)).real
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=rel)


def test_frechet_distance_ignores_a_rotation_into_more_dimensions() -> None:
    """8-dim sets embedded isometrically in 300 dims (fewer samples than dimensions, as with 1280-dim
    features of small sets) keep their distance, with no noise from the 292 empty directions."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 8)) @ rng.standard_normal((8, 8))
    b = rng.standard_normal((60, 8)) + 0.3
    embed = np.linalg.qr(rng.standard_normal((300, 8)))[0].T  # 8 x 300, orthonormal rows
    assert frechet_distance(a @ embed, b @ embed) == pytest.approx(frechet_distance(a, b), rel=1e-10)
    with pytest.raises(ValueError):
        frechet_distance(a[:1], b)


def test_halves_are_disjoint_and_equal() -> None:
    a, b = halves(11, seed=3)
    assert len(a) == len(b) == 5 and not set(a) & set(b)


def test_pretrained_features_tell_images_from_noise(tmp_path) -> None:
    """Real EfficientNet-Lite0 features: a set of emoji-like discs against an independent draw of
    the same kind is ~0; against uniform noise images it is large."""
    from training.data.emoji import load_emoji

    images, _ = load_emoji(make_rgba_folder(tmp_path / "d", n=40, size=48), 64, cache_dir=tmp_path / "c")
    noise = np.random.default_rng(0).integers(0, 256, images.shape, dtype=np.uint8)
    features = FeatureExtractor(size=96)
    f_img, f_noise = features(images), features(noise)
    assert f_img.shape == (40, 1280) and np.isfinite(f_img).all()
    first, second = f_img[:20], f_img[20:]
    same = distances(first, second, subset_size=20)
    against_noise = distances(f_noise[:20], second, subset_size=20)
    assert against_noise["kid_x1000"] > 10 * max(abs(same["kid_x1000"]), 1.0)
    assert against_noise["fd"] > 3 * same["fd"]
