"""The generator's input: one-hot labels and instance edges."""

import numpy as np
import pytest

from seg2vid_tf.models.pix2pixhd_inputs import generator_input, instance_edges


def test_generator_input_and_instance_edges():
    labels = np.array([[[0, 1, 1], [2, 2, 1]]], np.int32)
    instances = np.array([[[5, 5, 7], [5, 5, 7]]], np.int32)
    edges = instance_edges(instances).numpy()
    # Both pixels of every differing horizontal or vertical pair are edges.
    np.testing.assert_array_equal(edges, [[[0, 1, 1], [0, 1, 1]]])
    inputs = generator_input(labels, 3, edges).numpy()
    assert inputs.shape == (1, 2, 3, 4)
    np.testing.assert_array_equal(inputs[..., :3].argmax(-1), labels)
    np.testing.assert_array_equal(inputs[..., 3], edges)
    assert generator_input(labels, 3).shape == (1, 2, 3, 3)
    with pytest.raises(ValueError, match="does not match label_map"):
        generator_input(labels, 3, np.zeros((1, 2, 4), np.float32))
    with pytest.raises(ValueError, match="label_map must be"):
        generator_input(labels[0], 3)
