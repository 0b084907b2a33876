"""Flow decoder [`flow_decoder`]: per-frame codes to features at half resolution.

The predicted frames travel stacked **frame-major along the batch axis**
(`[T*B, ...]`, row `t*B + b`), as in the reference; the 3-D convolution blocks
regroup them as `[B, T, ...]` so that they mix the frames of each sample.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.blocks import ConvBlock, Gate3D, UpConv


def frames_to_time_axis(x, num_frames):
    """`[T*B, ...]` (frame-major) -> `[B, T, ...]`."""
    shape = tf.shape(x)
    grouped = tf.reshape(x, tf.concat([[num_frames, -1], shape[1:]], axis=0))
    perm = [1, 0] + list(range(2, len(x.shape) + 1))
    return tf.transpose(grouped, perm)


def time_axis_to_frames(x):
    """`[B, T, ...]` -> `[T*B, ...]` (frame-major)."""
    perm = [1, 0] + list(range(2, len(x.shape)))
    swapped = tf.transpose(x, perm)
    shape = tf.shape(swapped)
    return tf.reshape(swapped, tf.concat([[-1], shape[2:]], axis=0))


def repeat_frames(x, num_frames):
    """Repeats a per-sample map `[B, ...]` for every frame: `[T*B, ...]` frame-major."""
    return tf.tile(x, [num_frames] + [1] * (len(x.shape) - 1))


class FlowDecoder(keras.layers.Layer):
    """`(codes [T*B, h, w, C], e1, e2, e3)` -> `d4` `[T*B, H/2, W/2, 64]`.

    Args:
        config: The `Img2VidConfig`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        s = config.scaled
        self.num_frames = config.num_predicted_frames
        up = config.upsampling
        self.dconv1 = ConvBlock(s(256), 3, 1, 1, name="dconv1")
        self.dconv2 = UpConv(s(128), 3, 1, 1, upsampling=up, name="dconv2")
        self.dconv3 = UpConv(s(64), 3, 1, 1, upsampling=up, name="dconv3")
        self.gateconv1 = Gate3D(s(64), name="gateconv1")
        self.dconv4 = UpConv(s(32), 3, 1, 1, upsampling=up, name="dconv4")
        self.gateconv2 = Gate3D(s(32), name="gateconv2")

    def _gate(self, gate, x, training):
        x = frames_to_time_axis(x, self.num_frames)
        return time_axis_to_frames(gate(x, training=training))

    def call(self, codes, e1, e2, e3, training=None):
        t = self.num_frames
        d1 = self.dconv1(codes, training=training)
        d2 = tf.concat([self.dconv2(d1, training=training), repeat_frames(e3, t)], axis=-1)
        d3 = self._gate(self.gateconv1, self.dconv3(d2, training=training), training)
        d3 = tf.concat([d3, repeat_frames(e2, t)], axis=-1)
        d4 = self._gate(self.gateconv2, self.dconv4(d3, training=training), training)
        return tf.concat([d4, repeat_frames(e1, t)], axis=-1)

    def reference_variables(self):
        return reference_names.nest({
            "dconv1": self.dconv1, "dconv2": self.dconv2, "dconv3": self.dconv3,
            "dconv4": self.dconv4, "gateconv1": self.gateconv1, "gateconv2": self.gateconv2})
