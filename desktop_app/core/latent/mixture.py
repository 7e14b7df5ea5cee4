"""A Gaussian mixture over a generator's latent space, for drawing random points that look like data.

A VAE's encoder does not fill its prior N(0, I): the posterior means form clusters (faces,
flags, keycaps...) with empty space between them, and a draw from N(0, I), or from a single
Gaussian fitted to the means, lands between clusters and decodes to a blend of several kinds
of image. Fitting a small mixture to the encoded training set and drawing from it
("ex-post density estimation", Ghosh et al. 2020, *From Variational to Deterministic
Autoencoders*) puts draws inside the clusters. The training package fits it at export time
(number of components chosen by held-out likelihood) and stores it in the model's metadata;
this module only reads and samples it, with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class MixtureError(ValueError):
    """The stored mixture is malformed."""


@dataclass(frozen=True)
class MixturePrior:
    """``weights`` (K,), ``means`` (K, D), ``cholesky`` (K, D, D) lower-triangular factors of the
    component covariances."""

    weights: np.ndarray
    means: np.ndarray
    cholesky: np.ndarray

    @property
    def components(self) -> int:
        return int(self.weights.shape[0])

    @property
    def size(self) -> int:
        return int(self.means.shape[1])

    def sample(self, seed: int, temperature: float = 1.0) -> np.ndarray:
        """One reproducible point (float64, (D,)): pick a component by weight, then
        ``mean_k + T * L_k @ eps``. The temperature shrinks the draw towards the component's
        centre, as it shrinks a prior draw towards 0."""
        rng = np.random.default_rng(seed)
        k = int(rng.choice(self.components, p=self.weights))
        eps = rng.standard_normal(self.size) * float(temperature)
        return self.means[k] + self.cholesky[k] @ eps

    def to_extra(self, digits: int = 6) -> dict:
        """JSON-ready dict; only the lower triangles are stored (half the metadata)."""
        rows, cols = np.tril_indices(self.size)
        return {
            "weights": _rounded(self.weights, digits),
            "means": _rounded(self.means, digits),
            "cholesky_lower": _rounded(self.cholesky[:, rows, cols], digits),
        }

    @classmethod
    def from_extra(cls, data: dict, size: int) -> MixturePrior:
        """Inverse of :meth:`to_extra` for a latent of ``size`` dimensions; raises MixtureError."""
        try:
            weights = np.asarray(data["weights"], np.float64)
            means = np.asarray(data["means"], np.float64).reshape(len(weights), size)
            packed = np.asarray(data["cholesky_lower"], np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise MixtureError(f"mixture prior is incomplete or malformed ({exc})") from exc
        rows, cols = np.tril_indices(size)
        if packed.shape != (len(weights), len(rows)):
            raise MixtureError(f"mixture prior: expected {len(weights)} x {len(rows)} Cholesky entries")
        if len(weights) == 0 or (weights < 0).any() or not np.isclose(weights.sum(), 1.0, atol=1e-4):
            raise MixtureError("mixture prior: weights must be non-negative and sum to 1")
        chol = np.zeros((len(weights), size, size))
        chol[:, rows, cols] = packed
        return cls(weights / weights.sum(), means, chol)


def _rounded(values: np.ndarray, digits: int) -> list:
    """Nested lists of floats with ``digits`` significant digits (shorter JSON)."""
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(np.asarray(values)).tolist()
