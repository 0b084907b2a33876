"""Output heads on the flow decoder: forward flow, backward flow and occlusion.

Each head [`flownext`, `flowprev`, `get_mask`] is `upconv(64, 16, 5, 1, 2)`
to full resolution, then a 5x5 convolution to two channels. The flows are in
the reference's normalized units (channel 0 = x); the occlusion head ends in a
sigmoid, channel 0 being the forward mask and channel 1 the backward mask.

In inference, heads on the same features share their first convolution
(`run_heads`): one convolution with the heads' kernels concatenated, the same
arithmetic in one wider operation.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import fold_into_convolution
from seg2vid_tf.layers.blocks import UpConv, conv_norm, leaky_relu, upsample2x
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

    In inference, once every head is built, the heads' first convolutions run
    as one (`side_by_side`: their kernels concatenated, batch norms folded in),
    and each head goes on from its own channels. Not grouped convolutions for
    the layers after it: TensorFlow's own CPU kernel (oneDNN off, as on some
    serving builds) refuses a grouped convolution fused with its bias in a
    graph, and a grouped convolution's filter gradient. In training each head
    runs on its own (its batch norms take batch statistics and update their own
    running ones).

    Args:
        heads: `OutputHead` layers of one configuration.
        features: `[N, H/2, W/2, C]` flow-decoder features.
        training: Training mode.

    Returns:
        One `[N, H, W, 2]` tensor per head, in order.
    """
    if training or len(heads) < 2 or not all(head.built for head in heads):
        return [head(features, training=training) for head in heads]
    first_convs = [head.upconv.conv1 for head in heads]
    kernel, bias = fold_into_convolution([head.upconv.norm1 for head in heads],
                                         *side_by_side(first_convs))
    shared = leaky_relu(first_convs[0].convolve(features, kernel, bias))
    outputs = []
    for head, own in zip(heads, tf.split(shared, [conv.filters for conv in first_convs], -1)):
        upconv = head.upconv
        x = leaky_relu(conv_norm(upconv.conv2, upconv.norm2, own, training=False))
        outputs.append(head.activate(head.conv(upsample2x(x, upconv.upsampling))))
    return outputs
