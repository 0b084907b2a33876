"""Convolutions with PyTorch's explicit padding rules, channels-last.

TensorFlow's `SAME` padding is not PyTorch's `padding=p`: for odd kernels with
stride 2, TF puts the extra row at the end while PyTorch pads symmetrically,
and a PyTorch transposed convolution crops `p` from each side of the full
result (keeping `output_padding` more at the end). These layers pad (or crop)
exactly as PyTorch does, so ported weights give identical results at any size.

Weights are initialized like PyTorch's defaults (uniform in
`+-1/sqrt(fan_in)`), so training from scratch starts where the reference does.
"""

import math

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names


def _torch_uniform(fan_in):
    limit = 1.0 / math.sqrt(max(fan_in, 1))
    return keras.initializers.RandomUniform(-limit, limit)


# A stride-1 inference convolution to at most `ROWS_MAX_FILTERS` channels, with a kernel of
# at least `ROWS_MIN_KERNEL` and `ROWS_MIN_INPUT_CHANNELS` input channels or more, runs as
# `rows_convolution`: oneDNN computes such narrow outputs at a fifth of its peak
# (docs/performance.md, "Narrow convolutions").
ROWS_MAX_FILTERS = 4
ROWS_MIN_KERNEL = 5
ROWS_MIN_INPUT_CHANNELS = 16


def rows_convolution(inputs, kernel):
    """A `VALID`, stride-1 `k x k` convolution as one `1 x k` convolution and `k` row sums.

    The `1 x k` convolution computes, for every kernel row `dy` at once, each
    input row's contribution (`k * filters` output channels, a shape oneDNN
    runs near its peak); output row `y` is then the sum over `dy` of those
    contributions of input row `y + dy`. Every product of `tf.nn.conv2d` is
    among them, added in another order (float rounding apart); the `k - 1`
    rows per kernel row that no output uses cost `H / (H - k + 1)` of the
    work, and the intermediate tensor has `k * filters` channels.

    Args:
        inputs: `[N, H, W, C]`, at least `k` rows and columns.
        kernel: `[k, k, C, F]`.

    Returns:
        `[N, H - k + 1, W - k + 1, F]`.

    Raises:
        ValueError: A static height or width under `k`.
    """
    size, filters = kernel.shape[0], kernel.shape[-1]
    for axis, name in ((1, "height"), (2, "width")):
        if inputs.shape[axis] is not None and inputs.shape[axis] < size:
            raise ValueError(f"A {size}x{size} convolution needs a {name} of at least {size}, "
                             f"got input shape {inputs.shape}.")
    # [dy, dx, c, f] -> [1, dx, c, (dy, f)]
    row_kernel = tf.reshape(tf.transpose(kernel, [1, 2, 0, 3]),
                            [1, size, kernel.shape[2], size * filters])
    contributions = tf.nn.conv2d(inputs, row_kernel, strides=1, padding="VALID")
    if inputs.dtype in (tf.bfloat16, tf.float16):
        # The row sums in float32, as a plain convolution accumulates.
        contributions = tf.cast(contributions, tf.float32)
    shape = tf.shape(contributions)
    contributions = tf.reshape(contributions, tf.concat([shape[:3], [size, filters]], 0))
    height = shape[1] - size + 1
    total = tf.add_n([contributions[:, dy:dy + height, :, dy, :] for dy in range(size)])
    return tf.cast(total, inputs.dtype)


def _bias_add(outputs, bias):
    """`outputs + bias` per channel; `bias` None: `outputs`."""
    if bias is None:
        return outputs
    return tf.nn.bias_add(outputs, tf.cast(bias, outputs.dtype))


class _ReferenceWeights(keras.layers.Layer):
    """Shared kernel/bias handling of the layers below."""

    kernel_to_keras = None

    def _add_kernel_and_bias(self, kernel_shape, fan_in, bias_size):
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer=_torch_uniform(fan_in))
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(bias_size,), initializer=_torch_uniform(fan_in))

    def _add_bias(self, outputs):
        return _bias_add(outputs, self.bias)

    def reference_variables(self):
        """PyTorch parameter names of this layer, see `reference_names`."""
        variables = {"weight": (self.kernel, type(self).kernel_to_keras)}
        if self.use_bias:
            variables["bias"] = (self.bias, reference_names.identity)
        return variables

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size,
                      strides=self.strides, padding=self.padding, use_bias=self.use_bias)
        return config


class Conv2D(_ReferenceWeights):
    """`torch.nn.Conv2d(in, filters, kernel_size, strides, padding, bias=use_bias)`.

    Args:
        filters: Output channels.
        kernel_size: Square kernel size.
        strides: Stride in both spatial dimensions.
        padding: Zero padding added on every side, PyTorch's `padding`.
        use_bias: Whether to add a bias.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    kernel_to_keras = staticmethod(reference_names.conv2d_kernel)

    def __init__(self, filters, kernel_size, strides=1, padding=0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        k = self.kernel_size
        self._add_kernel_and_bias((k, k, channels, self.filters), channels * k * k, self.filters)

    def call(self, inputs, training=None):
        # Only where inference is explicit: a call without a mode (None) may be under a tape.
        return self.convolve(inputs, self.kernel, self.bias, by_rows=training is False)

    def convolve(self, inputs, kernel, bias, by_rows=False):
        """This layer's convolution (padding, stride) with the given `kernel` and `bias`.

        Args:
            inputs: `[N, H, W, C]`.
            kernel: `[k, k, C, filters]`.
            bias: `[filters]`, or None for none.
            by_rows: Run as `rows_convolution` where the shape qualifies (`ROWS_*`);
                for inference, since the row sums' gradient is slower.

        Returns:
            `[N, H', W', filters]`.
        """
        p = self.padding
        if p:
            inputs = tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]])
        kernel = tf.cast(kernel, inputs.dtype)
        if by_rows and self._runs_by_rows(kernel):
            outputs = rows_convolution(inputs, kernel)
        else:
            outputs = tf.nn.conv2d(inputs, kernel, strides=self.strides, padding="VALID")
        return _bias_add(outputs, bias)

    def _runs_by_rows(self, kernel):
        return (self.strides == 1 and self.kernel_size >= ROWS_MIN_KERNEL
                and kernel.shape[-1] <= ROWS_MAX_FILTERS
                and kernel.shape[-2] >= ROWS_MIN_INPUT_CHANNELS)


def side_by_side(layers):
    """The kernel and bias of several convolutions as one, output channels concatenated.

    `layers[0].convolve(x, *side_by_side(layers))` is what the layers give one by
    one on `x`, concatenated along channels (up to float rounding). One
    convolution with a few more output channels makes better use of oneDNN than
    several with a few each (docs/performance.md).

    Args:
        layers: Built convolution layers of one class, kernel size, stride,
            padding and input width, all with bias or all without.

    Returns:
        (kernel, bias or None).

    Raises:
        ValueError: The layers differ in any of those, or are not built.
    """
    first = layers[0]

    def geometry(layer):
        return (type(layer), layer.kernel_size, layer.strides, layer.padding, layer.use_bias,
                tuple(layer.kernel.shape[:-1]))

    for layer in layers:
        if not layer.built or geometry(layer) != geometry(first):
            raise ValueError(f"side_by_side needs built convolutions of one geometry; "
                             f"{layer.name} differs from {first.name} or is not built.")
    kernel = tf.concat([tf.convert_to_tensor(layer.kernel) for layer in layers], axis=-1)
    if not first.use_bias:
        return kernel, None
    return kernel, tf.concat([tf.convert_to_tensor(layer.bias) for layer in layers], axis=0)


class Conv2DTranspose(_ReferenceWeights):
    """`torch.nn.ConvTranspose2d(in, filters, k, strides, padding, output_padding)`.

    The output size is `(n - 1) * strides - 2 * padding + kernel_size +
    output_padding`.
    """

    kernel_to_keras = staticmethod(reference_names.conv2d_transpose_kernel)

    def __init__(self, filters, kernel_size, strides=1, padding=0, output_padding=0,
                 use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if output_padding > padding:
            raise ValueError(
                f"output_padding ({output_padding}) larger than padding ({padding}) is not supported.")
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.output_padding = output_padding
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        k = self.kernel_size
        # PyTorch computes the transposed kernel's fan-in from its dim 1 (= filters).
        self._add_kernel_and_bias((k, k, self.filters, channels), self.filters * k * k, self.filters)

    def call(self, inputs):
        k, s, p = self.kernel_size, self.strides, self.padding
        shape = tf.shape(inputs)
        full_height = (shape[1] - 1) * s + k
        full_width = (shape[2] - 1) * s + k
        full = tf.nn.conv2d_transpose(
            inputs, tf.cast(self.kernel, inputs.dtype),
            output_shape=tf.stack([shape[0], full_height, full_width, self.filters]),
            strides=s, padding="VALID")
        end = p - self.output_padding
        outputs = full[:, p:full_height - end, p:full_width - end, :]
        return self._add_bias(outputs)

    def compute_output_shape(self, input_shape):
        def size(n):
            if n is None:
                return None
            return (n - 1) * self.strides - 2 * self.padding + self.kernel_size + self.output_padding
        return (input_shape[0], size(input_shape[1]), size(input_shape[2]), self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(output_padding=self.output_padding)
        return config


class Conv3D(_ReferenceWeights):
    """`torch.nn.Conv3d` with a cubic kernel, stride 1 and zero padding on [B, T, H, W, C]."""

    kernel_to_keras = staticmethod(reference_names.conv3d_kernel)

    def __init__(self, filters, kernel_size, padding=0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = 1
        self.padding = padding
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        k = self.kernel_size
        self._add_kernel_and_bias(
            (k, k, k, channels, self.filters), channels * k ** 3, self.filters)

    def call(self, inputs):
        return self.convolve(inputs, self.kernel, self.bias)

    def convolve(self, inputs, kernel, bias):
        """This layer's convolution with the given `kernel` and `bias` (None: none)."""
        # `SAME` where it pads exactly `p` on every side (stride 1, odd kernel), not a
        # `Pad` op: Grappler's remapper fuses a `Pad` into the 3-D convolution after it
        # and then fails on the training graph, whose filter gradient still reads the
        # padded input, and a failed remapper leaves all its fusions out of the step
        # (docs/performance.md). 2-D convolutions keep theirs: those do not trip the
        # remapper, and `SAME` rounds differently, enough to take the no-label variant's
        # training-mode frames past their parity tolerance.
        p = self.padding
        padding = "SAME" if p and 2 * p == self.kernel_size - 1 else "VALID"
        if p and padding == "VALID":
            inputs = tf.pad(inputs, [[0, 0], [p, p], [p, p], [p, p], [0, 0]])
        outputs = tf.nn.conv3d(inputs, tf.cast(kernel, inputs.dtype),
                               strides=[1, 1, 1, 1, 1], padding=padding)
        return _bias_add(outputs, bias)


class Linear(_ReferenceWeights):
    """`torch.nn.Linear(in, units)` on the last axis."""

    kernel_to_keras = staticmethod(reference_names.linear_kernel)

    def __init__(self, units, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.use_bias = use_bias

    def build(self, input_shape):
        features = input_shape[-1]
        self._add_kernel_and_bias((features, self.units), features, self.units)

    def call(self, inputs):
        outputs = tf.linalg.matmul(inputs, tf.cast(self.kernel, inputs.dtype))
        return self._add_bias(outputs)

    def get_config(self):
        config = keras.layers.Layer.get_config(self)
        config.update(units=self.units, use_bias=self.use_bias)
        return config
