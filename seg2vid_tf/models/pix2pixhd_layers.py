"""The building blocks of pix2pixHD's networks, named like the PyTorch modules they port.

`IndexedSequence` is `nn.Sequential` (modules named by index), `ResnetBlock`
the generator's residual block; `random_reference_state_dict` draws a
state_dict in a network's own PyTorch names and layouts (tests, round trips).
"""

import keras
import numpy as np

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.convolution import Conv2D, Conv2DTranspose
from seg2vid_tf.layers.normalization import ReflectionPad2D, make_norm


class Composite(keras.layers.Layer):
    """A layer made of sublayers that create their variables on the first call.

    Defining `build` keeps Keras from tracing `call` symbolically to build the
    sublayers (several times slower for these deep networks than the one
    eager pass of `build_for_size`).
    """

    def build(self, input_shape):
        del input_shape
        self.built = True


class IndexedSequence(Composite):
    """A port of `nn.Sequential`: layers applied in order, named by their index.

    Parameter-free modules (padding, activations) are layers too, so indices
    match the reference. Layers are stored as attributes (`module_<index>`),
    not in a list, because TensorFlow checkpoints do not follow Keras' tracked
    lists.

    Args:
        modules: Keras layers in PyTorch order; position = PyTorch index.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, modules, **kwargs):
        super().__init__(**kwargs)
        names = []
        for index, module in enumerate(modules):
            attribute = f"module_{index}"
            setattr(self, attribute, module)
            names.append((index, attribute))
        self._module_names = tuple(names)

    def indexed_modules(self):
        """`(index, layer)` pairs in order."""
        return [(index, getattr(self, attribute)) for index, attribute in self._module_names]

    def call(self, inputs, training=None):
        x = inputs
        for _, module in self.indexed_modules():
            x = module(x, training=training)
        return x

    def reference_variables(self):
        return reference_names.nest({
            str(index): module for index, module in self.indexed_modules()
            if hasattr(module, "reference_variables")})


class ResnetBlock(Composite):
    """pix2pixHD's `ResnetBlock` [`conv_block`]: `x + block(x)` with `block` =
    reflection pad 1, conv 3x3, norm, ReLU, reflection pad 1, conv 3x3, norm.

    Args:
        channels: Channels of the input and output.
        norm: `"instance"` or `"batch"`.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, channels, norm, **kwargs):
        super().__init__(**kwargs)
        self.conv_block = IndexedSequence([
            ReflectionPad2D(1, name="pad_0"),
            Conv2D(channels, 3, 1, 0, name="conv_0"),
            make_norm(norm, "norm_0"),
            keras.layers.ReLU(name="relu"),
            ReflectionPad2D(1, name="pad_1"),
            Conv2D(channels, 3, 1, 0, name="conv_1"),
            make_norm(norm, "norm_1"),
        ], name="conv_block")

    def call(self, inputs, training=None):
        return inputs + self.conv_block(inputs, training=training)

    def reference_variables(self):
        return reference_names.nest({"conv_block": self.conv_block})


def conv_norm_relu(filters, kernel_size, strides, padding, norm, prefix):
    return [Conv2D(filters, kernel_size, strides, padding, name=f"{prefix}_conv"),
            make_norm(norm, f"{prefix}_norm"), keras.layers.ReLU(name=f"{prefix}_relu")]


def upsample_norm_relu(filters, norm, prefix):
    return [Conv2DTranspose(filters, 3, 2, 1, output_padding=1, name=f"{prefix}_conv"),
            make_norm(norm, f"{prefix}_norm"), keras.layers.ReLU(name=f"{prefix}_relu")]


def output_head(output_channels):
    return [ReflectionPad2D(3, name="out_pad"), Conv2D(output_channels, 7, 1, 0, name="out_conv"),
            keras.layers.Activation("tanh", name="tanh")]


def random_reference_state_dict(network, seed=0):
    """A state_dict with random values in the network's own PyTorch names and layouts.

    For tests and round trips: the shapes are those a PyTorch checkpoint of
    the same architecture would have (the inverse of each `to_keras` layout).

    Args:
        network: A built network with `reference_variables()`.
        seed: NumPy seed.

    Returns:
        dict from PyTorch name to float32 array (int64 zeros for `num_batches_tracked`).
    """
    rng = np.random.default_rng(seed)
    state_dict = {}
    for name, (variable, to_keras) in network.reference_variables().items():
        if variable is None:
            state_dict[name] = np.zeros((), np.int64)
            continue
        shape = tuple(variable.shape)
        if len(shape) == 4:
            # Keras [kh, kw, in, out] (transposed conv: [kh, kw, out, in]) is PyTorch's
            # [out, in, kh, kw] (transposed: [in, out, kh, kw]) with the axes reversed pairwise.
            shape = (shape[3], shape[2], shape[0], shape[1])
        value = rng.normal(0.0, 0.1, shape).astype(np.float32)
        if name.endswith("running_var"):
            value = np.abs(value) + 0.5
        state_dict[name] = value
    return state_dict
