"""Converted networks as TensorFlow checkpoint directories (checkpoint plus config JSON).

`save_img2vid`/`load_img2vid` write and rebuild the img2vid network
(`img2vid_config.json`), `save_label2image`/`load_label2image` the pix2pixHD
generator of stage 1 (`label2image_config.json`). Weights do not depend on the
frame size, so a directory written at one size loads at another.
"""

import json
import os

import tensorflow as tf

from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.models import precision as precision_lib
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid

CONFIG_FILENAME = "img2vid_config.json"
LABEL2IMAGE_CONFIG_FILENAME = "label2image_config.json"


def read_checkpoint_dir(checkpoint_dir, config_filename, flag_name):
    """The config dict and latest checkpoint prefix of a model directory.

    Raises:
        FileNotFoundError: No `config_filename` or no checkpoint in `checkpoint_dir`
            (naming `--flag_name`).
    """
    config_path = os.path.join(checkpoint_dir or "", config_filename)
    if not checkpoint_dir or not os.path.isfile(config_path):
        raise FileNotFoundError(f"No {config_filename} in {checkpoint_dir!r} (set --{flag_name}).")
    prefix = tf.train.latest_checkpoint(checkpoint_dir)
    if prefix is None:
        raise FileNotFoundError(
            f"No TensorFlow checkpoint in {checkpoint_dir!r} (set --{flag_name}).")
    with open(config_path, encoding="utf-8") as handle:
        return json.load(handle), prefix


def save_img2vid(model, output_dir):
    """Writes `model` as a TensorFlow checkpoint plus its config JSON into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """

    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, CONFIG_FILENAME), "w", encoding="utf-8") as handle:
        json.dump(model.config.to_dict(), handle, indent=2, sort_keys=True)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), output_dir, max_to_keep=1)
    return manager.save()


def load_img2vid(checkpoint_dir, *, height=None, width=None, flag_name="checkpoint_dir",
                 precision="float32"):
    """Rebuilds an `Img2Vid` from a directory written by `save_img2vid` or training.

    Weights do not depend on the frame size, so `height`/`width` may differ
    from the size the checkpoint was written at, nor on the precision
    (`"float32"` or `"mixed_bfloat16"`, see `seg2vid_tf.models.precision`).

    Raises:
        FileNotFoundError: No config or checkpoint in `checkpoint_dir`.
        ValueError: An unknown precision.
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, CONFIG_FILENAME, flag_name)
    config = Img2VidConfig.from_dict(values)
    config = config.replace(height=height or config.height, width=width or config.width)
    with precision_lib.policy_scope(precision):
        model = Img2Vid(config).build_for_size()
    status = tf.train.Checkpoint(model=model).restore(prefix)
    status.expect_partial().assert_existing_objects_matched()
    return model


def save_label2image(generator, output_dir):
    """Writes a pix2pixHD generator as a TensorFlow checkpoint plus
    `label2image_config.json` into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """
    os.makedirs(output_dir, exist_ok=True)
    config_path = os.path.join(output_dir, LABEL2IMAGE_CONFIG_FILENAME)
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(generator.config.to_dict(), handle, indent=2, sort_keys=True)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=generator), output_dir, max_to_keep=1)
    return manager.save()


def load_label2image(checkpoint_dir, flag_name="label2image_checkpoint_dir"):
    """Rebuilds a pix2pixHD generator from a directory written by `save_label2image`.

    The generator runs at any size its config allows
    (`Pix2PixHDConfig.check_size`).

    Raises:
        FileNotFoundError: No config or checkpoint in `checkpoint_dir` (naming `--flag_name`).
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, LABEL2IMAGE_CONFIG_FILENAME, flag_name)
    config = pix2pixhd.Pix2PixHDConfig.from_dict(values)
    generator = pix2pixhd.build_generator(config).build_for_size()
    status = tf.train.Checkpoint(model=generator).restore(prefix)
    status.expect_partial().assert_existing_objects_matched()
    return generator
