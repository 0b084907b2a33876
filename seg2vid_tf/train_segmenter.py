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
    terms = segmenter.train(config, values.model_dir)
    model = segmenter.load_segmenter(values.model_dir, flag_name="model_dir")
    scores = segmenter.score_real_frames(model, config.data_dir, "val", config.height,
                                         config.width)
    print(json.dumps({"model_dir": values.model_dir, "losses": terms, "val": scores},
                     indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    segmenter.define_flags()
    cli.run(main)
