"""pix2pixHD's generators: `GlobalGenerator` and the coarse-to-fine `LocalEnhancer`."""

import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.normalization import ReflectionPad2D, average_downsample
from seg2vid_tf.models.pix2pixhd_config import Pix2PixHDConfig
from seg2vid_tf.models.pix2pixhd_layers import (
    Composite,
    IndexedSequence,
    ResnetBlock,
    conv_norm_relu,
    output_head,
    upsample_norm_relu,
)


def _global_modules(config, ngf, with_head):
    """The `GlobalGenerator.model` list (without its last three modules unless `with_head`)."""
    modules = [ReflectionPad2D(3, name="in_pad")]
    modules += conv_norm_relu(ngf, 7, 1, 0, config.norm, "in")
    for i in range(config.n_downsampling):
        modules += conv_norm_relu(ngf * 2 ** (i + 1), 3, 2, 1, config.norm, f"down_{i}")
    for i in range(config.n_blocks):
        modules.append(ResnetBlock(ngf * 2 ** config.n_downsampling, config.norm,
                                   name=f"block_{i}"))
    for i in range(config.n_downsampling):
        modules += upsample_norm_relu(ngf * 2 ** (config.n_downsampling - i - 1), config.norm,
                                       f"up_{i}")
    if with_head:
        modules += output_head(config.output_channels)
    return modules


class _Generator(Composite):
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
                + conv_norm_relu(filters, 7, 1, 0, config.norm, "in")
                + conv_norm_relu(filters * 2, 3, 2, 1, config.norm, "down"),
                name=f"model{n}_1")
            upsample_modules = [ResnetBlock(filters * 2, config.norm, name=f"block_{i}")
                                for i in range(config.n_blocks_local)]
            upsample_modules += upsample_norm_relu(filters, config.norm, "up")
            if n == config.n_local_enhancers:
                upsample_modules += output_head(config.output_channels)
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
