"""pix2pixHD, stage 1 of seg2vid: label map -> first frame (SPEC.md, "pix2pixHD").

Ports of pix2pixHD's `GlobalGenerator`, `LocalEnhancer` (coarse-to-fine
generator) and `MultiscaleDiscriminator` (PatchGAN at several scales), on
channels-last tensors, with the exact PyTorch semantics: reflection padding
around the 7x7 and residual convolutions, PyTorch padding of the stride-2
convolutions and transposed convolutions, 4x4 discriminator kernels with
padding 2, instance norm without affine parameters (or batch norm), and 3x3
average pooling with stride 2 that does not count padded cells.

Every network lists its variables under the PyTorch state_dict names of the
original (`reference_variables()`; `nn.Sequential` indices, so padding and
activation layers take indices too), which `seg2vid_tf.conversion.pix2pixhd`
uses to load released checkpoints. The architecture is data (`Pix2PixHDConfig`,
`DiscriminatorConfig`), so a converted network can be saved and rebuilt.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.convolution import Conv2D, Conv2DTranspose
from seg2vid_tf.layers.normalization import (
    NORM_TYPES, ReflectionPad2D, average_downsample, make_norm)

LEAKY_SLOPE = 0.2  # Discriminator LeakyReLU slope of the reference.
MAX_DISCRIMINATOR_FILTERS = 512  # PatchGAN widths double up to this cap.


def _check_positive_int(owner, name, value, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}.{name} must be an int >= {minimum}, got {value!r}.")


def _from_dict(cls, values):
    known = {field.name for field in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(
            f"Unknown {cls.__name__} fields {sorted(unknown)}; known: {sorted(known)}.")
    return cls(**values)


# --------------------------------------------------------------------------- configs
@dataclasses.dataclass(frozen=True)
class Pix2PixHDConfig:
    """Architecture of a pix2pixHD generator (`--netG global|local`).

    Attributes:
        input_channels: Channels the generator reads: the one-hot label
            classes (`--label_nc`) plus one instance-edge channel unless
            `--no_instance` (see `generator_input`).
        output_channels: Image channels produced (`--output_nc`).
        ngf: Filters of the finest convolution (`--ngf`). With local
            enhancers the global branch has `ngf * 2**n_local_enhancers`.
        n_downsampling: Stride-2 convolutions of the global generator
            (`--n_downsample_global`).
        n_blocks: Residual blocks of the global generator (`--n_blocks_global`).
        n_local_enhancers: Local enhancers around the global generator
            (`--n_local_enhancers`); 0 is a plain `GlobalGenerator`
            (`--netG global`).
        n_blocks_local: Residual blocks of each local enhancer (`--n_blocks_local`).
        norm: `"instance"` (no affine parameters) or `"batch"` (`--norm`).
    """

    input_channels: int = 36
    output_channels: int = 3
    ngf: int = 64
    n_downsampling: int = 4
    n_blocks: int = 9
    n_local_enhancers: int = 0
    n_blocks_local: int = 3
    norm: str = "instance"

    def __post_init__(self):
        owner = type(self).__name__
        for name in ("input_channels", "output_channels", "ngf"):
            _check_positive_int(owner, name, getattr(self, name))
        for name in ("n_downsampling", "n_blocks", "n_local_enhancers", "n_blocks_local"):
            _check_positive_int(owner, name, getattr(self, name), minimum=0)
        if self.norm not in NORM_TYPES:
            raise ValueError(f"{owner}.norm must be one of {NORM_TYPES}, got {self.norm!r}.")

    @property
    def global_ngf(self):
        """Filters of the global generator's first convolution."""
        return self.ngf * 2 ** self.n_local_enhancers

    @property
    def size_multiple(self):
        """Height and width must be multiples of this (every stride-2 step halves exactly)."""
        return 2 ** (self.n_downsampling + self.n_local_enhancers)

    @property
    def minimum_size(self):
        """Smallest valid side: the reflection paddings need at least 2 pixels at
        the bottleneck and 4 at the global generator's input."""
        return max(2 * self.size_multiple, 4 * 2 ** self.n_local_enhancers)

    def check_size(self, height, width):
        """Raises ValueError unless the generator runs at `height` x `width`."""
        for name, value in (("height", height), ("width", width)):
            if value is None:
                continue
            if value % self.size_multiple or value < self.minimum_size:
                raise ValueError(
                    f"Generator input {name} {value} is not supported: height and width must be "
                    f"multiples of {self.size_multiple} (2**(n_downsampling + n_local_enhancers)) "
                    f"and at least {self.minimum_size}.")

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return _from_dict(cls, values)


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    """Architecture of pix2pixHD's `MultiscaleDiscriminator`.

    Attributes:
        input_channels: Channels of the discriminator input, the generator
            input concatenated with the (real or generated) image.
        ndf: Filters of the first convolution (`--ndf`).
        n_layers: Stride-2 convolutions of each PatchGAN plus one (`--n_layers_D`).
        num_d: Scales (`--num_D`).
        norm: `"instance"` or `"batch"` (`--norm`).
        use_sigmoid: Sigmoid after the last convolution (`--no_lsgan`). Like
            the reference, it is only applied without intermediate features:
            the reference copies `n_layers + 2` groups per scale and drops it.
        intermediate_features: Return every group's output (`not
            --no_ganFeat_loss`, pix2pixHD's default) rather than only the last.
    """

    input_channels: int = 39
    ndf: int = 64
    n_layers: int = 3
    num_d: int = 2
    norm: str = "instance"
    use_sigmoid: bool = False
    intermediate_features: bool = True

    def __post_init__(self):
        owner = type(self).__name__
        for name in ("input_channels", "ndf", "n_layers", "num_d"):
            _check_positive_int(owner, name, getattr(self, name))
        if self.norm not in NORM_TYPES:
            raise ValueError(f"{owner}.norm must be one of {NORM_TYPES}, got {self.norm!r}.")
        for name in ("use_sigmoid", "intermediate_features"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{owner}.{name} must be a bool, got {getattr(self, name)!r}.")

    @property
    def num_groups(self):
        """Groups (intermediate outputs) of each scale: `n_layers + 2`."""
        return self.n_layers + 2

    def filters(self, group):
        """Output channels of `group` (0 .. n_layers + 1)."""
        if group == self.n_layers + 1:
            return 1
        return min(self.ndf * 2 ** group, MAX_DISCRIMINATOR_FILTERS)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return _from_dict(cls, values)


# --------------------------------------------------------------------------- inputs
def generator_input(label_map, num_labels, edge_map=None):
    """The generator's input: one-hot label classes, then the instance edges.

    Args:
        label_map: `[B, H, W]` integer class ids in `0 .. num_labels - 1`.
        num_labels: Classes of the one-hot encoding (`--label_nc`, 35 for
            Cityscapes label ids).
        edge_map: Optional `[B, H, W]` or `[B, H, W, 1]` instance-boundary map
            (see `instance_edges`); appended as the last channel.

    Returns:
        float32 `[B, H, W, num_labels (+ 1)]`.

    Raises:
        ValueError: Wrong ranks or mismatching sizes.
    """
    label_map = tf.convert_to_tensor(label_map)
    if label_map.shape.rank != 3:
        raise ValueError(f"label_map must be [batch, height, width], got shape {label_map.shape}.")
    one_hot = tf.one_hot(tf.cast(label_map, tf.int32), num_labels, dtype=tf.float32)
    if edge_map is None:
        return one_hot
    edge_map = tf.cast(tf.convert_to_tensor(edge_map), tf.float32)
    if edge_map.shape.rank == 3:
        edge_map = edge_map[..., None]
    if edge_map.shape.rank != 4 or edge_map.shape[-1] != 1:
        raise ValueError(
            f"edge_map must be [batch, height, width] or [batch, height, width, 1], got shape "
            f"{edge_map.shape}.")
    if not label_map.shape[:3].is_compatible_with(edge_map.shape[:3]):
        raise ValueError(
            f"edge_map shape {edge_map.shape} does not match label_map shape {label_map.shape}.")
    return tf.concat([one_hot, edge_map], axis=-1)


def instance_edges(instance_map):
    """pix2pixHD's `get_edges`: 1 where a pixel's instance id differs from a
    horizontal or vertical neighbour's (both pixels of such a pair), else 0.

    Args:
        instance_map: `[B, H, W]` integer instance ids.

    Returns:
        float32 `[B, H, W]`.
    """
    ids = tf.convert_to_tensor(instance_map)
    if ids.shape.rank != 3:
        raise ValueError(f"instance_map must be [batch, height, width], got shape {ids.shape}.")
    vertical = tf.not_equal(ids[:, 1:, :], ids[:, :-1, :])
    horizontal = tf.not_equal(ids[:, :, 1:], ids[:, :, :-1])
    false_row = tf.zeros_like(vertical[:, :1, :])
    false_column = tf.zeros_like(horizontal[:, :, :1])
    edges = tf.logical_or(tf.concat([false_row, vertical], axis=1),
                          tf.concat([vertical, false_row], axis=1))
    edges = tf.logical_or(edges, tf.concat([false_column, horizontal], axis=2))
    edges = tf.logical_or(edges, tf.concat([horizontal, false_column], axis=2))
    return tf.cast(edges, tf.float32)


# --------------------------------------------------------------------------- building blocks
class _Composite(keras.layers.Layer):
    """A layer made of sublayers that create their variables on the first call.

    Defining `build` keeps Keras from tracing `call` symbolically to build the
    sublayers (several times slower for these deep networks than the one
    eager pass of `build_for_size`).
    """

    def build(self, input_shape):
        del input_shape
        self.built = True


class IndexedSequence(_Composite):
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


class ResnetBlock(_Composite):
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


def _conv_norm_relu(filters, kernel_size, strides, padding, norm, prefix):
    return [Conv2D(filters, kernel_size, strides, padding, name=f"{prefix}_conv"),
            make_norm(norm, f"{prefix}_norm"), keras.layers.ReLU(name=f"{prefix}_relu")]


def _upsample_norm_relu(filters, norm, prefix):
    return [Conv2DTranspose(filters, 3, 2, 1, output_padding=1, name=f"{prefix}_conv"),
            make_norm(norm, f"{prefix}_norm"), keras.layers.ReLU(name=f"{prefix}_relu")]


def _output_head(output_channels):
    return [ReflectionPad2D(3, name="out_pad"), Conv2D(output_channels, 7, 1, 0, name="out_conv"),
            keras.layers.Activation("tanh", name="tanh")]


def _global_modules(config, ngf, with_head):
    """The `GlobalGenerator.model` list (without its last three modules unless `with_head`)."""
    modules = [ReflectionPad2D(3, name="in_pad")]
    modules += _conv_norm_relu(ngf, 7, 1, 0, config.norm, "in")
    for i in range(config.n_downsampling):
        modules += _conv_norm_relu(ngf * 2 ** (i + 1), 3, 2, 1, config.norm, f"down_{i}")
    for i in range(config.n_blocks):
        modules.append(ResnetBlock(ngf * 2 ** config.n_downsampling, config.norm,
                                   name=f"block_{i}"))
    for i in range(config.n_downsampling):
        modules += _upsample_norm_relu(ngf * 2 ** (config.n_downsampling - i - 1), config.norm,
                                       f"up_{i}")
    if with_head:
        modules += _output_head(config.output_channels)
    return modules


class _Generator(_Composite):
    """Input validation, building and weights shared by both generators."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def _validate(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        if not inputs.dtype.is_floating:
            raise ValueError(f"{self.name}: expected a float input, got {inputs.dtype}.")
        if inputs.shape.rank != 4:
            raise ValueError(
                f"{self.name}: expected [batch, height, width, {self.config.input_channels}], got "
                f"shape {inputs.shape}.")
        if inputs.shape[-1] != self.config.input_channels:
            raise ValueError(
                f"{self.name}: expected {self.config.input_channels} input channels (one-hot "
                f"labels plus instance edges), got {inputs.shape[-1]} (shape {inputs.shape}).")
        self.config.check_size(inputs.shape[1], inputs.shape[2])
        return inputs

    def build_for_size(self, height=None, width=None, batch_size=1):
        """Creates every variable by running one inference pass (smallest valid size by default)."""
        height = height or self.config.minimum_size
        width = width or self.config.minimum_size
        self(tf.zeros([batch_size, height, width, self.config.input_channels]), training=False)
        return self

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(Pix2PixHDConfig.from_dict(config["config"]), name=config.get("name"))


class GlobalGenerator(_Generator):
    """pix2pixHD's `GlobalGenerator` [`model.*`]: `[B, H, W, C_in]` -> `[B, H, W, C_out]`.

    Reflection pad 3, conv 7x7, norm, ReLU; `n_downsampling` stride-2 3x3
    convolutions doubling the channels; `n_blocks` residual blocks;
    `n_downsampling` stride-2 transposed convolutions halving them; reflection
    pad 3, conv 7x7, tanh.

    Args:
        config: A `Pix2PixHDConfig` with `n_local_enhancers == 0`.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, config, **kwargs):
        if config.n_local_enhancers:
            raise ValueError(
                f"GlobalGenerator needs n_local_enhancers == 0, got {config.n_local_enhancers}; "
                "use LocalEnhancer (or build_generator).")
        super().__init__(config, **kwargs)
        self.model = IndexedSequence(
            _global_modules(config, config.ngf, with_head=True), name="model")

    def call(self, inputs, training=None):
        return self.model(self._validate(inputs), training=training)

    def reference_variables(self):
        """Every variable under its PyTorch state_dict name (see `reference_names`)."""
        return reference_names.nest({"model": self.model})


class LocalEnhancer(_Generator):
    """pix2pixHD's `LocalEnhancer`: a global generator on a downsampled input,
    refined by `n_local_enhancers` local enhancer branches at finer scales.

    The input pyramid is `x_0 = x`, `x_{k+1} = average_downsample(x_k)`; the
    global branch [`model.*`, a `GlobalGenerator` with `ngf * 2**n_local`
    filters without its output head] reads `x_{n_local}`; branch `n`
    [`model{n}_1`, `model{n}_2`] adds its downsampled features of
    `x_{n_local - n}` to the coarser result and upsamples, the last one ending
    with the output head.

    Args:
        config: A `Pix2PixHDConfig` with `n_local_enhancers >= 1`.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, config, **kwargs):
        if config.n_local_enhancers < 1:
            raise ValueError(
                "LocalEnhancer needs n_local_enhancers >= 1; use GlobalGenerator for 0.")
        super().__init__(config, **kwargs)
        self.model = IndexedSequence(_global_modules(config, config.global_ngf, with_head=False),
                              name="model")
        names = []
        for n in range(1, config.n_local_enhancers + 1):
            filters = config.ngf * 2 ** (config.n_local_enhancers - n)
            downsample = IndexedSequence(
                [ReflectionPad2D(3, name="in_pad")]
                + _conv_norm_relu(filters, 7, 1, 0, config.norm, "in")
                + _conv_norm_relu(filters * 2, 3, 2, 1, config.norm, "down"),
                name=f"model{n}_1")
            upsample_modules = [ResnetBlock(filters * 2, config.norm, name=f"block_{i}")
                                for i in range(config.n_blocks_local)]
            upsample_modules += _upsample_norm_relu(filters, config.norm, "up")
            if n == config.n_local_enhancers:
                upsample_modules += _output_head(config.output_channels)
            upsample = IndexedSequence(upsample_modules, name=f"model{n}_2")
            setattr(self, f"model{n}_1", downsample)
            setattr(self, f"model{n}_2", upsample)
            names.append((f"model{n}_1", f"model{n}_2"))
        self._branch_names = tuple(names)

    def call(self, inputs, training=None):
        pyramid = [self._validate(inputs)]
        for _ in range(self.config.n_local_enhancers):
            pyramid.append(average_downsample(pyramid[-1]))
        output = self.model(pyramid[-1], training=training)
        for n, (down_name, up_name) in enumerate(self._branch_names, start=1):
            features = getattr(self, down_name)(
                pyramid[self.config.n_local_enhancers - n], training=training)
            output = getattr(self, up_name)(features + output, training=training)
        return output

    def reference_variables(self):
        """Every variable under its PyTorch state_dict name (see `reference_names`)."""
        children = {"model": self.model}
        for down_name, up_name in self._branch_names:
            children[down_name] = getattr(self, down_name)
            children[up_name] = getattr(self, up_name)
        return reference_names.nest(children)


def build_generator(config, name="label2image"):
    """`GlobalGenerator` for `n_local_enhancers == 0`, else `LocalEnhancer` (not yet built)."""
    if config.n_local_enhancers:
        return LocalEnhancer(config, name=name)
    return GlobalGenerator(config, name=name)


# --------------------------------------------------------------------------- discriminator
def _discriminator_groups(config, scale):
    """The `n_layers + 2` (+ sigmoid) module groups of one PatchGAN, as lists of layers."""
    groups = []
    for group in range(config.num_groups):
        filters = config.filters(group)
        last = group == config.num_groups - 1
        strides = 2 if group < config.n_layers else 1
        prefix = f"scale{scale}_group{group}"
        modules = [Conv2D(filters, 4, strides, 2, name=f"{prefix}_conv")]
        if 0 < group and not last:
            modules.append(make_norm(config.norm, f"{prefix}_norm"))
        if not last:
            modules.append(
                keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{prefix}_lrelu"))
        groups.append(modules)
    if config.use_sigmoid and not config.intermediate_features:
        groups.append([keras.layers.Activation("sigmoid", name=f"scale{scale}_sigmoid")])
    return groups


class MultiscaleDiscriminator(_Composite):
    """pix2pixHD's `MultiscaleDiscriminator`: PatchGANs on an average-pool pyramid.

    Output `k` (`k = 0` is the full-size input) is computed by the PatchGAN
    with the weights of scale `num_d - 1 - k` (the reference's order) on the
    input downsampled `k` times by `average_downsample`.

    With `intermediate_features`, every scale has `n_layers + 2` groups
    [`scale{i}_layer{j}.*`] and returns each group's output; otherwise it is
    one sequence [`layer{i}.*`] and returns only its output.

    Args:
        config: A `DiscriminatorConfig`.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        scales = []
        for scale in range(config.num_d):
            groups = _discriminator_groups(config, scale)
            if config.intermediate_features:
                names = []
                for group, modules in enumerate(groups[:config.num_groups]):
                    attribute = f"scale{scale}_layer{group}"
                    setattr(self, attribute, IndexedSequence(modules, name=attribute))
                    names.append(attribute)
                scales.append(tuple(names))
            else:
                attribute = f"layer{scale}"
                setattr(self, attribute, IndexedSequence(
                    [module for modules in groups for module in modules], name=attribute))
                scales.append((attribute,))
        self._scale_names = tuple(scales)

    def _validate(self, inputs):
        inputs = tf.convert_to_tensor(inputs)
        if not inputs.dtype.is_floating:
            raise ValueError(f"{self.name}: expected a float input, got {inputs.dtype}.")
        if inputs.shape.rank != 4 or inputs.shape[-1] != self.config.input_channels:
            raise ValueError(
                f"{self.name}: expected [batch, height, width, {self.config.input_channels}] "
                f"(generator input and image concatenated), got shape {inputs.shape}.")
        return inputs

    def call(self, inputs, training=None):
        """Returns a list over scales (full size first) of lists of `[B, h, w, c]` outputs."""
        x = self._validate(inputs)
        results = []
        num_d = self.config.num_d
        for k in range(num_d):
            features = []
            h = x
            for attribute in self._scale_names[num_d - 1 - k]:
                h = getattr(self, attribute)(h, training=training)
                features.append(h)
            if self.config.intermediate_features:
                results.append(features)
            else:
                results.append([features[-1]])
            if k != num_d - 1:
                x = average_downsample(x)
        return results

    def build_for_size(self, height=16, width=16, batch_size=1):
        """Creates every variable by running one inference pass."""
        self(tf.zeros([batch_size, height, width, self.config.input_channels]), training=False)
        return self

    def reference_variables(self):
        """Every variable under its PyTorch state_dict name (see `reference_names`)."""
        return reference_names.nest({
            attribute: getattr(self, attribute)
            for names in self._scale_names for attribute in names})

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(DiscriminatorConfig.from_dict(config["config"]), name=config.get("name"))


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
