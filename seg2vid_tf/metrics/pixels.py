"""Validation of the image and clip sets the feature networks (I3D, InceptionV3) read."""

import numpy as np


def check_pixels(values, name, layout):
    """Validates a set of images or clips and returns it as a NumPy array.

    Args:
        values: Pixels, uint8 or float in ``[0, 1]``, channels last with ``C``
            in ``{1, 3}``.
        name: Argument name used in error messages.
        layout: The expected axes, ``"N, H, W, C"`` (images) or
            ``"N, T, H, W, C"`` (clips).

    Returns:
        The values as a NumPy array (uint8 or floating).

    Raises:
        ValueError: If the rank, channel count, dtype or value range is invalid,
            or the set is empty.
    """
    array = np.asarray(values)
    rank = len(layout.split(","))
    if array.ndim != rank:
        raise ValueError(f"`{name}` must be [{layout}], got shape {array.shape}.")
    if min(array.shape[:-1]) == 0:
        raise ValueError(f"`{name}` must not be empty, got shape {array.shape}.")
    if array.shape[-1] not in (1, 3):
        raise ValueError(f"`{name}` must have 1 (grayscale) or 3 (RGB) channels, got "
                         f"{array.shape[-1]}.")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"`{name}` must be uint8 or floating point in [0, 1], got dtype "
                         f"{array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    low, high = float(np.min(array)), float(np.max(array))
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ValueError(f"`{name}` must hold values in [0, 1] (or be uint8), got range "
                         f"[{low:.4g}, {high:.4g}].")
    return array
