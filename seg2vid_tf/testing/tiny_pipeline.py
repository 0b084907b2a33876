"""Tiny, randomly initialized seg2vid stages saved as checkpoints, for tests."""

import os

import keras
import numpy as np

from seg2vid_tf.conversion.checkpoints import load_seg2vid, save_img2vid, save_label2image
from seg2vid_tf.models import pix2pixhd, seg2vid
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid

SIZE = 128  # The smallest square frame img2vid supports.


def save_tiny_models(directory, label_mode="two_path", seed=0):
    """Saves a tiny img2vid (`label_mode`) and a tiny train-id pix2pixHD generator.

    Args:
        directory: Parent directory; `img2vid_<label_mode>/` and `label2image/`
            are written in it.
        label_mode: The img2vid variant.
        seed: Initialization seed.

    Returns:
        `(img2vid_dir, label2image_dir)`, loadable by `conversion.checkpoints.load_img2vid`
        and `load_label2image`.
    """
    keras.utils.set_random_seed(seed)
    video_model = Img2Vid(Img2VidConfig(height=SIZE, width=SIZE, label_mode=label_mode,
                                        width_multiplier=0.0625)).build_for_size()
    img2vid_dir = os.path.join(directory, f"img2vid_{label_mode}")
    save_img2vid(video_model, img2vid_dir)
    painter = pix2pixhd.build_generator(pix2pixhd.Pix2PixHDConfig(
        input_channels=seg2vid.NUM_TRAIN_IDS, ngf=4, n_downsampling=2, n_blocks=1))
    painter.build_for_size()
    label2image_dir = os.path.join(directory, "label2image")
    save_label2image(painter, label2image_dir)
    return img2vid_dir, label2image_dir


def save_tiny_demo_weights(directory, data_settings, seed=0):
    """Tiny demo networks (img2vid, stage 1, segmenter) packed as shipped weights.

    Args:
        directory: Parent directory; `checkpoints/` and `weights/` are written in it.
        data_settings: The recipe's synthetic-data settings (`demos.data.DATA_SETTINGS`).
        seed: Initialization seed.

    Returns:
        The weights directory (for `demo_weights.verify` / `unpack`, `demo --weights_dir`).
    """
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import segmenter  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import segmenter as segmenter_training  # pylint: disable=import-outside-toplevel

    checkpoints = os.path.join(directory, "checkpoints")
    img2vid_dir, label2image_dir = save_tiny_models(checkpoints, seed=seed)
    segmenter_dir = os.path.join(checkpoints, "segmenter")
    segmenter_training.save_segmenter(
        segmenter.build_segmenter(segmenter.SegmenterConfig(base_filters=4, depth=2)),
        segmenter_dir)
    weights_dir = os.path.join(directory, "weights")
    demo_weights.pack({"img2vid": img2vid_dir, "label2image": label2image_dir,
                       "segmenter": segmenter_dir}, weights_dir,
                      {"command": "tests", "data": dict(data_settings)})
    return weights_dir


def street_label_map(batch=1, size=SIZE):
    """int32 `[batch, size, size]` train ids: sky (10) on top, buildings (2), a car (13)
    on the road (0)."""
    labels = np.zeros((batch, size, size), np.int32)
    labels[:, : size // 3] = 10
    labels[:, size // 3: size // 2] = 2
    labels[:, size // 2 + size // 12: size // 2 + size // 4, size // 3: 2 * size // 3] = 13
    return labels


def export_tiny(directory, num_frames=2, label_mode="two_path"):
    """Saves the tiny stages and exports them (both stages) as version 1.

    Returns:
        `(export_base, checkpoint_dirs)`.
    """
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    checkpoint_dirs = save_tiny_models(os.path.join(directory, "checkpoints"), label_mode)
    export_base = os.path.join(directory, "models", "seg2vid")
    export.export_saved_model(load_seg2vid(*checkpoint_dirs), export_base, num_frames)
    return export_base, checkpoint_dirs
