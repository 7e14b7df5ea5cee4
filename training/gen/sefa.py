"""Closed-form latent directions of a generator: SeFa (Shen & Zhou, CVPR 2021).

The first layer that reads the latent is affine, ``y = A z + b``. Moving z by ``alpha * n``
moves y by ``alpha * A n``; the unit directions that change y the most are the maximisers of
``|A n|^2 = n^T A^T A n``, i.e. the eigenvectors of ``A^T A`` with the largest eigenvalues.
No sampling, no training data, no optimisation: a few milliseconds for any checkpoint.

Why scale by sigma = 1: the GAN's prior is N(0, I), so along every unit direction the data
(the prior) has standard deviation 1; a slider value v therefore means "v sigmas" as it does
for the VAE's PCA sliders, and +-3 spans the prior.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.vae import Directions


def sefa_directions(weight: np.ndarray | torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-``k`` unit eigenvectors of W^T W as rows, their eigenvalues) for a weight W (out x latent).

    Signs are fixed so that each vector's largest-magnitude entry is positive (reproducible).
    """
    w = weight.detach().double().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight, np.float64)
    w = w.reshape(w.shape[0], -1)
    values, vectors = np.linalg.eigh(w.T @ w)  # ascending
    order = np.argsort(values)[::-1][:k]
    vecs = vectors[:, order].T
    vecs = vecs * np.sign(vecs[np.arange(len(vecs)), np.abs(vecs).argmax(axis=1)])[:, None]
    return vecs, values[order]


def sefa_for_prior(weight: np.ndarray | torch.Tensor, k: int) -> Directions:
    """SeFa directions packaged like the VAE's PCA ones, for a N(0, I) prior: mean 0, sigma 1,
    and ``explained`` = each eigenvalue's share of the trace (how much of the first layer's
    response to the latent the direction carries)."""
    vecs, values = sefa_directions(weight, k)
    w = weight.detach().double().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight, np.float64)
    total = float((w.reshape(w.shape[0], -1) ** 2).sum())  # trace of W^T W
    latent = vecs.shape[1]
    return Directions(
        mean=[0.0] * latent,
        vectors=vecs.tolist(),
        sigmas=[1.0] * len(vecs),
        explained=(values / total).tolist(),
    )
