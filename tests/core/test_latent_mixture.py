"""The latent mixture prior: storage round trip, reproducible draws, component choice, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop_app.core.latent.generator import LatentSpace
from desktop_app.core.latent.mixture import MixtureError, MixturePrior

D = 4


def two_clusters(weights=(0.0, 1.0)) -> MixturePrior:
    means = np.array([[-10.0] * D, [10.0] * D])
    chol = np.stack([np.eye(D) * 0.5, np.tril(np.full((D, D), 0.1)) + np.eye(D)])
    return MixturePrior(np.asarray(weights), means, chol)


def test_round_trip_through_json_keeps_the_lower_triangles():
    prior = two_clusters((0.25, 0.75))
    stored = json.loads(json.dumps(prior.to_extra()))
    assert len(stored["cholesky_lower"][0]) == D * (D + 1) // 2  # packed, not D*D
    back = MixturePrior.from_extra(stored, D)
    np.testing.assert_allclose(back.cholesky, prior.cholesky, rtol=1e-6)
    np.testing.assert_allclose(back.means, prior.means)
    assert back.sample(7) == pytest.approx(prior.sample(7))


def test_draws_are_reproducible_follow_the_weights_and_the_covariance():
    prior = two_clusters((0.0, 1.0))  # every draw from the second component
    draws = np.stack([prior.sample(seed) for seed in range(400)])
    assert np.array_equal(prior.sample(3), prior.sample(3)) and not np.array_equal(prior.sample(3), prior.sample(4))
    assert (draws > 0).mean() > 0.99
    cov = np.cov(draws.T)
    expected = prior.cholesky[1] @ prior.cholesky[1].T
    np.testing.assert_allclose(cov, expected, atol=0.25)
    cooled = np.stack([prior.sample(seed, temperature=0.0) for seed in range(5)])
    np.testing.assert_allclose(cooled, 10.0)  # T = 0: the component's centre
    mixed = np.stack([two_clusters((0.5, 0.5)).sample(seed) for seed in range(400)])
    assert 0.4 < (mixed[:, 0] > 0).mean() < 0.6


def test_latent_space_prefers_the_mixture_and_still_offers_the_plain_prior():
    prior = two_clusters((0.0, 1.0))
    space = LatentSpace(np.zeros(D), np.eye(D)[:2], np.ones(2), mixture=prior)
    assert space.has_fit
    np.testing.assert_array_equal(space.sample(5, 0.7), prior.sample(5, 0.7))
    np.testing.assert_array_equal(space.sample(5, 0.7, fitted=False), np.random.default_rng(5).standard_normal(D) * 0.7)
    extra = {"latent_size": D, "directions": np.eye(D)[:2].tolist(), "sigmas": [1, 1], "mixture": prior.to_extra()}
    parsed = LatentSpace.from_extra(extra, "test")
    np.testing.assert_allclose(parsed.sample(9), prior.sample(9))


@pytest.mark.parametrize(
    "broken",
    [
        {"weights": [0.5, 0.6], "means": [[0] * D] * 2, "cholesky_lower": [[1] * 10] * 2},  # weights sum
        {"weights": [1.0], "means": [[0] * D], "cholesky_lower": [[1] * 9]},  # wrong triangle size
        {"weights": [1.0], "means": [[0] * 3]},  # missing key, wrong mean size
    ],
)
def test_malformed_mixture_is_refused_clearly(broken):
    with pytest.raises(MixtureError):
        MixturePrior.from_extra(broken, D)
    extra = {"latent_size": D, "directions": np.eye(D)[:2].tolist(), "sigmas": [1, 1], "mixture": broken}
    with pytest.raises(Exception, match="latent metadata"):
        LatentSpace.from_extra(extra, "file.onnx")
