"""Output heads on the flow decoder: forward flow, backward flow and occlusion.

Each head [`flownext`, `flowprev`, `get_mask`] is `upconv(64, 16, 5, 1, 2)`
to full resolution, then a 5x5 convolution to two channels. The flows are in
the reference's normalized units (channel 0 = x); the occlusion head ends in a
sigmoid, channel 0 being the forward mask and channel 1 the backward mask.

In inference, heads on the same features run side by side (`run_heads`): one
convolution per layer with the heads' kernels concatenated (grouped after the
first), which is the same arithmetic in fewer, wider operations.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import fold_into_convolution
from seg2vid_tf.layers.blocks import UpConv, leaky_relu, upsample2x
from seg2vid_tf.layers.convolution import Conv2D, side_by_side


class OutputHead(keras.layers.Layer):
    """`[N, H/2, W/2, C]` -> `[N, H, W, 2]`.

    Args:
        config: The `Img2VidConfig`.
        activation: `None` for flows, `"sigmoid"` for the occlusion masks.
    """

    def __init__(self, config, activation=None, **kwargs):
        super().__init__(**kwargs)
        if activation not in (None, "sigmoid"):
            raise ValueError(f"activation must be None or 'sigmoid', got {activation!r}.")
        self.activation = activation
        self.upconv = UpConv(config.scaled(16), 5, 1, 2, upsampling=config.upsampling, name="upconv")
        self.conv = Conv2D(2, 5, 1, 2, use_bias=True, name="conv")

    def call(self, inputs, training=None):
        return self.activate(self.conv(self.upconv(inputs, training=training)))

    def activate(self, x):
        """The head's last step on its convolution's output."""
        return tf.sigmoid(x) if self.activation == "sigmoid" else x

    def reference_variables(self):
        return reference_names.nest({"main.0": self.upconv, "main.1": self.conv})


def run_heads(heads, features, training=None):
    """The outputs of `heads` on the same `features`, in a list.

    In inference, once every head is built, as one chain of side-by-side
    convolutions (`side_by_side`, batch norms folded in): the first with the
    heads' kernels concatenated, the others grouped (head `i` reads its own
    channel block). In training each head runs on its own: its batch norms
    take batch statistics and update their own running ones, and the filter
    gradient of a grouped convolution needs oneDNN on a CPU (TensorFlow's own
    kernel refuses it; the forward pass runs with or without oneDNN).

    Args:
        heads: `OutputHead` layers of one configuration.
        features: `[N, H/2, W/2, C]` flow-decoder features.
        training: Training mode.

    Returns:
        One `[N, H, W, 2]` tensor per head, in order.
    """
    if training or len(heads) < 2 or not all(head.built for head in heads):
        return [head(features, training=training) for head in heads]
    upconvs = [head.upconv for head in heads]

    def conv_norm(convs, norms, x):
        return leaky_relu(convs[0].convolve(
            x, *fold_into_convolution(norms, *side_by_side(convs))))

    x = conv_norm([u.conv1 for u in upconvs], [u.norm1 for u in upconvs], features)
    x = conv_norm([u.conv2 for u in upconvs], [u.norm2 for u in upconvs], x)
    x = upsample2x(x, upconvs[0].upsampling)
    convs = [head.conv for head in heads]
    outputs = tf.split(convs[0].convolve(x, *side_by_side(convs)), len(heads), axis=-1)
    return [head.activate(output) for head, output in zip(heads, outputs)]
