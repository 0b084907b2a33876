"""Building blocks: activation slope, upsampling convention, parameter names."""

import numpy as np
import tensorflow as tf

from seg2vid_tf.layers import blocks


def torch_upsample_bilinear_2x(x):
    """PyTorch `F.interpolate(scale_factor=2, mode='bilinear', align_corners=False)`, NHWC."""

    def axis_weights(size):
        out = np.arange(2 * size)
        src = np.maximum((out + 0.5) / 2.0 - 0.5, 0.0)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, size - 1)
        return low, high, src - low

    low_h, high_h, frac_h = axis_weights(x.shape[1])
    low_w, high_w, frac_w = axis_weights(x.shape[2])
    rows = (x[:, low_h] * (1 - frac_h)[None, :, None, None]
            + x[:, high_h] * frac_h[None, :, None, None])
    return (rows[:, :, low_w] * (1 - frac_w)[None, None, :, None]
            + rows[:, :, high_w] * frac_w[None, None, :, None])


def test_leaky_relu_uses_reference_slope():
    out = blocks.leaky_relu(tf.constant([-10.0, 0.0, 3.0])).numpy()
    np.testing.assert_allclose(out, [-2.0, 0.0, 3.0])


def test_bilinear_upsampling_uses_half_pixel_centres_like_pytorch():
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 4)).astype(np.float32)
    out = blocks.upsample2x(tf.constant(x)).numpy()
    np.testing.assert_allclose(out, torch_upsample_bilinear_2x(x.astype(np.float64)), atol=1e-6)


def test_nearest_upsampling_repeats_pixels():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    out = blocks.upsample2x(tf.constant(x), "nearest").numpy()
    np.testing.assert_array_equal(out, x.repeat(2, axis=1).repeat(2, axis=2))


def test_reference_names_of_blocks():
    upconv = blocks.UpConv(4, 3, 1, 1)
    upconv(tf.zeros((1, 8, 8, 6)))
    names = set(upconv.reference_variables())
    assert {"main.0.weight", "main.0.bias", "main.1.running_var", "main.3.weight",
            "main.4.num_batches_tracked"} <= names
    gate = blocks.Gate3D(2)
    gate(tf.zeros((1, 4, 4, 4, 2)))
    assert {"conv.weight", "conv.bias", "bn.weight", "bn.running_mean"} <= set(gate.reference_variables())
    convblock = blocks.ConvBlock(3, 4, 2, 1)
    convblock(tf.zeros((1, 8, 8, 2)))
    assert "main.0.bias" not in convblock.reference_variables()
