"""The architectures of pix2pixHD's networks as data: `Pix2PixHDConfig`, `DiscriminatorConfig`.

Both check their fields, know the sizes they run at and round-trip through
dicts (the `label2image_config.json` of a converted or trained generator).
"""

import dataclasses

from seg2vid_tf.config_data import ConfigData, check_ints
from seg2vid_tf.layers.normalization import NORM_TYPES

MAX_DISCRIMINATOR_FILTERS = 512  # PatchGAN widths double up to this cap.


@dataclasses.dataclass(frozen=True)
class Pix2PixHDConfig(ConfigData):
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
        check_ints(self, ("input_channels", "output_channels", "ngf"), 1, f"{owner}.")
        check_ints(self, ("n_downsampling", "n_blocks", "n_local_enhancers", "n_blocks_local"), 0,
                   f"{owner}.")
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


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig(ConfigData):
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
        check_ints(self, ("input_channels", "ndf", "n_layers", "num_d"), 1, f"{owner}.")
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
