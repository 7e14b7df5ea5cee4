"""Torch dataset for salient-object / cut-out training over a decoded folder."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from desktop_app.core.models import keep_aspect_size

from ..models.efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD
from .augment import AugmentConfig, augment_pair
from .folder import DecodedSet

cv2.setNumThreads(1)  # loader workers share 2 cores with the training threads


def to_tensor(image: np.ndarray, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """uint8 HxWx3 RGB -> normalised float CxHxW."""
    arr = image.astype(np.float32) / 255.0
    arr = (arr - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


KEEP_ASPECT_JITTER = 1.15  # crop aspect within +-15 % of the input's: shapes stay near true


class SegTrainSet(Dataset):
    """Random augmented crops; deterministic per (seed, epoch, index).

    Square mode (default): ``size`` x ``size`` crops, the aspect squashed as the old square
    model was fed. Keep-aspect mode: each image is cropped to the shape the app would feed it
    (short side ``size``, long side from its aspect, ``keep_aspect_size``) and the trainer
    batches images of one shape together through ``bucket_shape`` (``BucketedEpochSampler``),
    which then hands ``(index, height, width)`` to ``__getitem__``.

    ``size`` and ``epoch`` are plain attributes the trainer sets before each epoch (progressive
    resizing); worker processes are started per epoch so they see the new values.
    """

    def __init__(
        self,
        data: DecodedSet,
        size: int = 256,
        seed: int = 0,
        augment: AugmentConfig | None = None,
        keep_aspect: bool = False,
    ):
        self.data, self.size, self.seed, self.epoch = data, size, seed, 0
        self.keep_aspect = keep_aspect
        self.augment = augment or (AugmentConfig(max_aspect=KEEP_ASPECT_JITTER) if keep_aspect else AugmentConfig())
        # the trainer looks for this hook; None keeps plain (square) batching
        self.bucket_shape = self.network_shape if keep_aspect else None

    def network_shape(self, index: int) -> tuple[int, int]:
        """(H, W) the app feeds this photo at the current training size."""
        e = self.data.entries[index]
        return keep_aspect_size(e["h"], e["w"], self.size)

    def __len__(self) -> int:
        return len(self.data)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, item: int | tuple[int, int, int]):
        index, *shape = (item,) if isinstance(item, int) else item
        out = (shape[0], shape[1]) if shape else self.size
        rng = np.random.default_rng((self.seed, self.epoch, index))
        image, mask = self.data.image(index), self.data.mask(index)
        background = None
        if self.augment.composite_prob and rng.random() < self.augment.composite_prob:
            background = np.asarray(self.data.image(int(rng.integers(len(self.data)))))
        img, msk = augment_pair(rng, np.asarray(image), np.asarray(mask), out, self.augment, background)
        target = torch.from_numpy(msk.astype(np.float32) / 255.0)[None]
        return to_tensor(img), target


class SegEvalSet(Dataset):
    """Validation images resized as the app resizes them; the full-size mask is kept for metrics.

    ``keep_aspect`` follows the exported model's "keep-aspect" resize (shorter side ``size``),
    otherwise every image is stretched to ``size`` x ``size``.
    """

    def __init__(self, data: DecodedSet, size: int = 320, keep_aspect: bool = True):
        self.data, self.size, self.keep_aspect = data, size, keep_aspect

    def __len__(self) -> int:
        return len(self.data)

    def network_size(self, index: int) -> tuple[int, int]:
        h, w = self.data.mask(index).shape[:2]
        return keep_aspect_size(h, w, self.size) if self.keep_aspect else (self.size, self.size)

    def __getitem__(self, index: int):
        image = np.asarray(self.data.image(index))
        th, tw = self.network_size(index)
        resized = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
        return to_tensor(resized), index
