"""The pix2pixHD facade: the old names are the objects of the modules that define them."""

from seg2vid_tf.models import (
    pix2pixhd,
    pix2pixhd_config,
    pix2pixhd_discriminator,
    pix2pixhd_generator,
    pix2pixhd_inputs,
    pix2pixhd_layers,
)


def test_the_old_names_are_the_library_objects():
    modules = (pix2pixhd_config, pix2pixhd_discriminator, pix2pixhd_generator, pix2pixhd_inputs,
               pix2pixhd_layers)
    for name in pix2pixhd.__all__:
        homes = [module for module in modules if name in vars(module)]
        assert homes and getattr(pix2pixhd, name) is getattr(homes[0], name), name
