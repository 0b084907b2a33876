"""Train stage 1 (pix2pixHD, label map -> first frame).

    python -m seg2vid_tf.train_label2image --flagfile=configs/label2image_synthetic.cfg \
        --data_dir=DIR --model_dir=DIR [--train_steps=N]

A thin entry point: flags -> `Label2ImageConfig` -> `label2image.train`
(see `seg2vid_tf/training/label2image.py` for the objective). Flags after
`--flagfile` override it. Ctrl-C (or SIGTERM) writes a checkpoint, and the
same command resumes. The model directory then serves the pipeline directly:
`python -m seg2vid_tf.generate --label2image_checkpoint_dir=MODEL_DIR ...`.
"""

import json

import tensorflow as tf
from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.data import cityscapes, decode_errors
from seg2vid_tf.training import label2image


def explain_data_error(error, data_dir, splits=("train", "val")):
    """The `decode_errors.DataFileError` naming the labelled frame behind `error`, or None.

    Args:
        error: An error raised while training on the labelled frames of `data_dir`.
        data_dir: The Cityscapes-layout dataset (`--data_dir`).
        splits: The splits the training may have read.

    Returns:
        The error naming the file, its frame and split, or None when `error`
        is not about one of their files.
    """
    for split in splits:
        try:
            clips = cityscapes.find_clips(data_dir, split, num_frames=1)
        except (OSError, ValueError):
            continue
        named = decode_errors.explain(error, clips, split=split, description="labelled frame")
        if named is not None:
            return named
    return None


def main(argv):
    values = flags.FLAGS
    cli.check_usage(argv, required=("data_dir", "model_dir"), values=values)
    config = label2image.config_from_flags(values)  # a bad value: FlagError, a usage error
    try:
        terms = label2image.train(config, values.model_dir)
    except tf.errors.OpError as error:  # A corrupt data file: name it (the decoders do not).
        named = explain_data_error(error, config.data_dir)
        if named is None:
            raise
        raise named from error
    print(json.dumps({"model_dir": values.model_dir, "losses": terms}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    label2image.define_flags()
    cli.run(main)
