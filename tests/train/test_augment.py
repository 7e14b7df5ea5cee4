"""Augmentation keeps the mask aligned with the image and is reproducible."""

from __future__ import annotations

import numpy as np

from training.data.augment import AugmentConfig, augment_pair, object_affine, random_affine, warp_pair
from training.data.folder import list_pairs, load_decoded
from training.data.seg_dataset import SegTrainSet

NO_COLOUR = AugmentConfig(brightness=0, contrast=0, saturation=0, hue_deg=0, composite_prob=0, grey_prob=0, blur_prob=0)


def _pattern(size: int = 96, seed: int = 0):
    """Image whose red channel equals the mask, so alignment is checkable after any warp."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), np.uint8)
    for _ in range(6):
        x, y = rng.integers(0, size - 20, 2)
        mask[y : y + rng.integers(8, 20), x : x + rng.integers(8, 20)] = 255
    image = np.stack([mask, rng.integers(0, 256, mask.shape, dtype=np.uint8), 255 - mask], -1)
    return image, mask


def test_geometry_keeps_mask_aligned_with_image():
    image, mask = _pattern()
    for seed in range(20):
        rng = np.random.default_rng(seed)
        img, msk = augment_pair(rng, image, mask, 64, NO_COLOUR)
        assert img.shape == (64, 64, 3) and msk.shape == (64, 64)
        # the red channel went through the same warp as the mask: identical values
        assert np.abs(img[..., 0].astype(int) - msk.astype(int)).max() <= 1


def test_flip_moves_mask_and_image_together():
    image, mask = _pattern()
    cfg = AugmentConfig(min_scale=1.0, max_aspect=1.0, max_rotate_deg=0, flip_prob=1.0)
    matrix = random_affine(np.random.default_rng(0), 96, 96, 96, cfg)
    img, msk = warp_pair(image, mask, matrix, 96)
    np.testing.assert_array_equal(msk, mask[:, ::-1])
    np.testing.assert_array_equal(img[..., 0], image[:, ::-1, 0])


def test_object_crop_puts_the_object_at_zoom_in_scale_and_stays_aligned():
    image = np.zeros((120, 200, 3), np.uint8)
    mask = np.zeros((120, 200), np.uint8)
    mask[70:100, 150:190] = 255  # a 40 px wide object near the right edge
    image[..., 0] = mask
    cfg = AugmentConfig(max_rotate_deg=0, flip_prob=0.5, object_crop_prob=1.0)
    for seed in range(10):
        matrix = object_affine(np.random.default_rng(seed), mask, 64, cfg, expansion=(1.2, 1.8))
        img, msk = warp_pair(image, mask, matrix, 64)
        xs = np.nonzero(msk >= 128)[1]
        width = xs.max() - xs.min() + 1
        assert 64 / 1.8 - 2 <= width <= 64 / 1.2 + 2  # object side = crop side / expansion
        assert np.abs(img[..., 0].astype(int) - msk.astype(int)).max() <= 1
        # the crop stays inside the photo (no mirrored copy of the object from the border)
        assert ((msk >= 128).sum(axis=0) > 0).sum() == width
    assert object_affine(np.random.default_rng(0), np.zeros_like(mask), 64, cfg) is None


def test_colour_jitter_changes_colours_not_the_mask():
    image, mask = _pattern()
    cfg = AugmentConfig(composite_prob=0, blur_prob=0)
    _, m1 = augment_pair(np.random.default_rng(3), image, mask, 64, NO_COLOUR)
    img2, m2 = augment_pair(np.random.default_rng(3), image, mask, 64, cfg)
    np.testing.assert_array_equal(m1, m2)  # same geometry draws come first
    assert img2.shape == (64, 64, 3)


def test_dataset_is_deterministic_per_seed_epoch_index(tiny_dataset, cache_dir):
    data = load_decoded(tiny_dataset)
    assert len(data) == len(list_pairs(tiny_dataset)) == 12
    ds = SegTrainSet(data, size=48, seed=1)
    a, b = ds[3], ds[3]
    assert a[0].shape == (3, 48, 48) and a[1].shape == (1, 48, 48)
    assert np.array_equal(a[0].numpy(), b[0].numpy())
    ds.set_epoch(1)
    assert not np.array_equal(a[0].numpy(), ds[3][0].numpy())
    assert float(a[1].min()) >= 0.0 and float(a[1].max()) <= 1.0


def test_decoded_cache_matches_files(tiny_dataset, cache_dir):
    from training.data.folder import read_mask, read_rgb

    data = load_decoded(tiny_dataset)
    img_path, mask_path = list_pairs(tiny_dataset)[5]
    np.testing.assert_array_equal(data.image(5), read_rgb(img_path))
    np.testing.assert_array_equal(data.mask(5), read_mask(mask_path))
    assert load_decoded(tiny_dataset).entries == data.entries  # second call reuses the cache
