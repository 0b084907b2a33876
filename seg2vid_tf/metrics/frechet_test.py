"""Tests for seg2vid_tf.metrics.frechet against independent computations.

Two references that share nothing with the module's eigendecompositions:

* `scipy_frechet`, the textbook formula with `scipy.linalg.sqrtm`. On singular
  products (fewer samples than dimensions) `sqrtm` turns the rounding errors
  of the zero eigenvalues, O(eps * |sigma1 sigma2|), into square roots of
  O(sqrt(eps) * |sigma|) each, so its trace is only good to
  `scipy_tolerance` = 2 * D * sqrt(eps) * scale (measured: about 1e-8 * scale).
* `closed_form_frechet` (`seg2vid_tf.testing.frechet_reference`) for statistics
  of samples: with centred samples X, Y,
  sigma1 sigma2 = X'X Y'Y / ((n1-1)(n2-1)) has the eigenvalues of
  (X Y')(X Y')' / ((n1-1)(n2-1)), so Tr((sigma1 sigma2)^(1/2)) is the sum of
  the singular values of X Y' over sqrt((n1-1)(n2-1)): one well-conditioned SVD,
  good to ~1e-15 * scale, tight enough to see the sqrt(eps) bias the module's
  eigenvalue threshold removes.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import linalg

from seg2vid_tf.metrics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
)
from seg2vid_tf.testing.frechet_reference import closed_form_frechet


def scipy_frechet(mu1, sigma1, mu2, sigma2):
    """The textbook formula with scipy.linalg.sqrtm (float64)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(root).real)


def scipy_tolerance(dims, scale):
    """What `scipy_frechet` can reach on a singular product (see the module docstring)."""
    return 2.0 * dims * math.sqrt(np.finfo(np.float64).eps) * scale


def _scale(mu1, sigma1, mu2, sigma2):
    """The size of the terms of the distance, which every tolerance is relative to."""
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2))


def _stats(features):
    return np.mean(features, axis=0), np.cov(features, rowvar=False)


def _two_distributions(samples, dims, seed=0):
    rng = np.random.default_rng(seed)
    first = rng.normal(size=(samples, dims))
    mixing = rng.normal(size=(dims, dims)) / np.sqrt(dims)
    second = rng.normal(loc=0.3, scale=1.5, size=(samples, dims)) @ mixing + 0.5
    return first, second


def test_matches_scipy_on_random_features():
    first, second = _two_distributions(200, 16)
    mu1, sigma1 = _stats(first)
    mu2, sigma2 = _stats(second)
    expected = scipy_frechet(mu1, sigma1, mu2, sigma2)
    assert expected > 1.0
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6)
    # Symmetric in its two arguments.
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(expected, rel=1e-6)


def test_from_features_matches_statistics():
    first, second = _two_distributions(50, 8, seed=3)
    mu1, sigma1 = feature_statistics(first)
    mu2, sigma2 = feature_statistics(second)
    assert frechet_distance_from_features(first, second) == pytest.approx(
        frechet_distance(mu1, sigma1, mu2, sigma2), rel=1e-12)


def test_identical_statistics_give_zero():
    first, _ = _two_distributions(200, 16)
    mu, sigma = _stats(first)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_one_dimension_closed_form():
    # For D = 1: (m1 - m2)^2 + (sqrt(s1) - sqrt(s2))^2.
    value = frechet_distance([1.0], [[4.0]], [3.0], [[9.0]])
    assert value == pytest.approx(4.0 + 1.0, rel=1e-12)


def test_fewer_samples_than_dimensions_matches_scipy():
    # Rank-deficient covariances (5 samples, 16 dims -> rank 4).
    first, second = _two_distributions(5, 16, seed=1)
    mu1, sigma1 = _stats(first)
    mu2, sigma2 = _stats(second)
    assert np.linalg.matrix_rank(sigma1) == 4
    value = frechet_distance(mu1, sigma1, mu2, sigma2)
    expected = scipy_frechet(mu1, sigma1, mu2, sigma2)
    assert value == pytest.approx(expected, rel=1e-5)
    scale = _scale(mu1, sigma1, mu2, sigma2)
    assert abs(value - closed_form_frechet(first, second)[0]) <= 1e-12 * scale


def test_fewer_samples_than_dimensions_large():
    # The FVD situation: a few clips, 400 features (rank 5 of 400). The closed form
    # stands in for SciPy here: sqrtm of a 400 x 400 product takes seconds.
    rng = np.random.default_rng(2)
    first = rng.normal(size=(6, 400))
    second = rng.normal(loc=0.1, size=(6, 400))
    mu1, sigma1 = feature_statistics(first)
    mu2, sigma2 = feature_statistics(second)
    value = frechet_distance(mu1, sigma1, mu2, sigma2)
    scale = _scale(mu1, sigma1, mu2, sigma2)
    assert abs(value - closed_form_frechet(first, second)[0]) <= 1e-12 * scale
    same = frechet_distance(mu1, sigma1, mu1, sigma1)
    assert abs(same) <= 1e-12 * np.trace(sigma1)
    assert abs(closed_form_frechet(first, first)[0]) <= 1e-12 * np.trace(sigma1)


def test_all_zero_covariance():
    rng = np.random.default_rng(4)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    zeros = np.zeros((8, 8))
    _, sigma2 = _stats(rng.normal(size=(30, 8)))
    diff = mu1 - mu2
    expected = float(diff @ diff + np.trace(sigma2))
    assert frechet_distance(mu1, zeros, mu2, sigma2) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mu2, sigma2, mu1, zeros) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mu1, zeros, mu2, zeros) == pytest.approx(float(diff @ diff),
                                                                   rel=1e-12)
    assert frechet_distance(mu1, zeros, mu1, zeros) == 0.0


def test_identical_singular_covariances():
    rng = np.random.default_rng(5)
    samples = rng.normal(size=(3, 32))
    mu, sigma = feature_statistics(samples)  # rank 2
    value = frechet_distance(mu, sigma, mu, sigma)
    assert abs(value) <= 1e-12 * np.trace(sigma)
    other = rng.normal(size=(3, 32))
    mu2, sigma2 = feature_statistics(other)
    assert abs(frechet_distance(mu, sigma, mu2, sigma2) - closed_form_frechet(samples, other)[0]) \
        <= 1e-12 * _scale(mu, sigma, mu2, sigma2)
    shifted = mu + 0.5
    assert frechet_distance(mu, sigma, shifted, sigma) == pytest.approx(32 * 0.25, rel=1e-6)


def test_matches_scipy_and_the_closed_form_on_many_random_cases():
    rng = np.random.default_rng(6)
    for case in range(20):
        dims = int(rng.integers(1, 12))
        samples = int(rng.integers(2, 6))
        first = rng.normal(size=(samples, dims))
        second = rng.normal(loc=rng.normal(), scale=rng.uniform(0.5, 2.0), size=(samples, dims))
        mu1, sigma1 = feature_statistics(first)
        mu2, sigma2 = feature_statistics(second)
        value = frechet_distance(mu1, sigma1, mu2, sigma2)
        scale = _scale(mu1, sigma1, mu2, sigma2)
        expected = scipy_frechet(mu1, sigma1, mu2, sigma2)
        assert abs(value - expected) <= scipy_tolerance(dims, scale), (case, value, expected)
        closed = closed_form_frechet(first, second)[0]
        assert abs(value - closed) <= 1e-12 * scale, (case, value, closed)
        same = frechet_distance(mu1, sigma1, mu1, sigma1)
        assert abs(same) <= 1e-12 * np.trace(sigma1), (case, same)


def test_rounding_below_zero_is_clipped_to_exactly_zero():
    # Identical 1-D Gaussians: the exact distance is 0, and the formula's float64
    # arithmetic lands below it for a variance of 7 (IEEE rounding, the same everywhere).
    variance = 7.0
    root = math.sqrt(variance)
    textbook = 2.0 * variance - 2.0 * math.sqrt(root * variance * root)
    assert textbook < 0.0
    assert frechet_distance([1.0], [[variance]], [1.0], [[variance]]) == 0.0


@pytest.mark.parametrize("args, name", [
    ((np.zeros((2, 2)), np.eye(2), np.zeros(2), np.eye(2)), "mu1"),
    ((np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "mu2"),
    ((np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "sigma1"),
    ((np.zeros(2), np.eye(2), np.zeros(2), np.zeros(2)), "sigma2"),
    ((np.zeros(0), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0))), "mu1"),
    ((np.array([np.nan, 0.0]), np.eye(2), np.zeros(2), np.eye(2)), "mu1"),
    ((np.zeros(2), np.eye(2), np.zeros(2), np.full((2, 2), np.inf)), "sigma2"),
])
def test_bad_inputs_raise(args, name):
    with pytest.raises(ValueError, match=name):
        frechet_distance(*args)


def test_feature_statistics():
    rng = np.random.default_rng(7)
    features = rng.normal(size=(10, 3)).astype(np.float32)
    mu, sigma = feature_statistics(features)
    assert mu.dtype == np.float64 and sigma.shape == (3, 3)
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64), rowvar=False, ddof=1))
    _, sigma1 = feature_statistics(features[:, :1])
    assert sigma1.shape == (1, 1)


@pytest.mark.parametrize("features", [np.zeros((1, 4)), np.zeros((0, 4)), np.zeros(5),
                                      np.zeros((2, 2, 2)), np.full((3, 2), np.nan)])
def test_feature_statistics_bad_inputs_raise(features):
    with pytest.raises(ValueError, match="features"):
        feature_statistics(features)


def test_from_features_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="dimension"):
        frechet_distance_from_features(np.zeros((3, 2)), np.zeros((3, 4)))
