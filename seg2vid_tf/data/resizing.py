"""In-graph resizing of decoded frames, label maps and pixel flows to the model's size.

Frames are resized bilinearly with antialiasing (and kept in ``[0, 1]``),
label maps and flows by nearest neighbour; flows are in pixels, so their
``u`` (dx) and ``v`` (dy) are scaled by the width and height ratios. Inputs
already at the target size pass through unchanged.
"""

import tensorflow as tf

__all__ = ["resize_flow", "resize_frames", "resize_label"]


def _resize_if_needed(images, height, width, method, antialias):
    """Resizes ``[..., H, W, C]`` to ``(height, width)`` unless already that size."""
    size = tf.shape(images)[-3:-1]
    same = tf.reduce_all(tf.equal(size, [height, width]))
    resized = tf.cond(
        same,
        lambda: tf.identity(images),
        lambda: tf.cast(
            tf.image.resize(images, [height, width], method=method, antialias=antialias),
            images.dtype,
        ),
    )
    shape = images.shape.as_list()
    shape[-3:-1] = [height, width]
    return tf.ensure_shape(resized, shape)


def resize_frames(frames, height, width):
    """Bilinear, antialiased resize of ``[..., H, W, C]`` float frames (kept in [0, 1])."""
    out = _resize_if_needed(frames, height, width, "bilinear", True)
    return tf.clip_by_value(out, 0.0, 1.0)


def resize_label(label, height, width):
    """Nearest-neighbour resize of an int label map ``[H, W]``."""
    return _resize_if_needed(label[..., None], height, width, "nearest", False)[..., 0]


def resize_flow(flow, valid, height, width):
    """Nearest-neighbour resize of a pixel flow, scaling u and v by the size ratio.

    Args:
        flow: float32 ``[H, W, 2]`` (u = dx, v = dy, pixels).
        valid: bool ``[H, W]``.
        height: Output height.
        width: Output width.

    Returns:
        ``(flow, valid)`` of shapes ``[height, width, 2]`` and ``[height, width]``.
    """
    size = tf.cast(tf.shape(flow)[:2], tf.float32)
    scale = tf.stack([width / size[1], height / size[0]])
    out = _resize_if_needed(flow, height, width, "nearest", False) * scale
    valid = tf.cast(valid, tf.uint8)[..., None]
    out_valid = _resize_if_needed(valid, height, width, "nearest", False)
    return out, tf.cast(out_valid[..., 0], tf.bool)
