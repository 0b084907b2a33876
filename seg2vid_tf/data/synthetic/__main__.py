r"""Generates the synthetic driving dataset (see :mod:`seg2vid_tf.data.synthetic`).

Procedural street videos with Cityscapes train-id label maps and exact forward
optical flow (KITTI 16-bit PNGs), in the Cityscapes sequence layout.

Command line::

    python -m seg2vid_tf.data.synthetic --output_dir=DIR --num_sequences=N \
        --num_frames=9 --height=128 --width=256 --seed=S \
        [--val_fraction=0.25] [--city=synth] [--motion_scale=1.0] \
        [--speed_variation=1.0] [--num_workers=0]

``--flagfile=FILE`` is supported; flags of other programs in a shared flag
file are ignored.
"""

import sys

from absl import app, flags, logging

from seg2vid_tf import cli
from seg2vid_tf.data.synthetic.dataset import check_num_workers, check_settings, generate_dataset
from seg2vid_tf.data.synthetic.flow_png import hide_gpus_from_tensorflow


def _define_flags():
    """Defines the command-line flags (only when run as a program, so that
    importing this module never clashes with other programs' flags)."""
    if "num_sequences" in flags.FLAGS and "val_fraction" in flags.FLAGS:
        return
    flags.DEFINE_string("output_dir", None, "Root directory of the generated dataset.")
    flags.DEFINE_integer("num_sequences", 24, "Number of sequences (>= 1).")
    flags.DEFINE_integer("num_frames", 9, "Frames per sequence (>= 2).")
    flags.DEFINE_integer("height", 128, "Frame height (multiple of 16, >= 32).")
    flags.DEFINE_integer("width", 256, "Frame width (multiple of 16, >= 32).")
    flags.DEFINE_integer("seed", 0, "Random seed (>= 0).")
    flags.DEFINE_float("val_fraction", 0.25, "Fraction of sequences in the val split, in [0, 1).")
    flags.DEFINE_string("city", "synth", "City name used in directory and file names.")
    flags.DEFINE_float("motion_scale", 1.0,
                       "Multiplies all velocities (like 1/frame rate), in (0, 4].")
    flags.DEFINE_float("speed_variation", 1.0, "Spread of the camera speeds around their mean, in "
                                               "[0, 1] (1: 0.02..1.4 m per frame, 0: all 0.74).")
    flags.DEFINE_integer("num_workers", 0, "Processes rendering in parallel (0: one per CPU core); "
                                           "the files do not depend on it.")


def main(argv):
    """Entry point for ``python -m seg2vid_tf.data.synthetic``."""
    FLAGS = flags.FLAGS
    extra = list(argv[1:])
    unknown = [a for a in extra if a.startswith("-")]
    positional = [a for a in extra if not a.startswith("-")]
    if positional:
        raise app.UsageError(f"Unexpected positional arguments: {positional}")
    if unknown:
        logging.info("Ignoring flags of other programs: %s", " ".join(unknown))
    try:
        check_settings(FLAGS.output_dir, FLAGS.num_sequences, FLAGS.num_frames, FLAGS.height,
                       FLAGS.width, FLAGS.seed, FLAGS.val_fraction, FLAGS.city,
                       FLAGS.motion_scale, FLAGS.speed_variation)
        check_num_workers(FLAGS.num_workers)
    except ValueError as exc:
        raise app.UsageError(str(exc)) from None
    hide_gpus_from_tensorflow()  # Only the flow PNG codec uses TensorFlow, on the CPU.
    summary = generate_dataset(FLAGS.output_dir, FLAGS.num_sequences, FLAGS.num_frames,
                               FLAGS.height, FLAGS.width, FLAGS.seed,
                               val_fraction=FLAGS.val_fraction, city=FLAGS.city,
                               progress=True, motion_scale=FLAGS.motion_scale,
                               speed_variation=FLAGS.speed_variation,
                               num_workers=FLAGS.num_workers)
    print(f"Wrote {summary['num_train']} train + {summary['num_val']} val sequences of "
          f"{FLAGS.num_frames} frames ({FLAGS.height}x{FLAGS.width}), "
          f"{summary['num_files']} files, in {summary['seconds']:.1f} s to {summary['output_dir']}")
    sys.stdout.flush()


if __name__ == "__main__":
    _define_flags()
    # Flags of other programs in a shared --flagfile are left to `main`, which ignores them.
    cli.run(main, known_only=True)
