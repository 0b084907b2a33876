"""Fréchet distance between two Gaussians, robust to singular covariances.

The Fréchet (2-Wasserstein) distance between ``N(mu1, sigma1)`` and
``N(mu2, sigma2)`` is used by FID and FVD:

    d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

Like FID/FVD this module returns the *squared* distance ``d^2``.

The usual implementation calls ``scipy.linalg.sqrtm(sigma1 @ sigma2)``, which
is slow, needs SciPy and becomes unstable (complex parts, NaN) when the
covariances are singular, e.g. FVD with fewer clips than its 400 feature
dimensions. Only the *trace* of the square root is needed, and it can be
computed with two symmetric eigendecompositions:

* ``S = sigma1^(1/2)`` from the eigendecomposition of the symmetric PSD
  ``sigma1`` (negative rounding-error eigenvalues clipped to 0);
* ``sigma1 sigma2 = S (S sigma2)`` has the same non-zero eigenvalues as
  ``(S sigma2) S = S sigma2 S``, which is symmetric PSD, so
  ``Tr((sigma1 sigma2)^(1/2)) = sum_i sqrt(max(lambda_i(S sigma2 S), 0))``;
  eigenvalues below the rounding level of the eigensolver
  (``D * eps * max|lambda|``) are treated as exact zeros.

Everything is computed in float64 with NumPy only; SciPy is not needed.
"""

import numpy as np

__all__ = [
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_features",
]


def _as_mean(value, name):
    """Converts a mean vector to a finite 1-D float64 array.

    Args:
        value: Array-like mean vector.
        name: Argument name used in error messages.

    Returns:
        A float64 NumPy array of shape ``[D]``.

    Raises:
        ValueError: If ``value`` is not 1-D, is empty or is not finite.
    """
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D mean vector of length D, "
                         f"got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return array


def _as_covariance(value, name, dim):
    """Converts a covariance matrix to a finite, symmetric ``[D, D]`` float64 array.

    Args:
        value: Array-like covariance matrix.
        name: Argument name used in error messages.
        dim: Expected size ``D`` (the length of the matching mean).

    Returns:
        The symmetrized float64 NumPy array of shape ``[D, D]``.

    Raises:
        ValueError: If ``value`` is not ``[D, D]`` or is not finite.
    """
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (dim, dim):
        raise ValueError(f"`{name}` must be a [D, D] covariance matrix with D={dim} "
                         f"(the length of the mean), got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return 0.5 * (array + array.T)


def _psd_sqrt(matrix):
    """Symmetric PSD square root of a symmetric matrix (negative eigenvalues clipped).

    Args:
        matrix: Symmetric float64 ``[D, D]`` array.

    Returns:
        The symmetric float64 ``[D, D]`` square root.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * roots) @ eigenvectors.T


def _trace_sqrt_product(sigma1, sigma2):
    """``Tr((sigma1 sigma2)^(1/2))`` for symmetric PSD matrices.

    Args:
        sigma1: Symmetric float64 ``[D, D]`` covariance.
        sigma2: Symmetric float64 ``[D, D]`` covariance.

    Returns:
        The trace as a non-negative Python float.
    """
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    middle = 0.5 * (middle + middle.T)
    eigenvalues = np.linalg.eigvalsh(middle)
    # Eigenvalues below the rounding level of eigh are indistinguishable from 0;
    # their square roots (~sqrt(eps)) would otherwise bias the trace upwards.
    scale = float(np.max(np.abs(eigenvalues)))
    tolerance = np.finfo(np.float64).eps * middle.shape[0] * scale
    eigenvalues = np.where(eigenvalues > tolerance, eigenvalues, 0.0)
    return float(np.sum(np.sqrt(eigenvalues)))


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Fréchet distance between two Gaussians.

    ``d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``,
    computed in float64 with symmetric eigendecompositions (see the module
    docstring), so that singular and rank-deficient covariances (fewer
    samples than dimensions, all-zero covariances) give finite results. Tiny
    negative results caused by rounding are clipped to 0.

    Args:
        mu1: Mean of the first Gaussian, array-like of shape ``[D]``.
        sigma1: Covariance of the first Gaussian, ``[D, D]`` (symmetric PSD;
            small asymmetries are removed by symmetrizing).
        mu2: Mean of the second Gaussian, ``[D]``.
        sigma2: Covariance of the second Gaussian, ``[D, D]``.

    Returns:
        The squared Fréchet distance as a non-negative Python float.

    Raises:
        ValueError: If a mean is not a non-empty 1-D vector, the means differ
            in length, a covariance is not ``[D, D]``, or an input holds NaN
            or infinite values.
    """
    mu1 = _as_mean(mu1, "mu1")
    mu2 = _as_mean(mu2, "mu2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"`mu1` and `mu2` must have the same length, got {mu1.shape[0]} "
                         f"and {mu2.shape[0]}.")
    dim = mu1.shape[0]
    sigma1 = _as_covariance(sigma1, "sigma1", dim)
    sigma2 = _as_covariance(sigma2, "sigma2", dim)

    diff = mu1 - mu2
    mean_term = float(diff @ diff)
    trace_term = float(np.trace(sigma1) + np.trace(sigma2))
    distance = mean_term + trace_term - 2.0 * _trace_sqrt_product(sigma1, sigma2)
    return max(distance, 0.0)


def feature_statistics(features):
    """Mean and covariance of a set of feature vectors.

    Args:
        features: Array-like ``[N, D]`` (one feature vector per row), ``N >= 2``.

    Returns:
        A tuple ``(mu, sigma)``: float64 arrays of shapes ``[D]`` and
        ``[D, D]``; ``sigma`` is the unbiased sample covariance
        (``np.cov(features, rowvar=False, ddof=1)``).

    Raises:
        ValueError: If ``features`` is not 2-D, has fewer than 2 rows, no
            columns, or holds NaN or infinite values.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"`features` must be a 2-D [N, D] array, got shape {features.shape}.")
    if features.shape[0] < 2:
        raise ValueError("`features` needs at least 2 samples (rows) to estimate a covariance, "
                         f"got {features.shape[0]}.")
    if features.shape[1] == 0:
        raise ValueError("`features` must have at least one feature column, got shape "
                         f"{features.shape}.")
    if not np.all(np.isfinite(features)):
        raise ValueError("`features` contains NaN or infinite values.")
    mu = np.mean(features, axis=0)
    sigma = np.atleast_2d(np.cov(features, rowvar=False, ddof=1))
    return mu, sigma


def frechet_distance_from_features(features1, features2):
    """Squared Fréchet distance between Gaussians fitted to two feature sets.

    Args:
        features1: ``[N1, D]`` feature vectors (``N1 >= 2``).
        features2: ``[N2, D]`` feature vectors (``N2 >= 2``).

    Returns:
        The squared Fréchet distance as a non-negative Python float.

    Raises:
        ValueError: If a feature set is invalid (see `feature_statistics`) or
            the two sets differ in ``D``.
    """
    mu1, sigma1 = feature_statistics(features1)
    mu2, sigma2 = feature_statistics(features2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"The feature sets differ in dimension: {mu1.shape[0]} vs "
                         f"{mu2.shape[0]}.")
    return frechet_distance(mu1, sigma1, mu2, sigma2)


def batched_features(samples, batch_size, preprocess, network, what):
    """The features ``[N, D]`` (float64) of `samples`, `batch_size` at a time.

    Args:
        samples: ``[N, ...]`` checked images or clips.
        batch_size: Samples per forward pass (a positive integer).
        preprocess: Maps a slice of `samples` to the network's input.
        network: Maps that input to ``[B, D]`` features.
        what: ``(network name, sample name)`` for messages, e.g.
            ``("Inception model", "images")``.

    Raises:
        ValueError: A bad `batch_size`, or the network does not return
            ``[B, D]`` features.
    """
    if int(batch_size) < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    batch_size = int(batch_size)
    network_name, unit = what
    features = []
    for start in range(0, samples.shape[0], batch_size):
        batch = preprocess(samples[start:start + batch_size])
        output = np.asarray(network(batch), dtype=np.float64)
        if output.ndim != 2 or output.shape[0] != batch.shape[0]:
            raise ValueError(f"The {network_name} must return [B, D] features, got shape "
                             f"{output.shape} for a batch of {batch.shape[0]} {unit}.")
        features.append(output)
    return np.concatenate(features, axis=0)
