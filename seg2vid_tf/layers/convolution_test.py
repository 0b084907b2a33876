"""Convolutions against NumPy models of PyTorch's padding and layouts."""

import numpy as np
import pytest

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.convolution import Conv2D, Conv2DTranspose, Conv3D, Linear, side_by_side


def torch_conv2d(x, weight, bias, stride, padding):
    """PyTorch conv2d on NHWC input with a `[out, in, kh, kw]` weight (float64)."""
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    k = weight.shape[2]
    out_h = (x.shape[1] - k) // stride + 1
    out_w = (x.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, weight.shape[0]))
    for i in range(k):
        for j in range(k):
            patch = x[:, i:i + stride * out_h:stride, j:j + stride * out_w:stride, :]
            out += patch @ weight[:, :, i, j].T
    return out + (0 if bias is None else bias)


def torch_conv_transpose2d(x, weight, bias, stride, padding, output_padding):
    """PyTorch conv_transpose2d on NHWC input with an `[in, out, kh, kw]` weight."""
    n, h, w, _ = x.shape
    k = weight.shape[2]
    full = np.zeros((n, (h - 1) * stride + k, (w - 1) * stride + k, weight.shape[1]))
    for i in range(k):
        for j in range(k):
            full[:, i:i + stride * h:stride, j:j + stride * w:stride, :] += x @ weight[:, :, i, j]
    out_h = (h - 1) * stride - 2 * padding + k + output_padding
    out_w = (w - 1) * stride - 2 * padding + k + output_padding
    return full[:, padding:padding + out_h, padding:padding + out_w, :] + bias


def _assign(layer, state):
    for name, (variable, to_keras) in layer.reference_variables().items():
        variable.assign(to_keras(state[name]).astype(np.float32))


@pytest.mark.parametrize("size", [7, 8])
@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 1), (4, 2, 1), (3, 1, 1), (4, 1, 0), (5, 1, 2)])
def test_conv2d_matches_pytorch_padding(size, kernel, stride, padding):
    rng = np.random.default_rng(kernel * 10 + stride + size)
    x = rng.normal(size=(2, size, size + 1, 3))
    state = {"weight": rng.normal(size=(5, 3, kernel, kernel)), "bias": rng.normal(size=5)}
    layer = Conv2D(5, kernel, stride, padding)
    layer.build(x.shape)
    _assign(layer, state)
    out = layer(x.astype(np.float32)).numpy()
    expected = torch_conv2d(x, state["weight"], state["bias"], stride, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_tensorflow_same_padding_would_differ_for_odd_kernel_stride_two():
    """The reason Conv2D pads explicitly: TF's SAME pads 0 before and 1 after here."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 8, 8, 2)).astype(np.float32)
    weight = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    same = tf.nn.conv2d(x, reference_names.conv2d_kernel(weight), 2, "SAME").numpy()
    expected = torch_conv2d(x.astype(np.float64), weight, None, 2, 1)
    assert same.shape == expected.shape
    assert np.abs(same - expected).max() > 1e-2


@pytest.mark.parametrize("kernel,stride,padding,output_padding",
                         [(4, 1, 0, 0), (3, 1, 1, 0), (3, 2, 1, 1), (4, 2, 1, 0)])
def test_conv2d_transpose_matches_pytorch(kernel, stride, padding, output_padding):
    rng = np.random.default_rng(kernel + stride + padding)
    x = rng.normal(size=(2, 3, 5, 4))
    state = {"weight": rng.normal(size=(4, 6, kernel, kernel)), "bias": rng.normal(size=6)}
    layer = Conv2DTranspose(6, kernel, stride, padding, output_padding)
    layer.build(x.shape)
    _assign(layer, state)
    out = layer(x.astype(np.float32)).numpy()
    expected = torch_conv_transpose2d(x, state["weight"], state["bias"], stride, padding,
                                      output_padding)
    assert out.shape == expected.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_conv2d_transpose_rejects_unsupported_output_padding():
    with pytest.raises(ValueError, match="output_padding"):
        Conv2DTranspose(3, 3, 2, padding=0, output_padding=1)


def test_conv3d_matches_pytorch_layout():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 4, 5, 6, 3))  # [B, T, H, W, C]
    weight = rng.normal(size=(2, 3, 3, 3, 3))  # [out, in, kt, kh, kw]
    bias = rng.normal(size=2)
    layer = Conv3D(2, 3, padding=1)
    layer.build(x.shape)
    _assign(layer, {"weight": weight, "bias": bias})
    out = layer(x.astype(np.float32)).numpy()
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))
    expected = np.zeros(x.shape[:4] + (2,)) + bias
    for a in range(3):
        for b in range(3):
            for c in range(3):
                expected += padded[:, a:a + 4, b:b + 5, c:c + 6, :] @ weight[:, :, a, b, c].T
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_linear_matches_pytorch_layout_on_rows():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 3, 8))
    weight, bias = rng.normal(size=(5, 8)), rng.normal(size=5)
    layer = Linear(5)
    layer.build(x.shape)
    _assign(layer, {"weight": weight, "bias": bias})
    np.testing.assert_allclose(layer(x.astype(np.float32)).numpy(), x @ weight.T + bias, atol=1e-5)


def test_default_initialization_is_pytorch_uniform():
    layer = Conv2D(64, 3, 1, 1)
    layer.build((None, 8, 8, 32))
    limit = 1.0 / np.sqrt(32 * 9)
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit
    assert np.abs(layer.bias.numpy()).max() <= limit


def _built_conv2d(filters, in_channels, seed, kernel=3, padding=1):
    layer = Conv2D(filters, kernel, 1, padding, use_bias=True)
    layer.build((None, 8, 8, in_channels))
    rng = np.random.default_rng(seed)
    layer.kernel.assign(rng.normal(size=layer.kernel.shape).astype(np.float32))
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype(np.float32))
    return layer


def _torch_weight(layer):
    """The layer's kernel in PyTorch's `[out, in, kh, kw]` layout, float64."""
    return np.transpose(layer.kernel.numpy(), (3, 2, 0, 1)).astype(np.float64)


def test_side_by_side_convolutions_on_one_input_concatenate_their_outputs():
    layers = [_built_conv2d(2, 5, seed) for seed in (1, 2, 3)]
    x = np.random.default_rng(4).normal(size=(2, 7, 6, 5)).astype(np.float32)
    out = layers[0].convolve(x, *side_by_side(layers)).numpy()
    expected = np.concatenate(
        [torch_conv2d(x.astype(np.float64), _torch_weight(layer), layer.bias.numpy(), 1, 1)
         for layer in layers], axis=-1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_side_by_side_convolutions_on_their_own_channel_blocks_are_grouped():
    layers = [_built_conv2d(3, 4, seed, kernel=5, padding=2) for seed in (5, 6)]
    x = np.random.default_rng(7).normal(size=(2, 9, 8, 8)).astype(np.float32)
    out = layers[0].convolve(x, *side_by_side(layers)).numpy()
    expected = np.concatenate(
        [torch_conv2d(x[..., 4 * i:4 * i + 4].astype(np.float64), _torch_weight(layer),
                      layer.bias.numpy(), 1, 2)
         for i, layer in enumerate(layers)], axis=-1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_side_by_side_refuses_convolutions_of_different_geometry():
    unbuilt = Conv2D(2, 3, 1, 1)
    with pytest.raises(ValueError, match="not built"):
        side_by_side([_built_conv2d(2, 5, 0), unbuilt])
    with pytest.raises(ValueError, match="one geometry"):
        side_by_side([_built_conv2d(2, 5, 0), _built_conv2d(2, 5, 1, kernel=5, padding=2)])
    with pytest.raises(ValueError, match="one geometry"):
        side_by_side([_built_conv2d(2, 5, 0), _built_conv2d(2, 4, 1)])


@pytest.mark.parametrize("kernel,padding", [(5, 2), (7, 0)])
def test_narrow_conv2d_runs_by_rows_in_inference_with_pytorch_results(kernel, padding):
    """A narrow output (3 channels from 16, 5x5 or 7x7) runs as `rows_convolution` in
    explicit inference, plain in training or without a mode, and each gives PyTorch's
    convolution."""
    import tensorflow as tf

    rng = np.random.default_rng(kernel)
    x = rng.normal(size=(2, 11, 13, 16))
    state = {"weight": rng.normal(size=(3, 16, kernel, kernel)), "bias": rng.normal(size=3)}
    layer = Conv2D(3, kernel, 1, padding)
    layer.build(x.shape)
    _assign(layer, state)
    expected = torch_conv2d(x, state["weight"], state["bias"], 1, padding)
    for training in (False, True, None):
        function = tf.function(lambda v, training=training: layer(v, training=training))
        graph = function.get_concrete_function(tf.TensorSpec(x.shape, tf.float32)).graph
        kernels = [op.inputs[1].shape[-1] for op in graph.get_operations() if op.type == "Conv2D"]
        assert kernels == ([3 * kernel] if training is False else [3]), training
        np.testing.assert_allclose(function(x.astype(np.float32)).numpy(), expected, atol=1e-4)


@pytest.mark.parametrize("filters,channels,kernel,stride", [(5, 16, 5, 1), (3, 8, 5, 1),
                                                            (3, 16, 3, 1), (3, 16, 5, 2)])
def test_conv2d_outside_the_narrow_shapes_runs_plain_in_inference(filters, channels, kernel,
                                                                  stride):
    import tensorflow as tf

    layer = Conv2D(filters, kernel, stride, 0)
    function = tf.function(lambda v: layer(v, training=False))
    graph = function.get_concrete_function(tf.TensorSpec([1, 12, 12, channels], tf.float32)).graph
    kernels = [op.inputs[1].shape[-1] for op in graph.get_operations() if op.type == "Conv2D"]
    assert kernels == [filters]


def test_rows_convolution_names_an_input_smaller_than_its_kernel():
    import tensorflow as tf

    from seg2vid_tf.layers.convolution import rows_convolution

    with pytest.raises(ValueError, match="7x7 convolution needs a height of at least 7"):
        rows_convolution(tf.zeros([1, 6, 9, 16]), tf.zeros([7, 7, 16, 3]))
