"""An independent reference for the Fréchet distance of two feature sets (tests only).

For centred samples X, Y of two `[N, D]` sets, the trace of
(sigma1 sigma2)^(1/2) is the sum of the singular values of X Y' over
sqrt((n1 - 1)(n2 - 1)): one SVD, exact to rounding even when N < D, and
computed apart from `seg2vid_tf.metrics.frechet`'s eigendecompositions (and
without `scipy.linalg.sqrtm`, which takes seconds at 400 dimensions).
"""

import math

import numpy as np


def closed_form_frechet(first, second):
    """The squared Fréchet distance of the sample statistics of two `[N, D]` sets.

    Returns:
        `(distance, scale)`: scale is `|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2)`,
        the size of the terms, which tolerances are relative to.
    """
    mean1, mean2 = first.mean(axis=0), second.mean(axis=0)
    centred1, centred2 = first - mean1, second - mean2
    dof1, dof2 = first.shape[0] - 1, second.shape[0] - 1
    traces = np.sum(centred1 ** 2) / dof1 + np.sum(centred2 ** 2) / dof2
    nuclear = np.linalg.svd(centred1 @ centred2.T, compute_uv=False).sum()
    diff = mean1 - mean2
    scale = float(diff @ diff + traces)
    return scale - 2.0 * float(nuclear) / math.sqrt(dof1 * dof2), scale
