"""The FLOP count of graphs: matrix products, 3-D convolutions and their gradients."""

import pytest
import tensorflow as tf

from seg2vid_tf.benchmarking.flops import graph_gflop


def test_graph_gflop_counts_a_matrix_product():
    function = tf.function(lambda a, b: tf.matmul(a, b),
                           input_signature=[tf.TensorSpec([64, 32]), tf.TensorSpec([32, 16])])
    assert graph_gflop(function.get_concrete_function()) == pytest.approx(
        2 * 64 * 32 * 16 / 1e9)


def test_graph_gflop_counts_3d_convolutions_and_their_gradients():
    kernel = tf.Variable(tf.random.normal([3, 3, 3, 4, 8]))
    inputs_spec = tf.TensorSpec([2, 5, 8, 8, 4])

    def forward(x):
        return tf.nn.conv3d(x, kernel, strides=[1] * 5, padding="SAME")

    def forward_and_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x))
        return [y] + tape.gradient(y, [x, kernel])

    def gradient_of_the_input_only(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x))
        return tape.gradient(y, x)  # the kernel's gradient and the forward pass are dead code

    # 2 * output elements * kernel volume * input channels.
    conv = 2 * (2 * 5 * 8 * 8 * 8) * 27 * 4 / 1e9
    assert graph_gflop(tf.function(forward, input_signature=[inputs_spec])
                       .get_concrete_function()) == pytest.approx(conv)
    both = graph_gflop(tf.function(forward_and_backward, input_signature=[inputs_spec])
                       .get_concrete_function())
    # Forward, gradient of the input and gradient of the kernel.
    assert both == pytest.approx(3 * conv)
    assert graph_gflop(tf.function(gradient_of_the_input_only, input_signature=[inputs_spec])
                       .get_concrete_function()) == pytest.approx(conv)
