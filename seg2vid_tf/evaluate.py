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
  ground-truth flow from the start frame to frame 1, over the valid
  (non-occluded, in-image) pixels. The model's forward flow lives on the
  predicted frame's pixels, so it is read where the ground truth says each
  start-frame pixel goes (`predicted_forward_flow`);
  `flow_epe_zero`: the same for the zero-flow baseline.
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from seg2vid_tf import convert
from seg2vid_tf.data import registry
from seg2vid_tf.ops.warp import dense_image_warp, normalized_to_pixel_flow
from seg2vid_tf.training import config as config_lib


def eval_dataset(config, split="val"):
    """Held-out clips of `config.dataset` in a fixed order, with flows where the data has them.

    Args:
        config: A `TrainConfig` (`dataset`, `data_dir`, `model`, `batch_size`, ...).
        split: "val"; KTH and UCF101 read their test split for it (see
            `seg2vid_tf.data.registry`).

    Returns:
        A `tf.data.Dataset` of dicts: `video`, `clip_id`, `label_map` for
        label-conditioned models, `flow`/`flow_valid` where available.
    """
    return registry.make_dataset(config, split, shuffle=False, with_flow="auto")


def _frame_metrics(prediction, truth):
    """PSNR and SSIM per frame, `[B, T, H, W, C]` in [0, 1] -> two `[B*T]` arrays."""
    prediction = tf.reshape(prediction, tf.concat([[-1], tf.shape(prediction)[2:]], axis=0))
    truth = tf.reshape(truth, tf.concat([[-1], tf.shape(truth)[2:]], axis=0))
    return (tf.image.psnr(prediction, truth, max_val=1.0).numpy(),
            tf.image.ssim(prediction, truth, max_val=1.0).numpy())


def predicted_forward_flow(flow, truth_flow):
    """The model's forward flow at the start-frame pixels of the ground truth, in pixels.

    The reference's forward flow `flow[t]` lives on the pixels of the predicted frame:
    `frame_t(p) = start(p - flow(p))`, so it is the displacement `p_t - p_0` of the
    point seen at `p_t`. The ground truth `F` lives on the start frame's pixels and
    sends `p_0` to `p_0 + F(p_0)`. The comparable prediction is therefore the model's
    flow read (bilinearly, clamped at the border) at `p_0 + F(p_0)`.

    Args:
        flow: `[B, H, W, 2]` predicted forward flow in normalized units (x first).
        truth_flow: `[B, H, W, 2]` ground-truth forward flow in pixels (dx, dy).

    Returns:
        `[B, H, W, 2]` NumPy array in pixels (dx, dy).
    """
    pixels = normalized_to_pixel_flow(flow)  # (dy, dx)
    truth = tf.convert_to_tensor(truth_flow, tf.float32)[..., ::-1]  # (dy, dx)
    # dense_image_warp samples at p - offset, so -F reads the flow at p + F(p).
    sampled = dense_image_warp(pixels, -truth, padding="border")
    return sampled.numpy()[..., ::-1]


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
            truth_flow = batch["flow"][:, 0].numpy()
            valid = batch["flow_valid"][:, 0].numpy()
            predicted = predicted_forward_flow(outputs["flow"][:, 0], truth_flow)
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
