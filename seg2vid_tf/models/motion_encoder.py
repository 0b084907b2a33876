"""Motion encoder: the posterior q(z | clip, label map) of the conditional VAE.

Reads the start frame, the differences of the later frames to it and a one-hot
label volume (for the two-path model: the background classes 0..10 or the
foreground classes 11..19), downsamples 16x to a `64 x H/16 x W/16` map, cuts it
(in PyTorch's channels-first order) into `R` rows of 1024 features and maps
each row to the mean and log-variance of a diagonal Gaussian.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import BatchNorm
from seg2vid_tf.layers.blocks import leaky_relu
from seg2vid_tf.layers.convolution import Conv2D, Linear
from seg2vid_tf.models import config as config_lib


def motion_input(video):
    """`concat(F0, F1 - F0, ..., FT - F0)` along channels, frame-major.

    Args:
        video: `[B, T+1, H, W, C]`.

    Returns:
        `[B, H, W, (T+1) * C]`.
    """
    first = video[:, :1]
    stacked = tf.concat([first, video[:, 1:] - first], axis=1)  # [B, T+1, H, W, C]
    stacked = tf.transpose(stacked, (0, 2, 3, 1, 4))  # [B, H, W, T+1, C]
    shape = tf.shape(stacked)
    return tf.reshape(stacked, tf.concat([shape[:3], [shape[3] * shape[4]]], axis=0))


def features_to_rows(features):
    """`[B, h, w, 64]` -> `[B, R, 1024]`, flattening channels-first like the reference."""
    batch = tf.shape(features)[0]
    channels_first = tf.transpose(features, (0, 3, 1, 2))
    return tf.reshape(channels_first, tf.stack([batch, -1, config_lib.LATENT_ROW]))


def rows_to_features(rows, height, width):
    """Inverse of `features_to_rows`: `[B, R, 1024]` -> `[B, height, width, C]`."""
    batch = tf.shape(rows)[0]
    channels_first = tf.reshape(rows, tf.stack([batch, -1, height, width]))
    return tf.transpose(channels_first, (0, 2, 3, 1))


class MotionEncoder(keras.layers.Layer):
    """One motion encoder [`motion_net_bg`, `motion_net_fg` or `motion_net`].

    Args:
        latent_size: Features per latent row produced by this encoder (512 for
            each half of the two-path model, 1024 otherwise).
        config: The `Img2VidConfig` (for `width_multiplier`).
    """

    def __init__(self, latent_size, config, **kwargs):
        super().__init__(**kwargs)
        self.latent_size = latent_size
        s = config.scaled
        self.conv0 = Conv2D(s(32), 4, 2, 1, use_bias=False, name="conv0")
        self.conv1 = Conv2D(s(64), 4, 2, 1, use_bias=False, name="conv1")
        self.norm1 = BatchNorm(name="norm1")
        self.conv2 = Conv2D(s(64), 3, 1, 1, use_bias=False, name="conv2")
        self.norm2 = BatchNorm(name="norm2")
        self.conv3 = Conv2D(s(128), 4, 2, 1, use_bias=False, name="conv3")
        self.norm3 = BatchNorm(name="norm3")
        self.conv4 = Conv2D(s(128), 3, 1, 1, use_bias=False, name="conv4")
        self.norm4 = BatchNorm(name="norm4")
        self.conv5 = Conv2D(config_lib.MOTION_CHANNELS, 4, 2, 1, use_bias=False, name="conv5")
        self.fc_mu = Linear(latent_size, name="fc_mu")
        self.fc_logvar = Linear(latent_size, name="fc_logvar")

    def call(self, inputs, training=None):
        """Encodes `[B, H, W, C_in]` into `(mu, logvar)`, each `[B, R, latent_size]`."""
        x = leaky_relu(self.conv0(inputs))
        for conv, norm in ((self.conv1, self.norm1), (self.conv2, self.norm2),
                           (self.conv3, self.norm3), (self.conv4, self.norm4)):
            x = leaky_relu(norm(conv(x), training=training))
        rows = features_to_rows(self.conv5(x))
        return self.fc_mu(rows), self.fc_logvar(rows)

    def reference_variables(self):
        return reference_names.nest({
            "main.0": self.conv0, "main.2": self.conv1, "main.3": self.norm1,
            "main.5": self.conv2, "main.6": self.norm2, "main.8": self.conv3,
            "main.9": self.norm3, "main.11": self.conv4, "main.12": self.norm4,
            "main.14": self.conv5, "fc1": self.fc_mu, "fc2": self.fc_logvar})
