"""What pix2pixHD's generator reads: one-hot label classes and instance edges."""

import tensorflow as tf


def generator_input(label_map, num_labels, edge_map=None):
    """The generator's input: one-hot label classes, then the instance edges.

    Args:
        label_map: `[B, H, W]` integer class ids in `0 .. num_labels - 1`.
        num_labels: Classes of the one-hot encoding (`--label_nc`, 35 for
            Cityscapes label ids).
        edge_map: Optional `[B, H, W]` or `[B, H, W, 1]` instance-boundary map
            (see `instance_edges`); appended as the last channel.

    Returns:
        float32 `[B, H, W, num_labels (+ 1)]`.

    Raises:
        ValueError: Wrong ranks or mismatching sizes.
    """
    label_map = tf.convert_to_tensor(label_map)
    if label_map.shape.rank != 3:
        raise ValueError(f"label_map must be [batch, height, width], got shape {label_map.shape}.")
    one_hot = tf.one_hot(tf.cast(label_map, tf.int32), num_labels, dtype=tf.float32)
    if edge_map is None:
        return one_hot
    edge_map = tf.cast(tf.convert_to_tensor(edge_map), tf.float32)
    if edge_map.shape.rank == 3:
        edge_map = edge_map[..., None]
    if edge_map.shape.rank != 4 or edge_map.shape[-1] != 1:
        raise ValueError(
            f"edge_map must be [batch, height, width] or [batch, height, width, 1], got shape "
            f"{edge_map.shape}.")
    if not label_map.shape[:3].is_compatible_with(edge_map.shape[:3]):
        raise ValueError(
            f"edge_map shape {edge_map.shape} does not match label_map shape {label_map.shape}.")
    return tf.concat([one_hot, edge_map], axis=-1)


def instance_edges(instance_map):
    """pix2pixHD's `get_edges`: 1 where a pixel's instance id differs from a
    horizontal or vertical neighbour's (both pixels of such a pair), else 0.

    Args:
        instance_map: `[B, H, W]` integer instance ids.

    Returns:
        float32 `[B, H, W]`.
    """
    ids = tf.convert_to_tensor(instance_map)
    if ids.shape.rank != 3:
        raise ValueError(f"instance_map must be [batch, height, width], got shape {ids.shape}.")
    vertical = tf.not_equal(ids[:, 1:, :], ids[:, :-1, :])
    horizontal = tf.not_equal(ids[:, :, 1:], ids[:, :, :-1])
    false_row = tf.zeros_like(vertical[:, :1, :])
    false_column = tf.zeros_like(horizontal[:, :, :1])
    edges = tf.logical_or(tf.concat([false_row, vertical], axis=1),
                          tf.concat([vertical, false_row], axis=1))
    edges = tf.logical_or(edges, tf.concat([false_column, horizontal], axis=2))
    edges = tf.logical_or(edges, tf.concat([horizontal, false_column], axis=2))
    return tf.cast(edges, tf.float32)
