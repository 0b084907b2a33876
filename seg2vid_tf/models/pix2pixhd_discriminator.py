"""pix2pixHD's `MultiscaleDiscriminator`: PatchGANs on an average-pool pyramid."""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.convolution import Conv2D
from seg2vid_tf.layers.normalization import average_downsample, make_norm
from seg2vid_tf.models.pix2pixhd_config import DiscriminatorConfig
from seg2vid_tf.models.pix2pixhd_layers import Composite, IndexedSequence

LEAKY_SLOPE = 0.2  # Discriminator LeakyReLU slope of the reference.


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


class MultiscaleDiscriminator(Composite):
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
