"""Command line: converts the original PyTorch checkpoints into TensorFlow checkpoints.

    python -m seg2vid_tf.convert --reference=model.pth.tar --output_dir=DIR \
        --height=128 --width=256

writes a TensorFlow checkpoint that loads at any valid size;
`--label2image_reference=latest_net_G.pth` also (or only) converts a pix2pixHD
generator for stage 1 into `DIR/label2image` (`load_label2image`).

The conversion itself lives in `seg2vid_tf.conversion`, one module per role:

* `conversion.state_dicts`: reading `.npz`/`.pth`/`.pth.tar` reference files
  and the strict name-by-name copy (`ConversionError`).
* `conversion.img2vid`, `conversion.vgg`, `conversion.pix2pixhd`: each network
  from its reference state_dict (architecture read off names and shapes).
* `conversion.checkpoints`: converted networks as TensorFlow checkpoint
  directories (`save_img2vid`, `load_img2vid`, `load_label2image`, ...).

This module re-exports their public names, so `seg2vid_tf.convert.X` keeps working.
"""

import os

from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.conversion.checkpoints import (
    CONFIG_FILENAME,
    LABEL2IMAGE_CONFIG_FILENAME,
    load_img2vid,
    load_label2image,
    read_checkpoint_dir,
    save_img2vid,
    save_label2image,
)
from seg2vid_tf.conversion.img2vid import img2vid_from_reference, infer_img2vid_config
from seg2vid_tf.conversion.pix2pixhd import (
    discriminator_from_reference,
    infer_discriminator_config,
    infer_label2image_config,
    label2image_from_reference,
)
from seg2vid_tf.conversion.state_dicts import (
    ConversionError,
    assign_reference_variables,
    load_reference_state_dict,
)
from seg2vid_tf.conversion.vgg import VGG_PREFIX, load_vgg19, save_vgg19, vgg19_from_reference

__all__ = [
    "CONFIG_FILENAME",
    "ConversionError",
    "LABEL2IMAGE_CONFIG_FILENAME",
    "VGG_PREFIX",
    "assign_reference_variables",
    "discriminator_from_reference",
    "img2vid_from_reference",
    "infer_discriminator_config",
    "infer_img2vid_config",
    "infer_label2image_config",
    "label2image_from_reference",
    "load_img2vid",
    "load_label2image",
    "load_reference_state_dict",
    "load_vgg19",
    "read_checkpoint_dir",
    "save_img2vid",
    "save_label2image",
    "save_vgg19",
    "vgg19_from_reference",
]


def main(argv):
    """Converts a reference checkpoint into a TensorFlow checkpoint directory."""
    del argv
    _convert(flags.FLAGS)
    return 0


def _convert(values):
    """Converts `--reference` and/or `--label2image_reference` into `--output_dir`."""
    if values.reference:
        state_dict = load_reference_state_dict(values.reference, "reference")
        model = img2vid_from_reference(state_dict, height=values.height, width=values.width)
        prefix = save_img2vid(model, values.output_dir)
        print(f"img2vid ({model.config.label_mode}, {model.config.channels} channels, "
              f"{model.count_params():,} parameters) -> {prefix}")
        if any(name.startswith(VGG_PREFIX) for name in state_dict):
            vgg_path = save_vgg19(vgg19_from_reference(state_dict),
                                  os.path.join(values.output_dir, "vgg19.npz"))
            print(f"perceptual VGG19 -> {vgg_path} (use with --vgg19_weights)")
    if values.label2image_reference:
        generator = label2image_from_reference(
            load_reference_state_dict(values.label2image_reference, "label2image_reference"))
        output_dir = os.path.join(values.output_dir, "label2image")
        prefix = save_label2image(generator, output_dir)
        kind = "LocalEnhancer" if generator.config.n_local_enhancers else "GlobalGenerator"
        print(f"label2image ({kind}, {generator.config.input_channels} input channels, "
              f"{generator.count_params():,} parameters) -> {prefix} "
              f"(use with --label2image_checkpoint_dir={output_dir})")


def _define_flags():
    flags.DEFINE_string("reference", None, "Reference state_dict: .npz or .pth/.pth.tar.")
    flags.DEFINE_string("output_dir", None, "Directory for the TensorFlow checkpoint.")
    flags.DEFINE_integer("height", 128, "Frame height the model is built at.")
    flags.DEFINE_integer("width", 256, "Frame width the model is built at.")
    flags.DEFINE_string(
        "label2image_reference", None,
        "pix2pixHD generator state_dict (netG, .npz or .pth); written to OUTPUT_DIR/label2image.")
    flags.mark_flags_as_required(["output_dir"])
    flags.register_multi_flags_validator(
        ["reference", "label2image_reference"],
        lambda values: bool(values["reference"] or values["label2image_reference"]),
        message="Set --reference (img2vid) and/or --label2image_reference (pix2pixHD generator).")


if __name__ == "__main__":
    _define_flags()
    cli.run(main)
