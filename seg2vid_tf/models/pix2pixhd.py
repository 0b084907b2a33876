"""pix2pixHD, stage 1 of seg2vid: label map -> first frame (docs/method.md, "pix2pixHD").

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

One module per part, whose public names this module re-exports:
`pix2pixhd_config` (the configs), `pix2pixhd_inputs` (one-hot labels, instance
edges), `pix2pixhd_layers` (`IndexedSequence`, `ResnetBlock`, random reference
state_dicts), `pix2pixhd_generator` (`GlobalGenerator`, `LocalEnhancer`,
`build_generator`) and `pix2pixhd_discriminator` (`MultiscaleDiscriminator`).
"""

from seg2vid_tf.models.pix2pixhd_config import (
    MAX_DISCRIMINATOR_FILTERS,
    DiscriminatorConfig,
    Pix2PixHDConfig,
)
from seg2vid_tf.models.pix2pixhd_discriminator import LEAKY_SLOPE, MultiscaleDiscriminator
from seg2vid_tf.models.pix2pixhd_generator import GlobalGenerator, LocalEnhancer, build_generator
from seg2vid_tf.models.pix2pixhd_inputs import generator_input, instance_edges
from seg2vid_tf.models.pix2pixhd_layers import (
    IndexedSequence,
    ResnetBlock,
    random_reference_state_dict,
)

__all__ = [
    "DiscriminatorConfig",
    "GlobalGenerator",
    "IndexedSequence",
    "LEAKY_SLOPE",
    "LocalEnhancer",
    "MAX_DISCRIMINATOR_FILTERS",
    "MultiscaleDiscriminator",
    "Pix2PixHDConfig",
    "ResnetBlock",
    "build_generator",
    "generator_input",
    "instance_edges",
    "random_reference_state_dict",
]
