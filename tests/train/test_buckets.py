"""Keep-aspect segmentation training: shape-bucketed batches and rectangular crops."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import torch

from desktop_app.core.models import keep_aspect_size
from training.data.augment import augment_pair
from training.data.folder import load_decoded
from training.data.seg_dataset import SegTrainSet
from training.models.segnet import PRESETS, SegNet
from training.samplers import BucketedEpochSampler, EpochSampler
from training.seg.train import SegTask, parse_schedule
from training.trainer import TrainConfig, Trainer

from .test_augment import NO_COLOUR, _pattern

SHAPES = {0: (64, 64), 1: (64, 96), 2: (96, 64), 3: (64, 128)}  # bucket -> (H, W)


def _shape_of(i: int) -> tuple[int, int]:
    return SHAPES[i % 4]


def test_rectangular_crop_keeps_mask_aligned_and_has_the_asked_shape():
    image, mask = _pattern()
    for seed in range(20):
        img, msk = augment_pair(np.random.default_rng(seed), image, mask, (48, 80), NO_COLOUR)
        assert img.shape == (48, 80, 3) and msk.shape == (48, 80)
        assert np.abs(img[..., 0].astype(int) - msk.astype(int)).max() <= 1


def test_rectangular_crop_of_a_whole_photo_is_not_squashed():
    """A 60x120 photo cropped to (32, 64) with no scale or aspect jitter is a plain 2x shrink."""
    image = np.zeros((60, 120, 3), np.uint8)
    mask = np.zeros((60, 120), np.uint8)
    cv2.circle(mask, (60, 30), 20, 255, -1)
    image[..., 0] = mask
    cfg = NO_COLOUR.__class__(
        **{**NO_COLOUR.__dict__, "min_scale": 1.0, "max_aspect": 1.0, "max_rotate_deg": 0.0, "flip_prob": 0.0}
    )
    _, msk = augment_pair(np.random.default_rng(0), image, mask, (30, 60), cfg)
    ys, xs = np.nonzero(msk >= 128)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert abs(height - width) <= 1  # the circle is still round
    assert abs(width - 20) <= 2


def test_bucketed_batches_share_one_shape_and_cover_as_many_samples_as_plain():
    sampler = BucketedEpochSampler(50, 4, seed=0, shape_of=_shape_of)
    plain = EpochSampler(50, 4, seed=0)
    batches = sampler.batches()
    assert len(batches) == plain.batches_per_epoch() == 12
    indices = [i for batch in batches for i, _, _ in batch]
    assert len(indices) == len(set(indices)) == 48  # no repeats, only the remainder dropped
    for batch in batches:
        assert len(batch) == 4 and len({(h, w) for _, h, w in batch}) == 1
    # most images are trained at their own shape (only bucket-straddling batches differ)
    own = sum((h, w) == _shape_of(i) for batch in batches for i, h, w in batch)
    assert own >= 48 - 3 * 4
    assert list(iter(sampler)) == [item for batch in batches for item in batch]


def test_bucketed_order_is_seeded_per_epoch_and_resumable():
    sampler = BucketedEpochSampler(40, 4, seed=3, shape_of=_shape_of)
    first = sampler.batches()
    assert sampler.batches() == first
    sampler.skip_batches = 4
    assert sampler.batches() == first[4:]
    sampler.skip_batches, sampler.epoch = 0, 1
    assert sampler.batches() != first


def test_capped_epochs_take_the_front_of_the_shuffled_epoch():
    """``max_batches`` (the trainer's ``epoch_steps``) keeps the first N batches of the epoch's
    shuffled order, so a short phase sees every shape bucket, not the first buckets; lengths,
    resume and the plain sampler follow the cap."""
    full = BucketedEpochSampler(40, 4, seed=3, shape_of=_shape_of).batches()
    capped = BucketedEpochSampler(40, 4, seed=3, shape_of=_shape_of, max_batches=4)
    assert capped.batches_per_epoch() == 4 and capped.batches() == full[:4] and len(capped) == 16
    assert len({(h, w) for batch in full for _, h, w in batch}) > 1
    capped.skip_batches = 3
    assert capped.batches() == full[3:4] and len(capped) == 4
    plain = EpochSampler(40, 4, seed=3, max_batches=2)
    assert list(iter(plain)) == list(iter(EpochSampler(40, 4, seed=3)))[:8] and len(plain) == 8


def test_bucketed_ranks_get_disjoint_batches():
    ranks = [BucketedEpochSampler(40, 4, seed=0, shape_of=_shape_of, rank=r, world=2) for r in (0, 1)]
    seen = [{i for batch in s.batches() for i, _, _ in batch} for s in ranks]
    assert len(ranks[0].batches()) == len(ranks[1].batches()) == 5
    assert not seen[0] & seen[1]


def _mixed_aspect_dataset(root: Path) -> Path:
    """Photos at three aspects (square, landscape 3:2, portrait 2:3) with a centred ellipse."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(12):
        h, w = [(64, 64), (64, 96), (96, 64)][i % 3]
        mask = np.zeros((h, w), np.uint8)
        cv2.ellipse(mask, (w // 2, h // 2), (w // 4, h // 4), 0, 0, 360, 255, -1)
        img = np.where(mask[..., None] > 0, rng.integers(0, 256, 3), rng.integers(0, 256, (h, w, 3)))
        cv2.imwrite(str(root / "images" / f"p{i:03d}.png"), img.astype(np.uint8))
        cv2.imwrite(str(root / "masks" / f"p{i:03d}.png"), mask)
    return root


def test_keep_aspect_training_feeds_each_photo_at_its_own_shape(tmp_path, cache_dir):
    data = load_decoded(_mixed_aspect_dataset(tmp_path / "mixed"))
    train_set = SegTrainSet(data, size=32, seed=0, keep_aspect=True)
    assert train_set.network_shape(1) == keep_aspect_size(64, 96, 32) == (32, 64)
    pickle.loads(pickle.dumps(train_set))  # loader worker processes receive it pickled
    torch.manual_seed(0)
    model = SegNet(PRESETS["xs"])
    task = SegTask(train_set, data, parse_schedule("32:2"), eval_size=32, side_weight=0.4)
    cfg = TrainConfig(
        out=str(tmp_path / "run"),
        epochs=2,
        batch_size=4,
        lr=3e-3,
        warmup_steps=1,
        num_workers=0,
        threads=1,
        checkpoint_minutes=100,
    )
    trainer = Trainer(model, "segnet", PRESETS["xs"].to_dict(), task, train_set, cfg)
    assert isinstance(trainer.sampler, BucketedEpochSampler)
    shapes = []
    original = task.train_loss

    def spy(model, batch):
        shapes.append(tuple(batch[0].shape[-2:]))
        assert batch[1].shape[-2:] == batch[0].shape[-2:]
        return original(model, batch)

    task.train_loss = spy
    trainer.train()
    assert len(shapes) == 6
    assert {(32, 32), (32, 64), (64, 32)} <= set(shapes)  # every bucket trained at its own shape
    plain = SegTrainSet(data, size=32, seed=0)
    assert plain.bucket_shape is None and plain[1][0].shape == (3, 32, 32)
