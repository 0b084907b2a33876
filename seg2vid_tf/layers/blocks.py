"""The building blocks of the seg2vid networks (docs/method.md, "Building blocks").

Each block keeps the PyTorch module path of its parameters (`main.0`,
`main.1`, ...) in `reference_variables()`, so a released checkpoint maps onto it
name by name. `width_multiplier` is applied by the networks that use these
blocks, never here.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import BatchNorm, fold_into_convolution
from seg2vid_tf.layers.convolution import Conv2D, Conv3D

LEAKY_SLOPE = 0.2  # The reference's slope; Keras' LeakyReLU defaults to 0.3.


@tf.custom_gradient
def leaky_relu(x):
    """LeakyReLU with the reference's slope 0.2.

    Its gradient is TensorFlow's own (`LeakyReluGrad`), read from the output
    rather than the input (the same: both have the same sign). Read from the
    input, it keeps Grappler's remapper from fusing convolution, bias and
    LeakyReLU on a training graph: the remapper fails there ("fanout
    'LeakyReluGrad' exist for missing node 'BiasAdd'") and then leaves out all
    its fusions (docs/performance.md).
    """
    y = tf.nn.leaky_relu(x, alpha=LEAKY_SLOPE)

    def gradient(upstream):
        return tf.raw_ops.LeakyReluGrad(gradients=upstream, features=y, alpha=LEAKY_SLOPE)
    return y, gradient


def conv_norm(conv, norm, inputs, training=None):
    """`norm(conv(inputs))`: a convolution layer, then a `BatchNorm` layer.

    In inference (once both are built) one convolution with the batch norm
    folded into its kernel and bias (`fold_into_convolution`).
    """
    if training or not (conv.built and norm.built):
        return norm(conv(inputs), training=training)
    return conv.convolve(inputs, *fold_into_convolution([norm], conv.kernel, conv.bias))


def upsample2x(x, method="bilinear"):
    """x2 spatial upsampling; bilinear uses half-pixel centres like PyTorch's
    `align_corners=False` (the default of `F.interpolate`)."""
    shape = tf.shape(x)
    resized = tf.image.resize(x, tf.stack([shape[1] * 2, shape[2] * 2]), method=method)
    return tf.cast(resized, x.dtype)


class ConvBase(keras.layers.Layer):
    """`convbase(i, o, k, s, p)`: conv with bias, LeakyReLU 0.2."""

    def __init__(self, filters, kernel_size, strides, padding, **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv2D(filters, kernel_size, strides, padding, use_bias=True, name="conv")

    def call(self, inputs):
        return leaky_relu(self.conv(inputs))

    def reference_variables(self):
        return reference_names.nest({"main.0": self.conv})


class ConvBlock(keras.layers.Layer):
    """`convblock(i, o, k, s, p)`: conv without bias, batch norm, LeakyReLU 0.2."""

    def __init__(self, filters, kernel_size, strides, padding, **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv2D(filters, kernel_size, strides, padding, use_bias=False, name="conv")
        self.norm = BatchNorm(name="norm")

    def call(self, inputs, training=None):
        return leaky_relu(conv_norm(self.conv, self.norm, inputs, training))

    def reference_variables(self):
        return reference_names.nest({"main.0": self.conv, "main.1": self.norm})


class VggBlock(keras.layers.Layer):
    """`vgg(i, o)`: conv 3x3/1/1 with bias, batch norm, LeakyReLU 0.2.

    Args:
        filters: Output channels.
        num_groups: Batch-norm groups in training mode (see `BatchNorm`).
    """

    def __init__(self, filters, num_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv2D(filters, 3, 1, 1, use_bias=True, name="conv")
        self.norm = BatchNorm(num_groups=num_groups, name="norm")

    def call(self, inputs, training=None):
        return leaky_relu(conv_norm(self.conv, self.norm, inputs, training))

    def reference_variables(self):
        return reference_names.nest({"main.0": self.conv, "main.1": self.norm})


class UpConv(keras.layers.Layer):
    """`upconv(i, o, k, s, p)`: two conv-BN-LeakyReLU (i -> 2o -> o), then x2 upsampling.

    Args:
        filters: Output channels `o` (the middle layer has `2 * o`).
        kernel_size, strides, padding: Of both convolutions.
        upsampling: `"bilinear"` (label-conditioned models) or `"nearest"`
            (the no-label variant).
    """

    def __init__(self, filters, kernel_size, strides, padding, upsampling="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.conv1 = Conv2D(2 * filters, kernel_size, strides, padding, use_bias=True, name="conv1")
        self.norm1 = BatchNorm(name="norm1")
        self.conv2 = Conv2D(filters, kernel_size, strides, padding, use_bias=True, name="conv2")
        self.norm2 = BatchNorm(name="norm2")
        self.upsampling = upsampling

    def call(self, inputs, training=None):
        x = leaky_relu(conv_norm(self.conv1, self.norm1, inputs, training))
        x = leaky_relu(conv_norm(self.conv2, self.norm2, x, training))
        return upsample2x(x, self.upsampling)

    def reference_variables(self):
        return reference_names.nest({
            "main.0": self.conv1, "main.1": self.norm1,
            "main.3": self.conv2, "main.4": self.norm2})


class Gate3D(keras.layers.Layer):
    """`gate3d(i, o)`: 3-D conv 3x3x3 over (time, height, width), 3-D BN, LeakyReLU 0.2.

    Input and output are `[B, T, H, W, C]`.
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv3D(filters, 3, padding=1, use_bias=True, name="conv")
        self.norm = BatchNorm(name="norm")

    def call(self, inputs, training=None):
        return leaky_relu(conv_norm(self.conv, self.norm, inputs, training))

    def reference_variables(self):
        return reference_names.nest({"conv": self.conv, "bn": self.norm})
