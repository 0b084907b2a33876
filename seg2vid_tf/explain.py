"""Which pixels of the start frame and which label classes drive the predicted motion.

    python -m seg2vid_tf.explain --checkpoint_dir=IMG2VID_DIR --label_map=labels.png \
        --first_frame=frame.png --output_dir=explain/ [--explain_class=13] \
        [--region=y0,x0,y1,x1] [--seed=0] [--smooth_samples=20]

The explained quantity is the predicted motion: the mean forward-flow magnitude
(pixels, over the predicted frames) inside a region, the pixels of
`--explain_class` in the label map, or the whole frame. With the latent fixed
(the prior sample keyed by `--seed`), the motion is a function of the image
encoder's input, the start frame stacked with the one-hot label map. That path
is wrapped as a functional Keras model (`motion_saliency.motion_model`), as
tf-keras-vis works only on functional models, and explained with

* SmoothGrad saliency (`tf_keras_vis.saliency.Saliency`, `smooth_samples`
  noisy copies): the gradient magnitude with respect to the start frame (max
  over colour channels) and to each label channel (what painting more of that
  class where would change the motion);
* Grad-CAM (`tf_keras_vis.gradcam.Gradcam`) on the image encoder's bottleneck
  (1/16 resolution, upsampled to the frame).

Written in `--output_dir`: `saliency_frame.png`, `gradcam.png` (maps overlaid on
the start frame), `saliency_labels.png` (a grid of the 20 label channels, the
class names above), and `explain.json` (the score and per-class saliency
totals). Every map has the input's height and width. The work is
`seg2vid_tf.evaluation.motion_saliency`.
"""

import numpy as np
from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag


def define_flags():
    """Defines the command's flags (idempotent: `command_flags.define_flag`)."""
    define_flag("string", "checkpoint_dir", None, "img2vid checkpoint directory.")
    define_flag("string", "label_map", None, "Label PNG of train ids (label-conditioned models).")
    define_flag("string", "first_frame", None, "The start frame (PNG/JPEG).")
    define_flag("string", "output_dir", "explain", "Where the maps are written.")
    define_flag("integer", "explain_class", None, "Explain the motion of this train id's pixels.")
    define_flag("string", "region", None, "Explain the motion inside y0,x0,y1,x1 (pixels).")
    define_flag("integer", "seed", 0, "Key of the latent (prior sample).")
    define_flag("integer", "smooth_samples", 20, "SmoothGrad samples (0: plain gradients).")


def _region_from_flags(values, label_map, height, width):
    if values.explain_class is not None and values.region:
        raise app.UsageError("Give --explain_class or --region, not both.")
    if values.explain_class is not None:
        if label_map is None:
            raise app.UsageError("--explain_class needs --label_map.")
        return (label_map == values.explain_class).astype(np.float32)
    if values.region:
        try:
            y0, x0, y1, x1 = (int(part) for part in values.region.split(","))
        except ValueError:
            raise app.UsageError(f"--region must be y0,x0,y1,x1 integers, got "
                                 f"{values.region!r}.") from None
        if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
            raise app.UsageError(f"--region {values.region} is not inside the {height}x{width} "
                                 "frame.")
        region = np.zeros((height, width), np.float32)
        region[y0:y1, x0:x1] = 1.0
        return region
    return None


def main(argv):
    values = flags.FLAGS
    cli.check_usage(argv, required=("checkpoint_dir", "first_frame"), values=values)
    # Imported here so that flag errors do not wait for TensorFlow.
    from seg2vid_tf.conversion import checkpoints  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.evaluation import motion_saliency  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.generation import inputs  # pylint: disable=import-outside-toplevel

    video_model = checkpoints.load_img2vid(values.checkpoint_dir, flag_name="checkpoint_dir")
    c = video_model.config
    label_map = None
    if values.label_map:
        label_map, _ = inputs.read_label_map(values.label_map, "train", c.height, c.width)
    frame = inputs.read_first_frame(values.first_frame, c.channels, c.height, c.width)
    region = _region_from_flags(values, label_map, c.height, c.width)
    result = motion_saliency.explain(video_model, frame, label_map, region, values.seed,
                                     values.smooth_samples)
    paths = motion_saliency.write_explanations(result, frame, values.output_dir)
    print(f"Mean predicted motion in the region: {result['score']:.3f} px")
    for path in paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
