"""`make demo-train`: the recipe that makes the demo's shipped weights, from scratch.

    python -m seg2vid_tf.demo_train --output_dir=demo_train \
        [--weights_dir=seg2vid_tf/assets/demo_weights]

1. renders the synthetic training data that `configs/synthetic_diverse.cfg`
   names (seed 0, 9-frame sequences at 128x128, camera speeds from
   near-stopped to fast, gentle turns) into `output_dir/data`;
2. trains stage 2, img2vid, by the same config's recipe (the motion latent kept
   alive by the warm-up of docs/experiments.md), into `output_dir/img2vid`;
3. trains stage 1, pix2pixHD (`configs/label2image_synthetic.cfg`), into
   `output_dir/label2image`;
4. trains the FCN-score segmenter (`configs/segmenter_synthetic.cfg`) on the
   real frames, into `output_dir/segmenter`;
5. packs the three networks into `--weights_dir` (`seg2vid_tf.demo_weights`:
   float16 weights, configs, SHA-256 manifest with this recipe).

Every stage resumes from its checkpoints, so an interrupted run continues
where it stopped. `make demo` then runs on the new weights. The time it takes
is in docs/training.md. The work is `seg2vid_tf.demos.recipe.train_demo_networks`.
"""

import json

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag


def define_flags():
    define_flag("string", "output_dir", "demo_train", "Work directory: data and checkpoints.")
    define_flag("string", "weights_dir", None, "Where the shipped weights are written "
                                               "(seg2vid_tf/assets/demo_weights by default).")
    define_flag("float", "steps_scale", 1.0, "Multiplies every network's training steps "
                                             "(1.0: the recipe).")


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    if not values.steps_scale > 0:
        raise app.UsageError(f"--steps_scale must be > 0, got {values.steps_scale}.")
    # Imported here so that flag errors do not wait for TensorFlow.
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.demos import recipe  # pylint: disable=import-outside-toplevel

    summary = recipe.train_demo_networks(
        values.output_dir, values.weights_dir or demo_weights.DEFAULT_DIR, values.steps_scale)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
