"""Instance norm, reflection padding and the average-pool pyramid of pix2pixHD.

The small layers the pix2pixHD networks (`seg2vid_tf/models/pix2pixhd.py`) need
besides the convolutions of `convolution.py` and the batch norm of
`batch_norm.py`, each with PyTorch's exact semantics on channels-last tensors:

* `InstanceNorm`: `torch.nn.InstanceNorm2d` (per sample and channel, biased
  variance, epsilon 1e-5, the same in training and inference), optionally with
  affine parameters.
* `ReflectionPad2D`: `torch.nn.ReflectionPad2d` (the edge row is not repeated).
* `average_downsample`: `torch.nn.AvgPool2d(3, stride=2, padding=1,
  count_include_pad=False)`, which TensorFlow's `SAME` pooling does not equal
  on even sizes (TF pads only at the end there).
* `make_norm`: the norm layer of pix2pixHD's `--norm` option.
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.batch_norm import BatchNorm

NORM_TYPES = ("instance", "batch")


def _require_rank4(layer, inputs):
    if inputs.shape.rank != 4:
        raise ValueError(
            f"{layer.name}: expected a [batch, height, width, channels] tensor, got shape "
            f"{inputs.shape}.")


class InstanceNorm(keras.layers.Layer):
    """`torch.nn.InstanceNorm2d(channels, eps, affine)` on `[B, H, W, C]`.

    Every sample and channel is normalized with its own mean and biased
    variance over height and width, in training and inference alike (no
    running statistics, PyTorch's default). Statistics are computed in float32.

    Args:
        epsilon: Added to the variance before the square root (PyTorch 1e-5).
        affine: Whether to learn a per-channel scale (`weight`) and shift
            (`bias`) after normalizing; pix2pixHD uses none.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, epsilon=1e-5, affine=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.affine = affine

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: the channel axis must be known, got {input_shape}.")
        self.gamma = None
        self.beta = None
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, inputs):
        _require_rank4(self, inputs)
        x = tf.cast(inputs, tf.float32)
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        outputs = (x - mean) * tf.math.rsqrt(variance + self.epsilon)
        if self.affine:
            outputs = outputs * self.gamma + self.beta
        return tf.cast(outputs, inputs.dtype)

    def reference_variables(self):
        """PyTorch parameter names of this layer (none without `affine`)."""
        if not self.affine:
            return {}
        return {"weight": (self.gamma, reference_names.identity),
                "bias": (self.beta, reference_names.identity)}

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, affine=self.affine)
        return config


class ReflectionPad2D(keras.layers.Layer):
    """`torch.nn.ReflectionPad2d(padding)` on `[B, H, W, C]`.

    Args:
        padding: Rows and columns mirrored onto every side; must be smaller
            than the height and width of the input (as in PyTorch).
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, padding, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding must be a non-negative int, got {padding!r}.")
        self.padding = padding

    def call(self, inputs):
        _require_rank4(self, inputs)
        p = self.padding
        for axis, name in ((1, "height"), (2, "width")):
            size = inputs.shape[axis]
            if size is not None and size <= p:
                raise ValueError(
                    f"{self.name}: reflection padding {p} needs a {name} larger than {p}, got "
                    f"input shape {inputs.shape}.")
        if not p:
            return inputs
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        def size(n):
            return None if n is None else n + 2 * self.padding
        return (input_shape[0], size(input_shape[1]), size(input_shape[2]), input_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding)
        return config


def average_downsample(inputs):
    """3x3 average pooling, stride 2, zero padding 1, padded cells not counted.

    Equals `torch.nn.AvgPool2d(3, stride=2, padding=[1, 1],
    count_include_pad=False)`: an `n`-pixel side becomes `(n - 1) // 2 + 1`,
    every window is centred on an even input pixel and averages only the input
    pixels it covers.

    Args:
        inputs: `[B, H, W, C]` float tensor.

    Returns:
        `[B, (H - 1) // 2 + 1, (W - 1) // 2 + 1, C]`.
    """
    paddings = [[0, 0], [1, 1], [1, 1], [0, 0]]
    padded = tf.pad(inputs, paddings)
    sums = tf.nn.avg_pool2d(padded, ksize=3, strides=2, padding="VALID") * 9.0
    # Count of real pixels under each window: one channel of ones, pooled the same way.
    ones = tf.pad(tf.ones_like(inputs[:1, :, :, :1]), paddings)
    counts = tf.nn.avg_pool2d(ones, ksize=3, strides=2, padding="VALID") * 9.0
    return sums / tf.round(counts)


def make_norm(norm_type, name):
    """The norm layer of pix2pixHD's `--norm` option.

    Args:
        norm_type: `"instance"` (`InstanceNorm2d(affine=False)`, the default of
            pix2pixHD) or `"batch"` (`BatchNorm2d`, affine, running statistics,
            momentum 0.1).
        name: Layer name.

    Returns:
        A Keras layer with `reference_variables()`.

    Raises:
        ValueError: An unknown `norm_type`.
    """
    if norm_type == "instance":
        return InstanceNorm(affine=False, name=name)
    if norm_type == "batch":
        return BatchNorm(name=name)
    raise ValueError(f"norm must be one of {NORM_TYPES}, got {norm_type!r}.")
