"""Per-frame video metrics (PSNR, SSIM) and optical-flow end-point error.

Videos are channels-last ``[B, T, H, W, C]`` arrays or tensors with values in
``[0, max_val]`` (``[0, 1]`` by default). PSNR and SSIM are computed per frame
with ``tf.image.psnr`` / ``tf.image.ssim`` and returned as NumPy ``[B, T]``
arrays.

Infinite PSNR
-------------
A frame identical to its ground truth has MSE 0 and therefore PSNR ``+inf``
(this is what ``tf.image.psnr`` returns; it is not clipped). A plain mean over
frames would then be ``inf``. :func:`finite_mean` averages only the finite
values and reports how many values it left out, so an evaluation can print
e.g. ``PSNR 31.2 dB (3 identical frames excluded)``.
"""

import math

import numpy as np
import tensorflow as tf

__all__ = [
    "finite_mean",
    "flow_endpoint_error",
    "flow_endpoint_error_map",
    "psnr_per_frame",
    "ssim_per_frame",
]


def _video_pair(prediction, truth):
    """Validates two videos and folds time into the batch axis.

    Args:
        prediction: ``[B, T, H, W, C]`` video.
        truth: ``[B, T, H, W, C]`` video of the same shape.

    Returns:
        A tuple ``(prediction, truth, batch, time)``: the two videos as float32
        ``[B*T, H, W, C]`` tensors and the sizes ``B`` and ``T``.

    Raises:
        ValueError: If a video is not rank 5 or the shapes differ.
    """
    prediction = tf.cast(tf.convert_to_tensor(prediction), tf.float32)
    truth = tf.cast(tf.convert_to_tensor(truth), tf.float32)
    if prediction.shape.rank != 5:
        raise ValueError("`prediction` must be a [B, T, H, W, C] video, got shape "
                         f"{prediction.shape}.")
    if truth.shape.rank != 5:
        raise ValueError(f"`truth` must be a [B, T, H, W, C] video, got shape {truth.shape}.")
    if prediction.shape != truth.shape:
        raise ValueError("`prediction` and `truth` must have the same shape, got "
                         f"{prediction.shape} and {truth.shape}.")
    batch, time = int(prediction.shape[0]), int(prediction.shape[1])
    frame_shape = prediction.shape[2:]
    return (tf.reshape(prediction, [-1, *frame_shape]), tf.reshape(truth, [-1, *frame_shape]),
            batch, time)


def _check_max_val(max_val):
    """Validates the dynamic range.

    Args:
        max_val: The dynamic range of the pixel values.

    Returns:
        ``max_val`` as a Python float.

    Raises:
        ValueError: If ``max_val`` is not a finite positive number.
    """
    value = float(max_val)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"`max_val` must be a finite positive number, got {max_val!r}.")
    return value


def psnr_per_frame(prediction, truth, max_val=1.0):
    """Peak signal-to-noise ratio of every frame.

    ``PSNR = 10 log10(max_val^2 / MSE)`` with the MSE over the pixels and
    channels of one frame. Identical frames (MSE 0) give ``+inf``; use
    :func:`finite_mean` to average such values.

    Args:
        prediction: ``[B, T, H, W, C]`` video (array or tensor) with values in
            ``[0, max_val]``; any numeric dtype, cast to float32.
        truth: ``[B, T, H, W, C]`` ground-truth video of the same shape.
        max_val: The dynamic range of the values (1.0 for ``[0, 1]`` videos,
            255 for 8-bit values).

    Returns:
        A float32 NumPy array ``[B, T]`` of PSNR values in dB (``+inf`` for
        identical frames).

    Raises:
        ValueError: If the videos are not rank 5, their shapes differ, or
            ``max_val`` is not positive.
    """
    max_val = _check_max_val(max_val)
    prediction, truth, batch, time = _video_pair(prediction, truth)
    values = tf.image.psnr(prediction, truth, max_val=max_val)
    return np.reshape(values.numpy(), (batch, time))


def ssim_per_frame(prediction, truth, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01,
                   k2=0.03):
    """Structural similarity of every frame (``tf.image.ssim``, Gaussian window).

    The defaults are the standard SSIM settings of Wang et al. (2004): an
    11x11 Gaussian window with sigma 1.5, ``k1 = 0.01`` and ``k2 = 0.03``.
    Channels are averaged. Identical frames give 1.

    Args:
        prediction: ``[B, T, H, W, C]`` video with values in ``[0, max_val]``.
        truth: ``[B, T, H, W, C]`` ground-truth video of the same shape.
        max_val: The dynamic range of the values.
        filter_size: Size of the Gaussian window; ``H`` and ``W`` must be at
            least this large.
        filter_sigma: Standard deviation of the Gaussian window.
        k1: SSIM luminance stabilizer.
        k2: SSIM contrast stabilizer.

    Returns:
        A float32 NumPy array ``[B, T]`` of SSIM values.

    Raises:
        ValueError: If the videos are not rank 5, their shapes differ, the
            frames are smaller than the window, or ``max_val`` is not
            positive.
    """
    max_val = _check_max_val(max_val)
    prediction, truth, batch, time = _video_pair(prediction, truth)
    height, width = int(prediction.shape[1]), int(prediction.shape[2])
    if height < filter_size or width < filter_size:
        raise ValueError(f"SSIM needs frames of at least {filter_size}x{filter_size} pixels "
                         f"(`filter_size`), got {height}x{width}.")
    values = tf.image.ssim(prediction, truth, max_val=max_val, filter_size=filter_size,
                           filter_sigma=filter_sigma, k1=k1, k2=k2)
    return np.reshape(values.numpy(), (batch, time))


def finite_mean(values):
    """Mean over the finite entries of an array, and the number left out.

    Meant for PSNR, where identical frames give ``+inf``: the mean of the
    finite values is the informative number, and the count of excluded
    values should be reported next to it.

    Args:
        values: Array-like of any shape.

    Returns:
        A tuple ``(mean, num_excluded)``: the float64 mean of the finite
        entries as a Python float, and the number of non-finite entries
        (``+inf``, ``-inf``, NaN) as a Python int. If there is no finite
        entry, ``mean`` is ``+inf`` when every entry is ``+inf`` (e.g. all
        frames reproduced exactly) and NaN otherwise (including no entries).
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = np.isfinite(array)
    num_excluded = int(array.size - np.count_nonzero(finite))
    if np.any(finite):
        return float(np.mean(array[finite])), num_excluded
    if array.size and np.all(array == np.inf):
        return math.inf, num_excluded
    return math.nan, num_excluded


def _flow_pair(predicted, truth):
    """Validates two flow fields.

    Args:
        predicted: ``[..., 2]`` flow.
        truth: ``[..., 2]`` flow of the same shape.

    Returns:
        The two flows as float64 NumPy arrays.

    Raises:
        ValueError: If the last axis is not 2 or the shapes differ.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if predicted.ndim < 1 or predicted.shape[-1] != 2:
        raise ValueError(f"`predicted` must be a [..., 2] flow, got shape {predicted.shape}.")
    if truth.shape != predicted.shape:
        raise ValueError("`predicted` and `truth` must have the same shape, got "
                         f"{predicted.shape} and {truth.shape}.")
    return predicted, truth


def flow_endpoint_error_map(predicted, truth):
    """End-point error of every flow vector.

    Args:
        predicted: ``[..., 2]`` predicted flow in pixels (either channel
            order, as long as both flows use the same one).
        truth: ``[..., 2]`` ground-truth flow in pixels.

    Returns:
        A float64 NumPy array of shape ``predicted.shape[:-1]``: the Euclidean
        norm of ``predicted - truth``.

    Raises:
        ValueError: If the last axis is not 2 or the shapes differ.
    """
    predicted, truth = _flow_pair(predicted, truth)
    return np.sqrt(np.sum(np.square(predicted - truth), axis=-1))


def flow_endpoint_error(predicted, truth, valid=None):
    """Mean end-point error (EPE) in pixels over the valid pixels.

    Args:
        predicted: ``[..., 2]`` predicted flow in pixels (e.g. ``[B, H, W, 2]``).
        truth: ``[..., 2]`` ground-truth flow in pixels, same shape and
            channel order.
        valid: Optional mask of shape ``predicted.shape[:-1]`` or
            ``predicted.shape[:-1] + (1,)``; non-zero entries mark pixels
            with ground truth (e.g. KITTI's sparse flow). ``None`` uses all
            pixels.

    Returns:
        The mean EPE over the valid pixels as a Python float.

    Raises:
        ValueError: If the shapes are inconsistent or no pixel is valid.
    """
    errors = flow_endpoint_error_map(predicted, truth)
    if valid is None:
        mask = np.ones(errors.shape, dtype=bool)
    else:
        mask = np.asarray(valid)
        if mask.shape == errors.shape + (1,):
            mask = mask[..., 0]
        if mask.shape != errors.shape:
            raise ValueError(f"`valid` must have shape {errors.shape} (or with a trailing axis "
                             f"of 1), got {mask.shape}.")
        mask = mask.astype(bool)
    if not np.any(mask):
        raise ValueError("`valid` marks no pixel as valid; the end-point error is undefined.")
    return float(np.mean(errors[mask]))
