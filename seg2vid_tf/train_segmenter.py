"""Train the FCN-score segmenter (real frames -> train ids) used to score stage 1.

    python -m seg2vid_tf.train_segmenter --flagfile=configs/segmenter_synthetic.cfg \
        --data_dir=DIR --model_dir=DIR [--train_steps=N]

A thin entry point: flags (`segmenter.define_flags`) -> `SegmenterTrainConfig` ->
`segmenter.train`
(see `seg2vid_tf/training/segmenter.py`). Ctrl-C (or SIGTERM) writes a
checkpoint and the same command resumes. At the end it prints the mean IoU on
the real frames of the val split; `evaluate --segmenter_checkpoint_dir=MODEL_DIR`
then uses the network for the FCN-score.
"""

import json

from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.training import segmenter


def main(argv):
    values = flags.FLAGS
    cli.check_usage(argv, required=("data_dir", "model_dir"), values=values)
    config = segmenter.config_from_flags(values)  # a bad value: FlagError, a usage error
    result = segmenter.train_and_score(config, values.model_dir)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    segmenter.define_flags()
    cli.run(main)
