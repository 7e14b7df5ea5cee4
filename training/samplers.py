"""Epoch samplers for the trainer: a seeded order per epoch, sharded across ranks, resumable.

``EpochSampler`` yields dataset indices. ``BucketedEpochSampler`` yields ``(index, height,
width)`` so that every batch shares one input shape chosen from its images' own aspect ratios
(aspect-ratio bucketing): the segmentation network is run on photos at their own shape
(short side fixed, long side from the aspect, docs/decisions.md #6), so it should also be
trained that way instead of on squashed squares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from torch.utils.data import Sampler

Shape = tuple[int, int]


class EpochSampler(Sampler[int]):
    """A seeded permutation per epoch, sharded across ranks, able to skip consumed batches.

    ``max_batches`` > 0 caps an epoch at that many batches per rank, taken from the front of
    the epoch's fresh shuffle: a short training phase sees a random part of the whole set.
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1, max_batches: int = 0):
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.epoch, self.skip_batches, self.max_batches = 0, 0, max_batches

    def full_batches(self) -> int:
        """Batches per rank in an uncapped epoch."""
        return self.n // (self.batch_size * self.world)

    def batches_per_epoch(self) -> int:
        full = self.full_batches()
        return min(full, self.max_batches) if self.max_batches > 0 else full

    def __iter__(self) -> Iterator:
        perm = np.random.default_rng((self.seed, self.epoch)).permutation(self.n)
        usable = self.batches_per_epoch() * self.batch_size * self.world
        mine = perm[:usable][self.rank :: self.world]
        return iter(mine[self.skip_batches * self.batch_size :].tolist())

    def __len__(self) -> int:
        return (self.batches_per_epoch() - self.skip_batches) * self.batch_size


class BucketedEpochSampler(EpochSampler):
    """Like ``EpochSampler``, but batch-aligned and shape-bucketed.

    Each epoch: a seeded permutation, stably grouped by ``shape_of(index)`` (the shape the
    image would be fed at the current training size), cut into batches, and the batches
    shuffled. A batch that straddles two buckets takes its first image's shape; the dataset
    crops any photo to any shape, so nothing is dropped and the epoch has exactly as many
    batches as the plain sampler. Batches are dealt to ranks round-robin.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        shape_of: Callable[[int], Shape],
        rank: int = 0,
        world: int = 1,
        max_batches: int = 0,
    ):
        super().__init__(n, batch_size, seed, rank, world, max_batches)
        self.shape_of = shape_of

    def batches(self) -> list[list[tuple[int, int, int]]]:
        """This rank's remaining batches for the current epoch, as (index, height, width)."""
        rng = np.random.default_rng((self.seed, self.epoch))
        perm = rng.permutation(self.n)
        shapes = {int(i): tuple(self.shape_of(int(i))) for i in perm}
        order = sorted(range(self.n), key=lambda k: (shapes[int(perm[k])], k))  # stable by bucket
        grouped = [int(perm[k]) for k in order]
        b = self.batch_size
        cut = [grouped[j * b : (j + 1) * b] for j in range(self.full_batches() * self.world)]
        # shuffle, then cap: a capped epoch draws from every bucket
        cut = [cut[j] for j in rng.permutation(len(cut))][: self.batches_per_epoch() * self.world]
        mine = cut[self.rank :: self.world][self.skip_batches :]
        return [[(i, *shapes[batch[0]]) for i in batch] for batch in mine]

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return iter([item for batch in self.batches() for item in batch])
