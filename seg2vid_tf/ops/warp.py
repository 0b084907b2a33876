"""Backward (inverse) bilinear image warping in pure TensorFlow.

This module replaces the ``F.grid_sample`` based ``warp`` of the PyTorch
seg2vid reference with ordinary TensorFlow ops only (no custom ops, no
``tf.py_function``, no NumPy inside the traced code), so that it can be
traced into a graph for SavedModel / TF Serving, runs under ``tf.function``
and compiles with XLA (``jit_compile=True``). It is differentiable with
respect to both the image and the flow.

Conventions
-----------
* All tensors are channels-last: images are ``[B, H, W, C]`` and flows are
  ``[B, H, W, 2]``.
* **Pixel flow** (used by :func:`dense_image_warp`) is measured in pixels,
  channel 0 is the vertical displacement ``dy`` and channel 1 the horizontal
  displacement ``dx``; this is the convention of
  ``tfa.image.dense_image_warp``.
* Warping is *backward*: the output at pixel ``(y, x)`` is the bilinear sample
  of the input at the query point ``(y - dy, x - dx)``, i.e.
  ``query = grid - flow``. A positive ``dx`` therefore moves the image
  content to the right.
* Pixel centres sit at integer coordinates ``0 .. H-1`` and ``0 .. W-1``
  (``align_corners=True`` in PyTorch terms).
* **Normalized flow** (the seg2vid reference's unit, used by :func:`warp`)
  has channel 0 = ``x`` and channel 1 = ``y``; the range ``-1 .. 1`` spans
  the image from the centre of the first pixel to the centre of the last
  one, so a displacement of ``2`` is ``W - 1`` (resp. ``H - 1``) pixels.

Padding modes
-------------
``"zeros"``
    Each of the four bilinear neighbours that lies outside the image
    contributes zero, exactly like PyTorch
    ``grid_sample(..., padding_mode="zeros", align_corners=True)``. A query
    exactly on an edge pixel returns that pixel, a query half a pixel outside
    returns half of the edge pixel, and a query one pixel or more outside
    returns zero.
``"border"``
    The query coordinates are clamped to ``[0, H-1] x [0, W-1]`` before
    interpolation (``tfa.image.dense_image_warp`` and ``grid_sample`` with
    ``padding_mode="border"``), which replicates the edge pixels.
"""

import tensorflow as tf

__all__ = [
    "dense_image_warp",
    "normalized_to_pixel_flow",
    "pixel_to_normalized_flow",
    "warp",
]

_PADDING_MODES = ("zeros", "border")


def _dims(tensor):
    """Returns the dimensions of a tensor, static ints where known.

    Args:
        tensor: A tensor of known rank.

    Returns:
        A list with one entry per dimension: a Python int when the dimension
        is statically known, otherwise a scalar int32 tensor.
    """
    static = tensor.shape.as_list()
    dynamic = tf.shape(tensor)
    return [d if d is not None else dynamic[i] for i, d in enumerate(static)]


def _check_rank4(tensor, arg_name, expected):
    """Raises ValueError if ``tensor`` has a known static rank other than 4.

    Args:
        tensor: The tensor to check.
        arg_name: The argument name used in the error message.
        expected: A description of the expected layout for the message.

    Raises:
        ValueError: If the static rank is known and is not 4.
    """
    rank = tensor.shape.rank
    if rank is not None and rank != 4:
        raise ValueError(
            f"`{arg_name}` must be a rank-4 tensor {expected}, got shape "
            f"{tensor.shape} (rank {rank})."
        )


def _check_flow(flow, arg_name):
    """Static checks for a ``[B, H, W, 2]`` flow tensor.

    Args:
        flow: The flow tensor.
        arg_name: The argument name used in error messages.

    Returns:
        ``flow`` with its static shape set to rank 4 with 2 channels.

    Raises:
        ValueError: If the static rank is not 4 or the last dimension is not 2.
    """
    _check_rank4(flow, arg_name, "[batch, height, width, 2]")
    channels = flow.shape[-1] if flow.shape.rank is not None else None
    if channels is not None and channels != 2:
        raise ValueError(
            f"The last dimension of `{arg_name}` must be 2, got shape "
            f"{flow.shape}."
        )
    if flow.shape.rank is None or channels is None:
        # Unknown rank or channels: enforce at run time (cheap, XLA friendly).
        flow = tf.ensure_shape(flow, [None, None, None, 2])
    return flow


def _compute_dtype(dtype):
    """Returns the dtype used for interpolation of an image of ``dtype``."""
    return tf.float32 if dtype.size < 4 else dtype


def _to_float(tensor):
    """Converts to a tensor and casts non-floating dtypes to float32."""
    tensor = tf.convert_to_tensor(tensor)
    if not tensor.dtype.is_floating:
        tensor = tf.cast(tensor, tf.float32)
    return tensor


def dense_image_warp(image, flow, padding="zeros", name=None):
    """Backward-warps an image with a dense per-pixel flow (bilinear).

    ``output[b, y, x, :]`` is the bilinear sample of ``image[b]`` at the
    query point ``(y - flow[b, y, x, 0], x - flow[b, y, x, 1])``.

    The computation is fully vectorized, works with dynamic (``None``)
    batch, height and width, and is differentiable in ``image`` and ``flow``
    (piecewise; the gradient with respect to the flow is discontinuous where
    a query coordinate crosses an integer).

    Args:
        image: Floating tensor ``[B, H, W, C]``.
        flow: Tensor ``[B, H, W, 2]`` of displacements in pixels, channel 0 =
            ``dy``, channel 1 = ``dx``. Cast to the dtype of ``image``.
        padding: ``"zeros"`` (out-of-image neighbours contribute zero, like
            PyTorch ``grid_sample(padding_mode="zeros", align_corners=True)``)
            or ``"border"`` (query coordinates are clamped to the image, like
            ``tfa.image.dense_image_warp``).
        name: Optional name scope for the ops.

    Returns:
        A tensor with the shape and dtype of ``image``. For 16-bit float
        images the interpolation is carried out in float32 and the result is
        cast back, because 16-bit coordinates are too coarse for sub-pixel
        positions.

    Raises:
        ValueError: If ``padding`` is not one of ``"zeros"``, ``"border"``;
            if ``image`` or ``flow`` is not rank 4; if the last dimension of
            ``flow`` is not 2; or if the batch, height or width of ``flow``
            and ``image`` differ where both are statically known.
        TypeError: If ``image`` does not have a floating dtype.
    """
    if padding not in _PADDING_MODES:
        raise ValueError(
            f"`padding` must be one of {_PADDING_MODES}, got {padding!r}."
        )
    with tf.name_scope(name or "dense_image_warp"):
        image, flow, needs_runtime_check = _checked_image_and_flow(image, flow)
        out_dtype = image.dtype
        dtype = _compute_dtype(out_dtype)
        image_c = tf.cast(image, dtype)
        flow = tf.cast(flow, dtype)

        batch, height, width, _ = _dims(image)
        if needs_runtime_check:
            # XLA drops Assert ops; the reshape still fails on most
            # mismatches there instead of broadcasting silently.
            flow = tf.reshape(flow, [batch, height, width, 2])
        query_y, query_x = _query_points(flow, height, width, padding)
        output = _bilinear_sample(image_c, query_y, query_x, padding)
        output = tf.cast(output, out_dtype)
        output.set_shape(image.shape)
        return output


def _checked_image_and_flow(image, flow):
    """Converts and checks the inputs of `dense_image_warp`.

    Returns:
        `(image, flow, needs_runtime_check)`: the tensors (the flow behind a
        runtime shape assertion when batch, height or width are not all known
        statically) and whether that assertion was needed.

    Raises:
        ValueError, TypeError: As documented in `dense_image_warp`.
    """
    image = tf.convert_to_tensor(image, name="image")
    if not image.dtype.is_floating:
        raise TypeError(
            f"`image` must have a floating dtype, got {image.dtype.name}."
        )
    flow = tf.convert_to_tensor(flow, name="flow")
    _check_rank4(image, "image", "[batch, height, width, channels]")
    flow = _check_flow(flow, "flow")
    if image.shape.rank is None:
        image = tf.ensure_shape(image, [None, None, None, None])

    # Static consistency of batch, height and width.
    needs_runtime_check = False
    for axis, label in enumerate(("batch size", "height", "width")):
        d_img, d_flow = image.shape[axis], flow.shape[axis]
        if d_img is None or d_flow is None:
            needs_runtime_check = True
        elif d_img != d_flow:
            raise ValueError(
                f"The {label} of `flow` ({d_flow}) must equal the {label} "
                f"of `image` ({d_img}); got image shape {image.shape} and "
                f"flow shape {flow.shape}."
            )
    if needs_runtime_check:
        with tf.control_dependencies([
            tf.debugging.assert_equal(
                tf.shape(flow)[:3],
                tf.shape(image)[:3],
                message=("`flow` and `image` must have the same batch "
                         "size, height and width"),
            )
        ]):
            flow = tf.identity(flow)
    return image, flow, needs_runtime_check


def _query_points(flow, height, width, padding):
    """The sampling points `grid - flow` as `(query_y, query_x)`, each `[B, H, W]`.

    With "border" padding they are clamped to the image; with "zeros" to
    `[-2, size + 1]` (every point out there samples zeros), which keeps the
    int32 cast of the sampler defined for huge flows without changing values
    or gradients inside the image.
    """
    dtype = flow.dtype
    grid_y = tf.cast(tf.range(height), dtype)[:, tf.newaxis]
    grid_x = tf.cast(tf.range(width), dtype)[tf.newaxis, :]
    # Unstacked, not sliced: a slice's gradient is a zero tensor of the whole flow.
    flow_y, flow_x = tf.unstack(flow, axis=-1)
    query_y = grid_y[tf.newaxis] - flow_y
    query_x = grid_x[tf.newaxis] - flow_x

    max_y = tf.cast(height - 1, dtype)
    max_x = tf.cast(width - 1, dtype)
    if padding == "border":
        query_y = tf.clip_by_value(query_y, tf.zeros([], dtype), max_y)
        query_x = tf.clip_by_value(query_x, tf.zeros([], dtype), max_x)
    else:
        query_y = tf.clip_by_value(query_y, tf.constant(-2.0, dtype),
                                   max_y + 2.0)
        query_x = tf.clip_by_value(query_x, tf.constant(-2.0, dtype),
                                   max_x + 2.0)
    return query_y, query_x


def _bilinear_sample(image, query_y, query_x, padding):
    """Bilinear samples of `image` `[B, H, W, C]` at the query points, `[B, H, W, C]`."""
    dtype = image.dtype
    batch, height, width, channels = _dims(image)
    floor_y = tf.floor(query_y)
    floor_x = tf.floor(query_x)
    # Fractional offsets carry the gradient w.r.t. the flow
    # (tf.floor has no gradient).
    frac_y = query_y - floor_y
    frac_x = query_x - floor_x

    y0 = tf.cast(floor_y, tf.int32)
    x0 = tf.cast(floor_x, tf.int32)
    y1 = y0 + 1
    x1 = x0 + 1

    image_flat = tf.reshape(image, [batch, height * width, channels])

    def corner(y_idx, x_idx, weight):
        """Weighted gather of one bilinear neighbour."""
        y_safe = tf.clip_by_value(y_idx, 0, height - 1)
        x_safe = tf.clip_by_value(x_idx, 0, width - 1)
        if padding == "zeros":
            inside = ((y_idx >= 0) & (y_idx < height) &
                      (x_idx >= 0) & (x_idx < width))
            weight = weight * tf.cast(inside, dtype)
        # In "border" mode the clamped query never needs an outside
        # neighbour except with zero weight, so clipping is exact.
        values = tf.gather(image_flat, y_safe * width + x_safe,
                           batch_dims=1)  # [B, H, W, C]
        return values * tf.expand_dims(weight, -1)  # a slice's gradient would be a scatter

    return (corner(y0, x0, (1.0 - frac_y) * (1.0 - frac_x)) +
            corner(y0, x1, (1.0 - frac_y) * frac_x) +
            corner(y1, x0, frac_y * (1.0 - frac_x)) +
            corner(y1, x1, frac_y * frac_x))


def _flow_and_half_sizes(flow, name):
    """The checked float flow and the half sizes ``(H - 1) / 2``, ``(W - 1) / 2`` in its dtype."""
    flow = _check_flow(_to_float(flow), name)
    _, height, width, _ = _dims(flow)
    return (flow, tf.cast(height - 1, flow.dtype) / 2.0, tf.cast(width - 1, flow.dtype) / 2.0)


def normalized_to_pixel_flow(flow_xy):
    """Converts a normalized (x, y) flow to a pixel (dy, dx) flow.

    Args:
        flow_xy: Tensor ``[B, H, W, 2]`` in the seg2vid reference's normalized
            units: channel 0 = ``x``, channel 1 = ``y``, where ``-1 .. 1``
            spans the image between the centres of the first and the last
            pixel. ``H`` and ``W`` are read from the shape (may be dynamic).
            Non-floating inputs are cast to float32.

    Returns:
        Tensor ``[B, H, W, 2]`` in pixels with channel 0 =
        ``dy = fy * (H - 1) / 2`` and channel 1 = ``dx = fx * (W - 1) / 2``,
        with the dtype of ``flow_xy``.

    Raises:
        ValueError: If ``flow_xy`` is not rank 4 or its last dimension is
            not 2.
    """
    with tf.name_scope("normalized_to_pixel_flow"):
        flow_xy, scale_y, scale_x = _flow_and_half_sizes(flow_xy, "flow_xy")
        # (y, x) by a reversal and per-channel scales: slicing the channels apart would
        # make each slice's gradient a zero tensor of the whole flow.
        return tf.reverse(flow_xy, axis=[-1]) * tf.stack([scale_y, scale_x])


def pixel_to_normalized_flow(flow_pixels):
    """Converts a pixel (dy, dx) flow to a normalized (x, y) flow.

    Exact inverse of :func:`normalized_to_pixel_flow` for ``H, W > 1``, with
    its shape rules and errors (``ValueError`` unless ``[B, H, W, 2]``). For a
    dimension of size 1 the normalized unit is undefined (``H - 1 == 0``);
    the corresponding normalized component is returned as 0.

    Args:
        flow_pixels: Tensor ``[B, H, W, 2]`` in pixels, channel 0 = ``dy``,
            channel 1 = ``dx``. Non-floating inputs are cast to float32.

    Returns:
        Tensor ``[B, H, W, 2]`` with channel 0 = ``fx = dx * 2 / (W - 1)``
        and channel 1 = ``fy = dy * 2 / (H - 1)``, with the dtype of
        ``flow_pixels``.
    """
    with tf.name_scope("pixel_to_normalized_flow"):
        flow_pixels, scale_y, scale_x = _flow_and_half_sizes(flow_pixels, "flow_pixels")
        return tf.stack(
            [tf.math.divide_no_nan(flow_pixels[..., 1], scale_x),
             tf.math.divide_no_nan(flow_pixels[..., 0], scale_y)], axis=-1)


def warp(image, flow_xy):
    """The seg2vid reference warp: backward warp with a normalized flow.

    Samples ``image`` at ``p - f(p)`` where ``p`` is the normalized pixel
    position, with zeros outside the image (PyTorch ``grid_sample`` with
    ``padding_mode="zeros"``, ``align_corners=True``). Equivalent to
    ``dense_image_warp(image, normalized_to_pixel_flow(flow_xy),
    padding="zeros")``; ``flow_xy`` is first cast to the dtype of ``image``
    (float32 for 16-bit images) so that the conversion runs at that
    precision.

    Args:
        image: Floating tensor ``[B, H, W, C]``.
        flow_xy: Tensor ``[B, H, W, 2]`` in normalized units, channel 0 =
            ``x``, channel 1 = ``y`` (see :func:`normalized_to_pixel_flow`).

    Returns:
        The warped image, same shape and dtype as ``image``.

    Raises:
        ValueError: On invalid shapes (see :func:`dense_image_warp`).
        TypeError: If ``image`` does not have a floating dtype.
    """
    with tf.name_scope("warp"):
        image = tf.convert_to_tensor(image, name="image")
        flow_xy = tf.convert_to_tensor(flow_xy, name="flow_xy")
        if image.dtype.is_floating:
            flow_xy = tf.cast(flow_xy, _compute_dtype(image.dtype))
        return dense_image_warp(image, normalized_to_pixel_flow(flow_xy),
                                padding="zeros")
