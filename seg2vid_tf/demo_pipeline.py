"""`make demo-pipeline`: the whole seg2vid pipeline, from one held-out label map to a video.

    python -m seg2vid_tf.demo_pipeline --output_dir=demo_output [--label2image_steps=N]

Expects what `make demo` leaves in `output_dir`: the synthetic data
(`output_dir/data`) and the trained img2vid checkpoint (`output_dir/model`).
Then:

1. trains stage 1 (pix2pixHD, `configs/label2image_synthetic.cfg`) on the
   train split into `output_dir/label2image` (resuming if it is there);
2. takes the label map of the first val-split frame, which neither stage saw
   in training, paints the first frame from it, and predicts `--num_frames`
   frames (img2vid, latent from the prior keyed by `--seed`; beyond 4 frames
   the label map is warped along and the prediction restarts);
3. writes `output_dir/from_label_map.gif`: per frame, the (warped) label map
   colours | the painted first frame | the generated frame.
"""

import json
import os
import sys
import time

import numpy as np
from absl import app, flags

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FLAGFILE = os.path.join(_REPO, "configs", "label2image_synthetic.cfg")


def check_demo_outputs(output_dir):
    """The data and img2vid directories of `make demo`; FileNotFoundError if missing."""
    from seg2vid_tf import convert  # pylint: disable=import-outside-toplevel

    data_dir = os.path.join(output_dir, "data")
    model_dir = os.path.join(output_dir, "model")
    missing = []
    if not os.path.isfile(os.path.join(data_dir, "synthetic.json")):
        missing.append(f"the synthetic data ({data_dir})")
    if not (os.path.isfile(os.path.join(model_dir, convert.CONFIG_FILENAME))
            and os.path.isfile(os.path.join(model_dir, "checkpoint"))):
        missing.append(f"the img2vid checkpoint ({model_dir})")
    if missing:
        raise FileNotFoundError(
            f"Missing {' and '.join(missing)}. Run `make demo` first (with the same "
            f"DEMO_DIR / --output_dir={output_dir}).")
    return data_dir, model_dir


def stage1_config(data_dir, flagfile=DEFAULT_FLAGFILE, train_steps=None):
    """The stage-1 config from its flagfile (parsed apart from this command's flags)."""
    from seg2vid_tf.training import label2image  # pylint: disable=import-outside-toplevel

    values = flags.FlagValues()
    label2image.define_flags(values)
    argv = ["demo_pipeline", f"--flagfile={flagfile}", f"--data_dir={data_dir}"]
    if train_steps:
        argv.append(f"--train_steps={train_steps}")
    values(argv)
    return label2image.config_from_flags(values)


def held_out_label_path(data_dir):
    """The label PNG of the first val-split frame."""
    from seg2vid_tf.data import cityscapes  # pylint: disable=import-outside-toplevel

    return cityscapes.find_clips(data_dir, "val", num_frames=1)[0].label_path


def panels(result, index=0):
    """uint8 frames: (warped) label colours | painted first frame | generated frame."""
    from seg2vid_tf import visualization  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel

    video = visualization.to_uint8(result["video"][index])
    first = visualization.to_uint8(result["first_frame"][index])
    return np.stack([
        np.concatenate([synthetic.colorize_labels(result["label_maps"][index, t]), first,
                        video[t]], axis=1)
        for t in range(video.shape[0])])


def run_demo(output_dir, flagfile=DEFAULT_FLAGFILE, label2image_steps=None, num_frames=12,
             seed=0, progress=True):
    """Trains stage 1 and writes the video (the command's work); returns the summary dict.

    Raises:
        FileNotFoundError: `make demo`'s outputs are missing (saying to run it first).
    """
    from seg2vid_tf import generate, visualization  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import seg2vid  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import label2image  # pylint: disable=import-outside-toplevel

    start = time.time()
    output_dir = os.path.abspath(output_dir)
    data_dir, model_dir = check_demo_outputs(output_dir)
    config = stage1_config(data_dir, flagfile, label2image_steps)
    stage1_dir = os.path.join(output_dir, "label2image")
    print(f"[1/2] Training stage 1 (pix2pixHD) for {config.train_steps} steps "
          f"({config.height}x{config.width}, batch {config.batch_size}) into {stage1_dir}")
    terms = label2image.train(config, stage1_dir, progress=progress)
    pipeline = seg2vid.load_seg2vid(model_dir, stage1_dir)
    label_path = held_out_label_path(data_dir)
    print(f"[2/2] Generating {num_frames} frames from the held-out label map {label_path}")
    train_ids, _ = generate.read_label_map(label_path, "train", pipeline.height, pipeline.width)
    result = pipeline.generate(num_frames, seed, label_map=train_ids[None])
    frames = panels(result)
    gif = visualization.write_gif(os.path.join(output_dir, "from_label_map.gif"), frames, fps=4)
    summary = {"gif": gif, "label_map": label_path, "stage1_dir": stage1_dir,
               "stage1_losses": terms, "num_frames": num_frames, "seed": seed,
               "frames_shape": list(frames.shape), "minutes": (time.time() - start) / 60.0,
               "tensorboard": f"tensorboard --logdir {stage1_dir}"}
    with open(os.path.join(output_dir, "demo_pipeline.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    return summary


def main(argv):
    del argv
    values = flags.FLAGS
    try:
        summary = run_demo(values.output_dir, values.label2image_flagfile,
                           values.label2image_steps, values.num_frames, values.seed)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, sort_keys=True))
    print(f"Wrote {summary['gif']}: label map colours | painted first frame | generated frames.")
    return 0


def define_flags():
    flags.DEFINE_string("output_dir", "demo_output", "Directory of `make demo`'s outputs.")
    flags.DEFINE_string("label2image_flagfile", DEFAULT_FLAGFILE, "Stage-1 training config.")
    flags.DEFINE_integer("label2image_steps", None, "Overrides the stage-1 --train_steps.")
    flags.DEFINE_integer("num_frames", 12, "Frames generated after the painted first frame.")
    flags.DEFINE_integer("seed", 0, "Seed of the latent and the fill noise.")


if __name__ == "__main__":
    define_flags()
    sys.exit(app.run(main))
