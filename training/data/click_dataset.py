"""Training samples for the click model: augmented crop, one object, initial clicks and mask."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from desktop_app.core.clicks.engine import Click, encode_guidance

from .augment import AugmentConfig, augment_pair
from .click_sim import next_click, perturb_mask, random_click_inside, split_components
from .folder import DecodedSet
from .seg_dataset import to_tensor


class ClickTrainSet(Dataset):
    """Returns (image, gt, guidance): guidance = [positive disks, negative disks, prev mask].

    Two starting states, as the editor has: from nothing (clicks only) or from an imperfect
    automatic mask (``perturb_prob``), whose largest error gets the first click.
    """

    def __init__(
        self,
        data: DecodedSet,
        size: int = 256,
        seed: int = 0,
        radius: float = 4.0,
        component_prob: float = 0.4,
        perturb_prob: float = 0.3,
        object_crop_prob: float = 0.0,
    ):
        """``object_crop_prob``: share of samples cropped around the object (zoom-in scale)."""
        self.data, self.size, self.seed, self.epoch, self.radius = data, size, seed, 0, radius
        self.component_prob, self.perturb_prob = component_prob, perturb_prob
        self.augment = AugmentConfig(
            min_scale=0.5, composite_prob=0.1, max_rotate_deg=8, object_crop_prob=object_crop_prob
        )

    def __len__(self) -> int:
        return len(self.data)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _object(self, rng, index):
        image, mask = np.asarray(self.data.image(index)), np.asarray(self.data.mask(index))
        for _ in range(3):
            img, msk = augment_pair(rng, image, mask, self.size, self.augment)
            gt = msk >= 128
            if gt.sum() >= 0.005 * gt.size:
                break
        parts = split_components(gt)
        if len(parts) > 1 and rng.random() < self.component_prob:
            gt = parts[int(rng.integers(len(parts)))]
        return img, gt

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        img, gt = self._object(rng, index)
        clicks: list[Click] = []
        prev = None
        if rng.random() < self.perturb_prob:
            prev = perturb_mask(gt, rng)
            first = next_click(prev > 0.5, gt)
            if first is not None:
                clicks.append(first)
        if not clicks:
            prev = None
            first = random_click_inside(gt, rng)
            if first is not None:
                clicks.append(first)
            for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.3 else 0):
                extra = random_click_inside(gt, rng, 0.2)
                if extra is not None:
                    clicks.append(extra)
            for _ in range(int(rng.integers(1, 3)) if rng.random() < 0.3 else 0):
                neg = random_click_inside(~gt, rng, 0.1)
                if neg is not None:
                    clicks.append(Click(neg.x, neg.y, False))
        guidance = encode_guidance(clicks, self.size, self.radius, prev)
        target = torch.from_numpy(gt.astype(np.float32))[None]
        return to_tensor(img), target, torch.from_numpy(guidance)
