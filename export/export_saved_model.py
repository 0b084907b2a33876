"""Export a trained seg2vid for TensorFlow Serving.

    python export/export_saved_model.py --checkpoint_dir=IMG2VID_DIR \
        [--label2image_checkpoint_dir=LABEL2IMAGE_DIR] --export_base=models/seg2vid \
        [--version=N] [--num_frames=4]

Writes `<export_base>/<version>/` (the next free integer unless `--version`)
with the signatures `seg2vid` (= `serving_default`), `img2vid`, `label2image`
and `seg2vid_png`; without a stage-1 checkpoint only `img2vid`, which is then
`serving_default`. The version is written under a temporary name and renamed
when complete; an existing version is never overwritten. The last line printed
is the path of the version directory. See `seg2vid_tf/serving/` and the README.
"""

import os
import sys

# Run from the repository root without installing: make the package importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # pylint: disable=wrong-import-position

from seg2vid_tf import cli  # pylint: disable=wrong-import-position

flags.DEFINE_string("checkpoint_dir", None, "img2vid (stage 2) checkpoint directory.")
flags.DEFINE_string("label2image_checkpoint_dir", None,
                    "pix2pixHD (stage 1) checkpoint directory; without it only the img2vid "
                    "signature is exported.")
flags.DEFINE_string("export_base", None, "The model's base directory (TF Serving's base_path).")
flags.DEFINE_integer("version", None, "Version number; the next free one when not given.")
flags.DEFINE_integer("num_frames", 4, "Frames predicted after the first one (the videos have "
                                      "num_frames + 1 frames).")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Both networks' compute precision in the export (mixed_bfloat16: bfloat16 "
                  "compute, for CPUs with AVX512_BF16/AMX, GPUs and TPUs).")
FLAGS = flags.FLAGS


def main(argv):
    cli.check_usage(argv, required=("checkpoint_dir", "export_base"), values=FLAGS)
    if FLAGS.num_frames < 1:
        raise app.UsageError(f"--num_frames must be >= 1, got {FLAGS.num_frames}.")
    if FLAGS.version is not None and FLAGS.version < 1:
        raise app.UsageError(f"--version must be a positive integer, got {FLAGS.version}.")
    # Imported here so that --help and flag errors do not wait for TensorFlow.
    from seg2vid_tf.conversion import checkpoints  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    # A missing checkpoint or an existing version: `error: ...` from the boundary (cli.run).
    pipeline = checkpoints.load_seg2vid(FLAGS.checkpoint_dir, FLAGS.label2image_checkpoint_dir,
                                        precision=FLAGS.precision)
    path = export.export_saved_model(pipeline, FLAGS.export_base, FLAGS.num_frames,
                                     version=FLAGS.version)
    print(os.path.abspath(path))
    return 0


if __name__ == "__main__":
    cli.run(main)
