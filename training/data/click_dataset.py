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

# scale of a focus sample's object against a whole-object crop: the editor's focus square is
# 0.4 of the zoom box's side, so a part is seen ~2.5x larger than in the coarse pass (less on
# small photos, where the square may not upsample more than 2x)
FOCUS_ZOOM = (1.6, 2.6)


class ClickTrainSet(Dataset):
    """Returns (image, gt, guidance): guidance = [positive disks, negative disks, prev mask].

    Two starting states, as the editor has: from nothing (clicks only) or from an imperfect
    automatic mask (``perturb_prob``), whose largest error gets the first click.

    ``focus_prob``: share of samples drawn as the editor's *focus pass* sees a click (see
    desktop_app/core/clicks/focus.py): the object at ``FOCUS_ZOOM`` times the crop's scale, an
    imperfect mask (thin parts lost, gaps filled), the protocol's click at its largest error
    and a size x size window around that click. The whole-object crops teach which object;
    these teach what a click on a tail or a leg means up close: that part, not the dark
    background beside it.
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
        focus_prob: float = 0.0,
    ):
        """``object_crop_prob``: share of samples cropped around the object (zoom-in scale)."""
        self.data, self.size, self.seed, self.epoch, self.radius = data, size, seed, 0, radius
        self.component_prob, self.perturb_prob, self.focus_prob = component_prob, perturb_prob, focus_prob
        self.augment = AugmentConfig(
            min_scale=0.5, composite_prob=0.1, max_rotate_deg=8, object_crop_prob=object_crop_prob
        )

    def __len__(self) -> int:
        return len(self.data)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _object(self, rng, index, size: int | None = None):
        image, mask = np.asarray(self.data.image(index)), np.asarray(self.data.mask(index))
        for _ in range(3):
            img, msk = augment_pair(rng, image, mask, size or self.size, self.augment)
            gt = msk >= 128
            if gt.sum() >= 0.005 * gt.size:
                break
        parts = split_components(gt)
        if len(parts) > 1 and rng.random() < self.component_prob:
            gt = parts[int(rng.integers(len(parts)))]
        return img, gt

    def _focus_sample(self, rng, index):
        """A focus-pass sample, or None when the imperfect mask happens to be perfect."""
        big = round(self.size * rng.uniform(*FOCUS_ZOOM))
        img, gt = self._object(rng, index, big)
        prev = perturb_mask(gt, rng)
        click = next_click(prev > 0.5, gt)
        if click is None:
            return None
        # the window is centred on the click as the editor's is, up to a jitter (clipped at the
        # photo's border it is not centred there either)
        jitter = self.size / 6
        x0 = int(np.clip(round(click.x + rng.uniform(-jitter, jitter) - self.size / 2), 0, big - self.size))
        y0 = int(np.clip(round(click.y + rng.uniform(-jitter, jitter) - self.size / 2), 0, big - self.size))
        window = np.s_[y0 : y0 + self.size, x0 : x0 + self.size]
        local = Click(click.x - x0, click.y - y0, click.positive)
        return img[window], gt[window], [local], prev[window]

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.focus_prob and rng.random() < self.focus_prob:
            sample = self._focus_sample(rng, index)
            if sample is not None:
                img, gt, clicks, prev = sample
                return self._tensors(img, gt, clicks, prev)
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
        return self._tensors(img, gt, clicks, prev)

    def _tensors(self, img, gt, clicks: list[Click], prev):
        guidance = encode_guidance(clicks, self.size, self.radius, prev)
        target = torch.from_numpy(gt.astype(np.float32))[None]
        return to_tensor(img), target, torch.from_numpy(guidance)
