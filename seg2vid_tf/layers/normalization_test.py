"""Instance norm, reflection padding and average downsampling against NumPy models of PyTorch."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.layers.batch_norm import BatchNorm
from seg2vid_tf.layers.normalization import (
    InstanceNorm, ReflectionPad2D, average_downsample, make_norm)


def torch_instance_norm(x, eps=1e-5):
    """`InstanceNorm2d` on channels-last float64: per sample and channel, biased variance."""
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(variance + eps)


def torch_average_pool(x):
    """`AvgPool2d(3, 2, padding=1, count_include_pad=False)` on channels-last, by loops."""
    batch, height, width, channels = x.shape
    out_height, out_width = (height - 1) // 2 + 1, (width - 1) // 2 + 1
    result = np.zeros((batch, out_height, out_width, channels))
    for i in range(out_height):
        for j in range(out_width):
            rows = slice(max(2 * i - 1, 0), min(2 * i + 2, height))
            columns = slice(max(2 * j - 1, 0), min(2 * j + 2, width))
            result[:, i, j] = x[:, rows, columns].mean(axis=(1, 2))
    return result


@pytest.mark.parametrize("training", [False, True])
def test_instance_norm_matches_pytorch_in_both_modes(training):
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (2, 5, 7, 4)).astype(np.float32)
    layer = InstanceNorm()
    out = layer(x, training=training).numpy()
    np.testing.assert_allclose(out, torch_instance_norm(x.astype(np.float64)), atol=1e-5)
    assert layer.weights == [] and layer.reference_variables() == {}


def test_affine_instance_norm_scales_and_shifts_under_pytorch_names():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    layer = InstanceNorm(affine=True)
    layer.build(x.shape)
    gamma, beta = np.array([1.0, 2.0, 0.5], np.float32), np.array([0.0, -1.0, 3.0], np.float32)
    variables = layer.reference_variables()
    assert set(variables) == {"weight", "bias"}
    variables["weight"][0].assign(gamma)
    variables["bias"][0].assign(beta)
    expected = torch_instance_norm(x.astype(np.float64)) * gamma + beta
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-5)


def test_instance_norm_rejects_other_ranks():
    with pytest.raises(ValueError, match="batch, height, width, channels"):
        InstanceNorm()(np.zeros((2, 3, 4), np.float32))


def test_reflection_pad_mirrors_without_repeating_the_edge():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    layer = ReflectionPad2D(3)
    expected = np.pad(x, [(0, 0), (3, 3), (3, 3), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(layer(x).numpy(), expected)
    assert layer.compute_output_shape((2, 4, 5, 3)) == (2, 10, 11, 3)


def test_reflection_pad_needs_sides_larger_than_the_padding():
    with pytest.raises(ValueError, match="larger than 3"):
        ReflectionPad2D(3)(np.zeros((1, 3, 8, 1), np.float32))
    with pytest.raises(ValueError, match="non-negative int"):
        ReflectionPad2D(-1)


@pytest.mark.parametrize("height, width", [(8, 12), (7, 5), (1, 2), (16, 9)])
def test_average_downsample_does_not_count_padded_cells(height, width):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, height, width, 3)).astype(np.float32)
    out = average_downsample(x).numpy()
    np.testing.assert_allclose(out, torch_average_pool(x.astype(np.float64)), atol=1e-6)
    # TensorFlow's SAME pooling pads even sides only at the end: a different result.
    if height % 2 == 0 and height > 2:
        same = tf.nn.avg_pool2d(x, 3, 2, "SAME").numpy()
        assert same.shape == out.shape and np.abs(same - out).max() > 1e-3


def test_average_downsample_works_under_tf_function_with_unknown_sizes():
    function = tf.function(average_downsample,
                           input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    x = np.random.default_rng(3).normal(size=(1, 6, 10, 2)).astype(np.float32)
    np.testing.assert_allclose(function(x).numpy(), torch_average_pool(x.astype(np.float64)),
                               atol=1e-6)


def test_make_norm():
    assert isinstance(make_norm("instance", "a"), InstanceNorm)
    assert isinstance(make_norm("batch", "b"), BatchNorm)
    with pytest.raises(ValueError, match="norm must be one of"):
        make_norm("group", "c")
