"""Output heads on the flow decoder: forward flow, backward flow and occlusion.

Each head [`flownext`, `flowprev`, `get_mask`] is `upconv(64, 16, 5, 1, 2)`
to full resolution, then a 5x5 convolution to two channels. The flows are in
the reference's normalized units (channel 0 = x); the occlusion head ends in a
sigmoid, channel 0 being the forward mask and channel 1 the backward mask.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.blocks import UpConv
from seg2vid_tf.layers.convolution import Conv2D


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
        x = self.conv(self.upconv(inputs, training=training))
        return tf.sigmoid(x) if self.activation == "sigmoid" else x

    def reference_variables(self):
        return reference_names.nest({"main.0": self.upconv, "main.1": self.conv})
