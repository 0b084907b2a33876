"""Refine network [`refine_net`]: fills in what warping the start frame cannot.

A VGG-style U-Net: five pooled stages, a 4x4 unpadded convolution to a
1024-channel bottleneck (1x1 at 128x128, 1x5 at 128x256), a transposed
convolution back, and four upsampling stages with skip connections.

The reference calls it once per predicted frame, so in training mode its batch
statistics are per frame. Here all frames run as one frame-major batch
(`[T*B, ...]`) and every batch norm uses `num_groups=T`, which computes exactly
the same thing in one pass.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import BatchNorm
from seg2vid_tf.layers.blocks import VggBlock, conv_norm, leaky_relu, upsample2x
from seg2vid_tf.layers.convolution import Conv2D, Conv2DTranspose

# Output channels of the VGG blocks of each stage, as in the reference.
_ENCODER_STAGES = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
_DECODER_STAGES = ((512, 512, 512), (512, 512, 256), (256, 256, 128), (128, 64))


def _max_pool(x):
    return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")


class RefineNetwork(keras.layers.Layer):
    """`[T*B, H, W, C]` (frame-major) -> refined frames `[T*B, H, W, C]` in (0, 1).

    Args:
        config: The `Img2VidConfig`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        s = config.scaled
        groups = config.num_predicted_frames

        # Layers are attributes, not lists: TF checkpoints do not follow Keras' tracked lists.
        def stage(name, widths):
            names = []
            for i, width in enumerate(widths):
                setattr(self, f"{name}_{i}", VggBlock(s(width), num_groups=groups, name=f"{name}_{i}"))
                names.append(f"{name}_{i}")
            return tuple(names)

        self._encoder_names = tuple(stage(f"c{i + 1}", widths)
                                    for i, widths in enumerate(_ENCODER_STAGES))
        self.bottleneck_conv = Conv2D(s(1024), 4, 1, 0, use_bias=True, name="c6_conv")
        self.bottleneck_norm = BatchNorm(num_groups=groups, name="c6_norm")
        self.expand_conv = Conv2DTranspose(s(512), 4, 1, 0, use_bias=True, name="upc1_conv")
        self.expand_norm = BatchNorm(num_groups=groups, name="upc1_norm")
        self._decoder_names = tuple(stage(f"upc{i + 2}", widths)
                                    for i, widths in enumerate(_DECODER_STAGES))
        self.final_block = VggBlock(s(64), num_groups=groups, name="upc6_0")
        self.final_conv = Conv2DTranspose(config.channels, 3, 1, 1, use_bias=True, name="upc6_conv")

    @property
    def encoder_stages(self):
        """The VGG blocks of the five encoder stages (c1..c5), a list of lists."""
        return [[getattr(self, name) for name in names] for names in self._encoder_names]

    @property
    def decoder_stages(self):
        """The VGG blocks of the decoder stages upc2..upc5, a list of lists."""
        return [[getattr(self, name) for name in names] for names in self._decoder_names]

    @staticmethod
    def _run(blocks, x, training):
        for block in blocks:
            x = block(x, training=training)
        return x

    def call(self, inputs, training=None):
        skips = []
        x = inputs
        for i, blocks in enumerate(self.encoder_stages):
            x = self._run(blocks, x if i == 0 else _max_pool(x), training)
            skips.append(x)
        x = tf.tanh(conv_norm(self.bottleneck_conv, self.bottleneck_norm, _max_pool(x), training))
        x = leaky_relu(self.expand_norm(self.expand_conv(x), training=training))
        for blocks, skip in zip(self.decoder_stages, reversed(skips[1:])):
            x = self._run(blocks, tf.concat([upsample2x(x), skip], axis=-1), training)
        x = self.final_block(tf.concat([upsample2x(x), skips[0]], axis=-1), training=training)
        return tf.sigmoid(self.final_conv(x))

    def reference_variables(self):
        children = {}
        for i, blocks in enumerate(self.encoder_stages):
            for j, block in enumerate(blocks):
                children[f"image_encoder.c{i + 1}.{j}"] = block
        children["image_encoder.c6.0"] = self.bottleneck_conv
        children["image_encoder.c6.1"] = self.bottleneck_norm
        children["image_decoder.upc1.0"] = self.expand_conv
        children["image_decoder.upc1.1"] = self.expand_norm
        for i, blocks in enumerate(self.decoder_stages):
            for j, block in enumerate(blocks):
                children[f"image_decoder.upc{i + 2}.{j}"] = block
        children["image_decoder.upc6.0"] = self.final_block
        children["image_decoder.upc6.1"] = self.final_conv
        return reference_names.nest(children)
