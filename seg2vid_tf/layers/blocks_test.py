"""Building blocks: activation slope, upsampling convention, parameter names."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.layers import blocks
from seg2vid_tf.layers.batch_norm import BatchNorm, fold_into_convolution
from seg2vid_tf.layers.convolution import Conv2D, Conv3D


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


def _with_running_statistics(norm, channels, seed):
    rng = np.random.default_rng(seed)
    norm.build((None, channels))
    norm.gamma.assign(rng.uniform(0.5, 2.0, channels).astype(np.float32))
    norm.beta.assign(rng.normal(size=channels).astype(np.float32))
    norm.moving_mean.assign(rng.normal(size=channels).astype(np.float32))
    norm.moving_variance.assign(rng.uniform(0.1, 3.0, channels).astype(np.float32))
    return norm


def _ops_on_activations(function, x):
    """Types of the traced ops whose output has the shape of `function(x)`."""
    concrete = tf.function(function).get_concrete_function(x)
    shape = concrete.structured_outputs.shape
    return {op.type for op in concrete.graph.get_operations()
            if any(output.shape == shape for output in op.outputs)}


@pytest.mark.parametrize("rank", [4, 5])
def test_conv_norm_in_inference_is_one_convolution_with_the_batch_norm_folded_in(rank):
    conv = Conv2D(6, 3, 1, 1) if rank == 4 else Conv3D(6, 3, padding=1)
    norm = BatchNorm()
    shape = (2, 9, 10, 4) if rank == 4 else (2, 3, 9, 10, 4)
    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype(np.float32))
    conv(x)
    _with_running_statistics(norm, 6, seed=1)
    separate = norm(conv(x), training=False).numpy()
    folded = blocks.conv_norm(conv, norm, x, training=False).numpy()
    np.testing.assert_allclose(folded, separate, rtol=1e-5, atol=1e-5)
    # Nothing but the convolution and its bias runs on the activations.
    types = _ops_on_activations(lambda v: blocks.conv_norm(conv, norm, v, training=False), x)
    assert types == {f"Conv{rank - 2}D", "BiasAdd", "Identity"}, types


def test_conv_norm_in_training_takes_batch_statistics_and_updates_the_running_ones():
    conv, norm = Conv2D(3, 3, 1, 1), BatchNorm()
    x = tf.constant(np.random.default_rng(2).normal(size=(4, 6, 6, 2)).astype(np.float32))
    conv(x)
    _with_running_statistics(norm, 3, seed=3)
    before = norm.moving_mean.numpy().copy()
    out = blocks.conv_norm(conv, norm, x, training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), norm.beta.numpy(), atol=1e-4)
    assert not np.allclose(norm.moving_mean.numpy(), before)


def test_fold_refuses_batch_norms_of_another_width():
    norm = _with_running_statistics(BatchNorm(), 4, seed=0)
    with pytest.raises(ValueError, match="4 channels, the kernel 6 outputs"):
        fold_into_convolution([norm], tf.zeros([3, 3, 2, 6]), None)


def _grappler_op_types(function, spec):
    """Op types of `function`'s graph after Grappler's default passes, as TF runs them."""
    from tensorflow.core.protobuf import config_pb2  # pylint: disable=import-outside-toplevel
    from tensorflow.python.grappler import tf_optimizer  # pylint: disable=import-outside-toplevel
    from tensorflow.python.training import saver  # pylint: disable=import-outside-toplevel

    concrete = tf.function(function).get_concrete_function(spec)
    graph = concrete.graph
    graph.get_collection_ref(tf.compat.v1.GraphKeys.TRAIN_OP).extend(concrete.outputs)
    meta_graph = saver.export_meta_graph(graph_def=graph.as_graph_def(), graph=graph)
    config = config_pb2.ConfigProto()
    config.graph_options.rewrite_options.min_graph_nodes = -1
    return {node.op for node in tf_optimizer.OptimizeGraph(config, meta_graph).node}


def test_training_graph_fuses_convolution_bias_and_leaky_relu():
    """Grappler's remapper used to fail on the training step (a LeakyReLU gradient and a
    3-D convolution's filter gradient read tensors it fuses away), leaving every
    LeakyReLU as an op of its own."""
    conv2d, conv3d = Conv2D(4, 3, 1, 1), Conv3D(4, 3, padding=1)
    conv2d.build((None, 8, 8, 3))
    conv3d.build((None, 3, 8, 8, 4))

    def gradients(x):
        with tf.device("/device:CPU:0"), tf.GradientTape() as tape:
            y = blocks.leaky_relu(conv2d(x))
            y = blocks.leaky_relu(conv3d(tf.stack([y, y, y], axis=1)))
            loss = tf.reduce_sum(y)
        return tape.gradient(loss, [conv2d.kernel, conv3d.kernel])

    types = _grappler_op_types(gradients, tf.TensorSpec([2, 8, 8, 3]))
    assert {"_FusedConv2D", "_FusedConv3D"} <= types and "LeakyRelu" not in types, types


def test_leaky_relu_gradient_is_the_slope_on_each_side():
    x = tf.constant([-3.0, -0.5, 0.0, 0.5, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = blocks.leaky_relu(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.2, 0.2, 0.2, 1.0, 1.0])
