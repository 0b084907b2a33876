"""Image encoder [`encoder`]: the start frame (plus the one-hot label map) to a code.

Four stride-2 convolutions; the three intermediate maps are the skip
connections of the flow decoder.
"""

import keras

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.blocks import ConvBase, ConvBlock


class ImageEncoder(keras.layers.Layer):
    """`[B, H, W, C_in]` -> `(e1 [H/2], e2 [H/4], e3 [H/8], code [H/16])`.

    Args:
        config: The `Img2VidConfig` (for `width_multiplier`).
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        s = config.scaled
        self.econv1 = ConvBase(s(32), 4, 2, 1, name="econv1")
        self.econv2 = ConvBlock(s(64), 4, 2, 1, name="econv2")
        self.econv3 = ConvBlock(s(128), 4, 2, 1, name="econv3")
        self.econv4 = ConvBlock(s(256), 4, 2, 1, name="econv4")

    def call(self, inputs, training=None):
        e1 = self.econv1(inputs)
        e2 = self.econv2(e1, training=training)
        e3 = self.econv3(e2, training=training)
        code = self.econv4(e3, training=training)
        return e1, e2, e3, code

    def reference_variables(self):
        return reference_names.nest({
            "econv1": self.econv1, "econv2": self.econv2,
            "econv3": self.econv3, "econv4": self.econv4})
