"""Networks as TensorFlow checkpoint directories (checkpoint plus config JSON).

The one place that rebuilds a network directory (from conversion, training or
the shipped demo weights), and that writes one outside training:
`save_img2vid`/`load_img2vid` the img2vid network (`img2vid_config.json`),
`save_label2image`/`load_label2image` the pix2pixHD generator of stage 1
(`label2image_config.json`), `save_segmenter`/`load_segmenter` the FCN-score
segmenter (`segmenter_config.json`), and `load_seg2vid` both stages. Weights do
not depend on the frame size, so a directory written at one size loads at
another.
"""

import json
import os

import tensorflow as tf

from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.models import precision as precision_lib
from seg2vid_tf.models import segmenter as segmenter_lib
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid
from seg2vid_tf.models.rollout import RolloutOptions
from seg2vid_tf.models.seg2vid import Seg2Vid

CONFIG_FILENAME = "img2vid_config.json"
LABEL2IMAGE_CONFIG_FILENAME = "label2image_config.json"
SEGMENTER_CONFIG_FILENAME = "segmenter_config.json"


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


def write_config(config_dict, output_dir, config_filename):
    """Writes a network config (its `to_dict()`) as `output_dir/config_filename`."""
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, config_filename), "w", encoding="utf-8") as handle:
        json.dump(config_dict, handle, indent=2, sort_keys=True)


def _save(network, output_dir, config_filename):
    write_config(network.config.to_dict(), output_dir, config_filename)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=network), output_dir,
                                         max_to_keep=1)
    return manager.save()


def _restore(network, prefix):
    status = tf.train.Checkpoint(model=network).restore(prefix)
    status.expect_partial().assert_existing_objects_matched()
    return network


def save_img2vid(model, output_dir):
    """Writes `model` as a TensorFlow checkpoint plus its config JSON into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """
    return _save(model, output_dir, CONFIG_FILENAME)


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
    return _restore(model, prefix)


def save_label2image(generator, output_dir):
    """Writes a pix2pixHD generator as a TensorFlow checkpoint plus
    `label2image_config.json` into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """
    return _save(generator, output_dir, LABEL2IMAGE_CONFIG_FILENAME)


def load_label2image(checkpoint_dir, flag_name="label2image_checkpoint_dir", precision="float32"):
    """Rebuilds a pix2pixHD generator from a directory written by `save_label2image`.

    The generator runs at any size its config allows
    (`Pix2PixHDConfig.check_size`), in `precision` (`"float32"` or
    `"mixed_bfloat16"`: bfloat16 compute, float32 weights and instance-norm
    statistics; its output is then bfloat16).

    Raises:
        FileNotFoundError: No config or checkpoint in `checkpoint_dir` (naming `--flag_name`).
        ValueError: An unknown precision.
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, LABEL2IMAGE_CONFIG_FILENAME, flag_name)
    config = pix2pixhd.Pix2PixHDConfig.from_dict(values)
    with precision_lib.policy_scope(precision):
        generator = pix2pixhd.build_generator(config).build_for_size()
    return _restore(generator, prefix)


def save_segmenter(model, output_dir):
    """Writes the FCN-score segmenter as a checkpoint plus `segmenter_config.json`.

    Returns:
        The checkpoint path prefix.
    """
    return _save(model, output_dir, SEGMENTER_CONFIG_FILENAME)


def load_segmenter(checkpoint_dir, flag_name="segmenter_checkpoint_dir"):
    """The segmenter of a directory written by `save_segmenter` or its training.

    Raises:
        FileNotFoundError: No config or checkpoint there (naming `--flag_name`).
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, SEGMENTER_CONFIG_FILENAME, flag_name)
    config = segmenter_lib.SegmenterConfig.from_dict(values)
    return _restore(segmenter_lib.build_segmenter(config), prefix)


def load_seg2vid(checkpoint_dir, label2image_checkpoint_dir=None, precision="float32",
                 rollout_options=RolloutOptions()):
    """Both stages (`seg2vid_tf.models.seg2vid.Seg2Vid`) from their directories.

    Args:
        checkpoint_dir: img2vid directory (`load_img2vid`).
        label2image_checkpoint_dir: Optional stage-1 directory
            (`load_label2image`); without it the first frame must be given.
        precision: Both networks' precision, `"float32"` or `"mixed_bfloat16"`
            (`seg2vid_tf.models.precision`).
        rollout_options: How videos longer than one round are made (`RolloutOptions`).

    Raises:
        FileNotFoundError: A directory without config or checkpoint (naming
            `--checkpoint_dir` or `--label2image_checkpoint_dir`).
    """
    video_model = load_img2vid(checkpoint_dir, flag_name="checkpoint_dir", precision=precision)
    painter = None
    if label2image_checkpoint_dir:
        painter = load_label2image(label2image_checkpoint_dir,
                                   flag_name="label2image_checkpoint_dir", precision=precision)
    return Seg2Vid(video_model, painter, rollout_options)
