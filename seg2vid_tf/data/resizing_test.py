"""Tests for seg2vid_tf.data.resizing (frames, label maps and pixel flows)."""

import numpy as np
import tensorflow as tf

from seg2vid_tf.data import resizing


def test_resize_helpers():
    flow = tf.constant(np.stack([np.full((4, 8), 2.0), np.full((4, 8), -4.0)], -1), tf.float32)
    valid = tf.constant(np.tile([True, False], (4, 4)))
    out, out_valid = resizing.resize_flow(flow, valid, 2, 2)
    np.testing.assert_allclose(out.numpy()[..., 0], 0.5)  # u * 2 / 8
    np.testing.assert_allclose(out.numpy()[..., 1], -2.0)  # v * 2 / 4
    assert out_valid.dtype == tf.bool and out_valid.shape == (2, 2)

    label = tf.constant([[1, 1, 2, 2], [3, 3, 4, 4]], tf.int32)
    np.testing.assert_array_equal(resizing.resize_label(label, 2, 2).numpy(), [[1, 2], [3, 4]])

    frames = tf.random.uniform([2, 3, 5, 3], seed=1)
    np.testing.assert_array_equal(resizing.resize_frames(frames, 3, 5).numpy(), frames.numpy())
    assert resizing.resize_frames(frames, 6, 10).shape == (2, 6, 10, 3)
