"""Train img2vid: `python -m seg2vid_tf.train --flagfile=configs/synthetic.cfg
--data_dir=DIR --model_dir=DIR [--train_steps=N]`.

A thin entry point: flags -> `TrainConfig` -> `train_and_evaluate(config, workdir)`.
Flags given after `--flagfile` override it. Interrupt with Ctrl-C (or SIGTERM):
a checkpoint is written, and the same command resumes (from the previous
checkpoint if the latest is damaged; `error: ...` and exit status 1 if none
of them can be read). A corrupt or unexpected data file is `error: ...` naming it.
"""

import json

from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.training import config as config_lib


def main(argv):
    values = flags.FLAGS
    cli.check_usage(argv, required=("data_dir", "model_dir"), values=values)
    from seg2vid_tf.data import registry  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import trainer  # pylint: disable=import-outside-toplevel

    config = config_lib.config_from_flags()
    # A corrupt data file: an error naming it (TensorFlow's decoders do not).
    with registry.naming_data_errors(config):
        result = trainer.train_and_evaluate(config, values.model_dir)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    config_lib.define_flags()
    cli.run(main)
