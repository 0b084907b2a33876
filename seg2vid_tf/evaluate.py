"""Evaluation of an img2vid checkpoint on held-out clips.

    python -m seg2vid_tf.evaluate --flagfile=configs/synthetic.cfg \
        --data_dir=DIR --checkpoint_dir=DIR --output_json=metrics.json

Reconstruction mode: the latent is the posterior mean of the motion encoders
on the held-out clip (the paper's reconstruction setting), the fill noise is
zero. Reported, averaged over the val split:

* `psnr`, `ssim`: of the predicted frames against the ground truth (SSIM with
  TensorFlow's 11x11 Gaussian window, images in [0, 1]);
* `psnr_copy_first_frame`, `ssim_copy_first_frame`: the same for the baseline
  that repeats the start frame;
* `flow_epe` (where the data has ground-truth flow, e.g. synthetic): mean
  endpoint error in pixels of the first predicted forward flow against the
  ground-truth flow from the start frame to frame 1, over valid pixels;
  `flow_epe_zero`: the same for the zero-flow baseline.
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from seg2vid_tf import convert
from seg2vid_tf.data import cityscapes
from seg2vid_tf.ops.warp import normalized_to_pixel_flow
from seg2vid_tf.training import config as config_lib


def eval_dataset(config, split="val"):
    clips = cityscapes.find_clips(config.data_dir, split, num_frames=config.model.num_frames)
    return cityscapes.make_dataset(clips, height=config.model.height, width=config.model.width,
                                   batch_size=config.batch_size, shuffle=False)


def _frame_metrics(prediction, truth):
    """PSNR and SSIM per frame, `[B, T, H, W, C]` in [0, 1] -> two `[B*T]` arrays."""
    prediction = tf.reshape(prediction, tf.concat([[-1], tf.shape(prediction)[2:]], axis=0))
    truth = tf.reshape(truth, tf.concat([[-1], tf.shape(truth)[2:]], axis=0))
    return (tf.image.psnr(prediction, truth, max_val=1.0).numpy(),
            tf.image.ssim(prediction, truth, max_val=1.0).numpy())


def evaluate_model(model, config, split="val", max_batches=None):
    """Metrics of `model` on `split` (see module docstring); a dict of floats."""
    sums = {}

    def add(key, values):
        total, count = sums.get(key, (0.0, 0))
        sums[key] = (total + float(np.sum(values)), count + int(np.size(values)))

    for index, batch in enumerate(eval_dataset(config, split)):
        if max_batches is not None and index >= max_batches:
            break
        video = batch["video"]
        label_map = batch.get("label_map")
        mu, _ = model.encode_motion(video, label_map, training=False)
        inputs = {"video": video[:, :1], "z": mu, "noise": tf.zeros_like(video[:, 0])}
        if label_map is not None:
            inputs["label_map"] = label_map
        outputs = model(inputs, training=False)
        truth = video[:, 1:]
        psnr, ssim = _frame_metrics(outputs["frames"], truth)
        add("psnr", psnr)
        add("ssim", ssim)
        copy = tf.repeat(video[:, :1], truth.shape[1], axis=1)
        psnr, ssim = _frame_metrics(copy, truth)
        add("psnr_copy_first_frame", psnr)
        add("ssim_copy_first_frame", ssim)
        if "flow" in batch:
            predicted = normalized_to_pixel_flow(outputs["flow"][:, 0]).numpy()[..., ::-1]
            truth_flow = batch["flow"][:, 0].numpy()
            valid = batch["flow_valid"][:, 0].numpy()
            add("flow_epe", np.linalg.norm(predicted - truth_flow, axis=-1)[valid])
            add("flow_epe_zero", np.linalg.norm(truth_flow, axis=-1)[valid])
    if not sums:
        raise ValueError(f"No clips evaluated in split {split!r} of {config.data_dir}.")
    metrics = {key: total / max(count, 1) for key, (total, count) in sums.items()}
    metrics["num_frames_evaluated"] = sums["psnr"][1]
    return metrics


def main(argv):
    del argv
    values = flags.FLAGS
    for name in ("data_dir", "checkpoint_dir", "output_json"):
        if not getattr(values, name):
            raise app.UsageError(f"--{name} is required.")
    config = config_lib.config_from_flags()
    model = convert.load_img2vid(values.checkpoint_dir, height=config.model.height,
                                 width=config.model.width)
    metrics = evaluate_model(model, config)
    metrics["protocol"] = ("reconstruction mode (posterior mean latent, zero fill noise); PSNR/SSIM "
                           "per predicted frame in [0, 1]; flow EPE in pixels on frame 1, valid pixels")
    os.makedirs(os.path.dirname(os.path.abspath(values.output_json)), exist_ok=True)
    with open(values.output_json, "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2, sort_keys=True)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    config_lib.define_flags()
    sys.exit(app.run(main))
