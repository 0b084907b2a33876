"""Tiny pix2pixHD architectures and random inputs for the network tests."""

import numpy as np

from seg2vid_tf.models.pix2pixhd_config import DiscriminatorConfig, Pix2PixHDConfig

TINY_GLOBAL = Pix2PixHDConfig(
    input_channels=5, output_channels=3, ngf=4, n_downsampling=2, n_blocks=2)
TINY_LOCAL = TINY_GLOBAL.replace(ngf=2, n_local_enhancers=2, n_blocks_local=1)
TINY_DISCRIMINATOR = DiscriminatorConfig(input_channels=4, ndf=4, n_layers=3, num_d=3)


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)
