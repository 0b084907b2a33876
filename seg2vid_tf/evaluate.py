"""Evaluation of an img2vid checkpoint or an exported SavedModel on held-out clips.

    python -m seg2vid_tf.evaluate --flagfile=configs/synthetic.cfg --data_dir=DIR \
        --checkpoint_dir=DIR --output_json=metrics.json [--report_dir=DIR] \
        [--num_samples=K] [--i3d_module=PATH] [--inception_weights=PATH]
    python -m seg2vid_tf.evaluate ... --saved_model_dir=models/seg2vid/1   # an export
    python -m seg2vid_tf.evaluate ... --num_frames=24   # long videos (data of >= 25 frames)

Two modes, next to the copy-the-start-frame and zero-flow baselines:

* **Reconstruction** (checkpoints only: an export has no motion encoder): the
  latent is the posterior mean of the motion encoders on the held-out clip
  (the paper's reconstruction setting), the fill noise is zero. Top-level keys
  `psnr`, `ssim`, `flow_epe` and their `*_per_frame` arrays.
* **Generation** (`--num_samples=K` > 0): K latents from the prior per clip,
  each with its own seed (and the fill noise keyed by it, exactly as
  `Seg2Vid.generate` and the exported signatures do), under `generation`:
  the mean over samples and the best of K per clip (highest PSNR / SSIM,
  lowest EPE, each chosen separately); `psnr_prior` and `best_of_k_psnr` repeat
  the mean and best-of-K PSNR at the top level.
* **Diversity** (`seg2vid_tf.evaluation.diversity`): `sample_diversity_l1`,
  `latent_active_dims`, `speed_spearman` (synthetic data with its motion
  record) and `prior_speed_coverage`: does the motion latent carry the motion?

Metrics (`seg2vid_tf.metrics`): PSNR and SSIM per predicted frame in [0, 1]
(TensorFlow's 11x11 Gaussian SSIM; infinite PSNRs of identical frames are left
out of the means and counted in `psnr_infinite_frames`); `flow_epe`, the
endpoint error in pixels of the first predicted forward flow against the
ground-truth flow from the start frame to frame 1 over its valid pixels, read
where the ground truth sends each start pixel (`predicted_forward_flow`);
with `--i3d_module`, FVD (`metrics.fvd.FVD_PROTOCOL`, whole clips: the start
frame and the predicted frames); with `--inception_weights`, FID of the
predicted frames (`metrics.fid.FID_PROTOCOL`). Both name their protocol in the
output, since papers differ.

**Long horizon** (`--num_frames=N` given, beyond the model's T, held-out sequences
of at least N + 1 frames; `seg2vid_tf.evaluation.long_horizon`): one N-frame rollout per
held-out sequence, from its real first frame and, with
`--label2image_checkpoint_dir`, from its label map (`long_from_label_map`): the
`long_*_per_frame` curves (PSNR, carried label map, FCN-score, sharpness) next to
copying the first frame / map and the segmenter on the real frames.

With `--report_dir`: `report.html` with the table, per-frame plots and GIF grids
(start | prediction | ground truth | flow | mask) of a few clips, the flow
legend, and `metrics.json`.
"""

import dataclasses
import json
import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf import command_flags
from seg2vid_tf import metrics as metrics_lib
from seg2vid_tf import report as report_lib
from seg2vid_tf import visualization
from seg2vid_tf.data import registry
from seg2vid_tf.evaluation import diversity as diversity_lib
from seg2vid_tf.models import config as model_config
from seg2vid_tf.models.seg2vid import seeded_normal
from seg2vid_tf.ops.warp import dense_image_warp, normalized_to_pixel_flow
from seg2vid_tf.training import config as config_lib

REPORT_CLIPS = 4
PROTOCOL = ("reconstruction: posterior-mean latent, zero fill noise; generation: prior latents "
            "and fill noise keyed by per-sample seeds; PSNR/SSIM per predicted frame in [0, 1] "
            "(11x11 Gaussian SSIM), infinite PSNRs left out of means; flow EPE in pixels on "
            "frame 1 over valid pixels (pixel-weighted)")


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
    return _read_at_destination(pixels[..., ::-1], truth_flow)


def _read_at_destination(pixel_flow, truth_flow):
    """`pixel_flow` (dx, dy) read at `p + truth(p)`; see `predicted_forward_flow`."""
    truth = tf.convert_to_tensor(truth_flow, tf.float32)[..., ::-1]  # (dy, dx)
    pixels = tf.convert_to_tensor(pixel_flow, tf.float32)[..., ::-1]
    # dense_image_warp samples at p - offset, so -F reads the flow at p + F(p).
    sampled = dense_image_warp(pixels, -truth, padding="border")
    return sampled.numpy()[..., ::-1]


# --------------------------------------------------------------------------- predictors
class CheckpointPredictor:
    """Reconstruction and generation with a Keras `Img2Vid`."""

    can_reconstruct = True

    def __init__(self, model):
        self.model = model
        self.config = model.config

    def _run(self, video, label_map, z, noise):
        inputs = {"video": video[:, :1], "z": z, "noise": noise}
        if label_map is not None:
            inputs["label_map"] = label_map
        outputs = self.model(inputs, training=False)
        flow = outputs["flow"]
        merged = tf.reshape(flow, [-1] + flow.shape[2:].as_list())
        pixels = tf.reshape(normalized_to_pixel_flow(merged), tf.shape(flow))
        return {"frames": outputs["frames"].numpy(), "flow": pixels.numpy()[..., ::-1],
                "mask_fw": outputs["mask_fw"].numpy()}

    def reconstruct(self, video, label_map):
        mu, _ = self.model.encode_motion(video, label_map, training=False)
        return dict(self._run(video, label_map, mu, tf.zeros_like(video[:, 0])),
                    latent=mu.numpy())

    def sample(self, video, label_map, seeds):
        c = self.config
        z = seeded_normal(seeds, [c.latent_rows, model_config.LATENT_ROW], stream=0)
        noise = seeded_normal(seeds, [c.height, c.width, c.channels], stream=1)
        return self._run(video, label_map, z, noise)


class SavedModelPredictor:
    """Generation with an exported SavedModel's `img2vid` signature (no reconstruction)."""

    can_reconstruct = False

    def __init__(self, export_dir, flag_name="saved_model_dir"):
        if not export_dir or not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
            raise FileNotFoundError(f"No SavedModel (saved_model.pb) in {export_dir!r} "
                                    f"(--{flag_name}); give a version directory such as "
                                    "models/seg2vid/1.")
        self.signature = tf.saved_model.load(export_dir).signatures["img2vid"]
        _, specs = self.signature.structured_input_signature
        self.uses_labels = "label_map" in specs

    def sample(self, video, label_map, seeds):
        start = tf.cast(tf.round(tf.clip_by_value(video[:, 0], 0.0, 1.0) * 255.0), tf.uint8)
        channels = video.shape[-1]
        if channels == 1:
            start = tf.repeat(start, 3, axis=-1)
        inputs = {"first_frame": start, "seed": tf.constant(seeds, tf.int64)}
        if self.uses_labels:
            inputs["label_map"] = tf.cast(label_map, tf.int32)
        outputs = self.signature(**inputs)
        count = video.shape[1] - 1
        if outputs["flow"].shape[1] < count:
            raise ValueError(f"The export predicts {outputs['flow'].shape[1]} frames; the clips "
                             f"need {count} (export again with --num_frames={count}).")
        frames = tf.cast(outputs["frames"][:, 1:count + 1], tf.float32) / 255.0
        if channels == 1:
            frames = tf.image.rgb_to_grayscale(frames)
        return {"frames": frames.numpy(), "flow": outputs["flow"][:, :count].numpy(),
                "mask_fw": 1.0 - outputs["occlusion"][:, :count].numpy()}


# --------------------------------------------------------------------------- accumulation
class _Accumulator:
    """Per-clip, per-frame metric rows of one mode, plus pixel-weighted flow errors."""

    def __init__(self):
        self.psnr, self.ssim = [], []
        self.epe_sums, self.epe_counts = [], []

    def add(self, prediction, truth, flow=None, truth_flow=None, valid=None):
        self.psnr.append(metrics_lib.psnr_per_frame(prediction, truth))
        self.ssim.append(metrics_lib.ssim_per_frame(prediction, truth))
        if truth_flow is not None:
            predicted = _read_at_destination(flow[:, 0], truth_flow)
            errors = np.linalg.norm(predicted - truth_flow, axis=-1)
            self.epe_sums.append(np.where(valid, errors, 0.0).sum(axis=(1, 2)))
            self.epe_counts.append(valid.sum(axis=(1, 2)))

    def arrays(self):
        result = {"psnr": np.concatenate(self.psnr), "ssim": np.concatenate(self.ssim)}
        if self.epe_sums:
            result["epe_sum"] = np.concatenate(self.epe_sums)
            result["epe_count"] = np.concatenate(self.epe_counts)
        return result


def _summary(arrays, prefix=""):
    """Scalar means and per-frame means of `_Accumulator.arrays()`."""
    psnr_mean, infinite = metrics_lib.finite_mean(arrays["psnr"])
    result = {
        f"{prefix}psnr": psnr_mean,
        f"{prefix}ssim": float(np.mean(arrays["ssim"])),
        f"{prefix}psnr_per_frame": [metrics_lib.finite_mean(column)[0]
                                    for column in arrays["psnr"].T],
        f"{prefix}ssim_per_frame": [float(value) for value in arrays["ssim"].mean(axis=0)],
    }
    if infinite:
        result[f"{prefix}psnr_infinite_frames"] = infinite
    if "epe_sum" in arrays:
        result[f"{prefix}flow_epe"] = float(arrays["epe_sum"].sum()
                                            / max(arrays["epe_count"].sum(), 1))
    return result


def _best_of_k(samples):
    """Per clip, the best sample by mean PSNR, by mean SSIM and by EPE; their summaries."""
    psnr = np.stack([arrays["psnr"] for arrays in samples])  # [K, N, T]
    ssim = np.stack([arrays["ssim"] for arrays in samples])
    clip_psnr = np.where(np.isfinite(psnr), psnr, 1e9).mean(axis=2)
    best_psnr = psnr[np.argmax(clip_psnr, axis=0), np.arange(psnr.shape[1])]
    best_ssim = ssim[np.argmax(ssim.mean(axis=2), axis=0), np.arange(ssim.shape[1])]
    result = _summary({"psnr": best_psnr, "ssim": best_ssim}, prefix="best_of_k_")
    if "epe_sum" in samples[0]:
        sums = np.stack([arrays["epe_sum"] for arrays in samples])  # [K, N]
        counts = samples[0]["epe_count"]
        per_clip = sums / np.maximum(counts, 1)
        best = per_clip.min(axis=0)
        result["best_of_k_flow_epe"] = float((best * counts).sum() / max(counts.sum(), 1))
    return result


def evaluate_model(model, config, split="val", max_batches=None, num_samples=0, seed=0,
                   fvd_network=None, fid_network=None, keep_clips=0):
    """Metrics of a model on `split` (see the module docstring).

    Args:
        model: A Keras `Img2Vid`, or a predictor (`CheckpointPredictor`,
            `SavedModelPredictor`).
        config: A `TrainConfig`.
        split: The split to read.
        max_batches: Stop after this many batches (None: all).
        num_samples: K prior samples per clip for the generation mode (0: none).
        seed: Base of the per-sample seeds (`seed * 1_000_003 + clip * K + k`).
        fvd_network: Optional I3D (`metrics.load_i3d`) for FVD.
        fid_network: Optional InceptionV3 (`metrics.load_inception`) for FID.
        keep_clips: Also return the first `keep_clips` clips and their predictions
            (for pictures), under the key `_clips`.

    Returns:
        dict: the metrics (floats, per-frame lists, a `generation` dict).

    Raises:
        ValueError: No clip in the split, or a predictor that can do neither mode.
    """
    predictor = CheckpointPredictor(model) if hasattr(model, "encode_motion") else model
    if not predictor.can_reconstruct and num_samples < 1:
        raise ValueError("An exported SavedModel can only be evaluated in generation mode: "
                         "set --num_samples >= 1.")
    reconstruction, copy = _Accumulator(), _Accumulator()
    zero_sums, zero_counts = [], []
    samples = [_Accumulator() for _ in range(num_samples)]
    diversity = diversity_lib.DiversityAccumulator()
    real_videos, generated_videos, reconstructed_videos = [], [], []
    kept = []
    clip_index = 0
    for index, batch in enumerate(eval_dataset(config, split)):
        if max_batches is not None and index >= max_batches:
            break
        video = batch["video"]
        label_map = batch.get("label_map")
        truth = video[:, 1:].numpy()
        has_flow = "flow" in batch
        truth_flow = batch["flow"][:, 0].numpy() if has_flow else None
        valid = batch["flow_valid"][:, 0].numpy() if has_flow else None
        start = video[:, :1].numpy()
        copy.add(np.repeat(start, truth.shape[1], axis=1), truth)
        if has_flow:
            zero_sums.append(np.where(valid, np.linalg.norm(truth_flow, axis=-1), 0).sum((1, 2)))
            zero_counts.append(valid.sum(axis=(1, 2)))
        predictions, sample_outputs = {}, []
        if predictor.can_reconstruct:
            predictions["reconstruction"] = predictor.reconstruct(video, label_map)
            out = predictions["reconstruction"]
            reconstruction.add(out["frames"], truth, out["flow"], truth_flow, valid)
            reconstructed_videos.append(np.concatenate([start, out["frames"]], axis=1))
        batch_size = video.shape[0]
        for k in range(num_samples):
            seeds = [seed * 1_000_003 + (clip_index + row) * num_samples + k
                     for row in range(batch_size)]
            out = predictor.sample(video, label_map, seeds)
            samples[k].add(out["frames"], truth, out["flow"], truth_flow, valid)
            sample_outputs.append(out)
            if k == 0:
                predictions["generation"] = out
                generated_videos.append(np.concatenate([start, out["frames"]], axis=1))
        reconstructed = predictions.get("reconstruction", {})
        diversity.add(batch["clip_id"].numpy(), reconstructed.get("latent"),
                      reconstructed.get("flow"), [out["frames"] for out in sample_outputs],
                      [out["flow"] for out in sample_outputs],
                      batch["flow"].numpy() if has_flow else None,
                      batch["flow_valid"].numpy() if has_flow else None)
        real_videos.append(video.numpy())
        for row in range(batch_size):
            if len(kept) < keep_clips:
                kept.append({"video": video.numpy()[row],
                             "predictions": {mode: {key: value[row] for key, value in out.items()}
                                             for mode, out in predictions.items()}})
        clip_index += batch_size
    if clip_index == 0:
        raise ValueError(f"No clips evaluated in split {split!r} of {config.data_dir}.")

    result = {}
    if predictor.can_reconstruct:
        result.update(_summary(reconstruction.arrays()))
    copy_summary = _summary(copy.arrays(), prefix="copy_first_frame_")
    # The names of the training issue: psnr_copy_first_frame, ssim_copy_first_frame.
    result["psnr_copy_first_frame"] = copy_summary["copy_first_frame_psnr"]
    result["ssim_copy_first_frame"] = copy_summary["copy_first_frame_ssim"]
    result["psnr_copy_first_frame_per_frame"] = copy_summary["copy_first_frame_psnr_per_frame"]
    result["ssim_copy_first_frame_per_frame"] = copy_summary["copy_first_frame_ssim_per_frame"]
    if zero_sums:
        result["flow_epe_zero"] = float(np.concatenate(zero_sums).sum()
                                        / max(np.concatenate(zero_counts).sum(), 1))
    result["num_clips"] = clip_index
    result["num_frames_evaluated"] = int(clip_index * (real_videos[0].shape[1] - 1))
    if num_samples:
        arrays = [accumulator.arrays() for accumulator in samples]
        mean_of_k = {key: np.mean([a[key] for a in arrays], axis=0) for key in ("psnr", "ssim")}
        generation = {"num_samples": num_samples}
        # The mean over samples, per clip and frame (infinite PSNRs kept out per sample).
        psnr_stack = np.stack([a["psnr"] for a in arrays])
        finite = np.where(np.isfinite(psnr_stack), psnr_stack, np.nan)
        mean_of_k["psnr"] = np.nanmean(finite, axis=0)
        if "epe_sum" in arrays[0]:
            mean_of_k["epe_sum"] = np.mean([a["epe_sum"] for a in arrays], axis=0)
            mean_of_k["epe_count"] = arrays[0]["epe_count"]
        generation.update(_summary(mean_of_k, prefix="mean_"))
        generation.update(_best_of_k(arrays))
        result["generation"] = generation
        # The diversity issue's names: prior samples' mean PSNR and the best of K, top level.
        result["psnr_prior"] = generation["mean_psnr"]
        result["best_of_k_psnr"] = generation["best_of_k_psnr"]
    speeds = None
    if config.dataset == "synthetic":
        speeds = diversity_lib.camera_speeds(config.data_dir, registry.reader_split(
            config.dataset, split), diversity.clip_ids, real_videos[0].shape[1] - 1)
    result.update(diversity.summary(speeds))
    real = np.concatenate(real_videos)
    if fvd_network is not None:
        fvd = {"protocol": metrics_lib.FVD_PROTOCOL + " Whole clips (start frame included).",
               "copy_first_frame": metrics_lib.fvd(
                   fvd_network, real, np.repeat(real[:, :1], real.shape[1], axis=1))}
        if reconstructed_videos:
            fvd["reconstruction"] = metrics_lib.fvd(fvd_network, real,
                                                    np.concatenate(reconstructed_videos))
        if generated_videos:
            fvd["generation"] = metrics_lib.fvd(fvd_network, real,
                                                np.concatenate(generated_videos))
        result["fvd"] = fvd
    if fid_network is not None:
        real_frames = real[:, 1:].reshape((-1,) + real.shape[2:])
        fid = {"protocol": metrics_lib.FID_PROTOCOL + " Predicted frames 1..T."}
        for name, videos in (("reconstruction", reconstructed_videos),
                             ("generation", generated_videos)):
            if videos:
                frames = np.concatenate(videos)[:, 1:]
                fid[name] = metrics_lib.fid(fid_network, real_frames,
                                            frames.reshape((-1,) + frames.shape[2:]))
        result["fid"] = fid
    result["protocol"] = PROTOCOL
    if keep_clips:
        result["_clips"] = kept
    return result


# --------------------------------------------------------------------------- report
def write_report(report_dir, metrics, clips, fps=3):
    """The HTML report of `evaluate_model(..., keep_clips=n)` (see `seg2vid_tf.report`)."""
    os.makedirs(report_dir, exist_ok=True)
    gifs = []
    for number, clip in enumerate(clips):
        video = clip["video"]
        for mode, prediction in clip["predictions"].items():
            frames = visualization.comparison_frames(video[0], prediction["frames"],
                                                     prediction["flow"], prediction["mask_fw"],
                                                     video[1:])
            path = visualization.write_gif(
                os.path.join(report_dir, f"clip{number}_{mode}.gif"), frames, fps=fps)
            gifs.append((f"clip {number}, {mode}", path))
    legend = os.path.join(report_dir, "flow_legend.png")
    from PIL import Image  # pylint: disable=import-outside-toplevel
    Image.fromarray(visualization.color_wheel_legend(64)).save(legend)
    charts = []
    for name, label in (("psnr", "PSNR (dB)"), ("ssim", "SSIM")):
        series = {}
        if f"{name}_per_frame" in metrics:
            series["reconstruction"] = metrics[f"{name}_per_frame"]
        generation = metrics.get("generation", {})
        if f"mean_{name}_per_frame" in generation:
            series["generation, mean of K"] = generation[f"mean_{name}_per_frame"]
            series["generation, best of K"] = generation[f"best_of_k_{name}_per_frame"]
        series["copy the start frame"] = metrics[f"{name}_copy_first_frame_per_frame"]
        charts.append((f"{name.upper()} per predicted frame", label, series))
    return report_lib.write_report(report_dir, metrics, charts, gifs, legend)


def add_long_horizon_section(report_path, metrics, videos):
    """Puts the long-horizon curves and videos into the report at `report_path`."""
    from seg2vid_tf.evaluation import long_horizon  # pylint: disable=import-outside-toplevel

    section = long_horizon.write_report_section(os.path.dirname(report_path), metrics, videos)
    with open(report_path, encoding="utf-8") as handle:
        page = handle.read()
    with open(report_path, "w", encoding="utf-8") as handle:
        handle.write(page.replace("<h2>Per frame</h2>", section + "<h2>Per frame</h2>", 1))


def write_stage1_report(report_dir, metrics, first_frames):
    """The report of a stage-1-only evaluation: the metric table and a picture grid.

    Args:
        report_dir: Output directory.
        metrics: The metrics (stage-1 keys).
        first_frames: `label_map_metrics(..., keep_first_frames=n)["_first_frames"]`.

    Returns:
        The path of `report.html`.
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel
    from seg2vid_tf import labels  # pylint: disable=import-outside-toplevel

    os.makedirs(report_dir, exist_ok=True)
    rows = [np.concatenate([labels.colorize(label_map), visualization.to_uint8(painted),
                            visualization.to_uint8(real)], axis=1)
            for label_map, painted, real in zip(first_frames["label_maps"],
                                                first_frames["painted"], first_frames["real"])]
    path = os.path.join(report_dir, "first_frames.png")
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    return report_lib.write_report(
        report_dir, metrics, [], [("held-out label maps", path)],
        title="seg2vid stage-1 evaluation", heading="First frames",
        caption="Columns: label map colours | painted by stage 1 | real frame.")


# --------------------------------------------------------------------------- command line
def define_flags():
    """The evaluation flags beside the training ones (idempotent)."""
    config_lib.define_flags()
    new = (
        ("string", "output_json", None, "Where the metrics JSON is written."),
        ("string", "report_dir", None, "Where report.html, its plots and GIFs are written."),
        ("string", "saved_model_dir", None, "Evaluate this exported SavedModel version "
                                            "directory (generation mode) instead of a checkpoint."),
        ("integer", "num_samples", 0, "Prior samples per clip for the generation mode (0: off)."),
        ("string", "i3d_module", None, "Local TF Hub I3D (Kinetics-400) module directory: "
                                       "enables FVD."),
        ("string", "inception_weights", None, "Local InceptionV3 weights (.h5, no top) or a "
                                              ".keras feature model: enables FID."),
        ("integer", "max_eval_batches", None, "Evaluate at most this many batches."),
        ("string", "label2image_checkpoint_dir", None,
         "Stage-1 (pix2pixHD) checkpoint directory: adds the label-map metrics (first-frame "
         "PSNR, FCN-score, Fréchet segmenter distance, and with --checkpoint_dir the FCN-score "
         "of whole videos generated from label maps)."),
        ("string", "segmenter_checkpoint_dir", None,
         "The FCN-score segmenter (`train_segmenter`); the segmenter shipped with the demo "
         "weights (trained on the synthetic data) when not given."),
    )
    for kind, name, default, help_text in new:
        command_flags.define_flag(kind, name, default, help_text)
    command_flags.define_rollout_flags()


def load_segmenter(segmenter_checkpoint_dir):
    """The FCN-score segmenter: from a directory, or the one shipped with the demo weights."""
    if segmenter_checkpoint_dir:
        from seg2vid_tf.training import segmenter  # pylint: disable=import-outside-toplevel

        return segmenter.load_segmenter(segmenter_checkpoint_dir), segmenter_checkpoint_dir
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel

    return (demo_weights.load_shipped("segmenter", flag_name="segmenter_checkpoint_dir"),
            f"shipped demo segmenter ({demo_weights.DEFAULT_DIR})")


def label_map_metrics(painter, video_model, segmenter, data_dir, height, width, seed=0,
                      keep_videos=0, keep_first_frames=0):
    """Stage-1 metrics and, with a video model, the FCN-score of videos from label maps.

    Args:
        painter: The stage-1 generator.
        video_model: An `Img2Vid`, or None for the stage-1 metrics alone.
        segmenter: The FCN-score segmenter.
        data_dir: The held-out data (its val split is scored).
        height, width: The size the frames are painted at.
        seed: Base of the per-video latent seeds.
        keep_videos: Videos kept under `_videos` for pictures.
        keep_first_frames: Painted first frames kept under `_first_frames`.
    """
    from seg2vid_tf.evaluation import label_maps  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import seg2vid  # pylint: disable=import-outside-toplevel

    def paint(label_map):
        image = painter(seg2vid.painter_input(tf.convert_to_tensor(label_map, tf.int32),
                                              painter.config.input_channels), training=False)
        return tf.clip_by_value((image + 1.0) * 0.5, 0.0, 1.0).numpy()

    result = label_maps.evaluate_label2image(paint, height, width, segmenter, data_dir,
                                             keep=keep_first_frames)
    if video_model is not None:
        pipeline = seg2vid.Seg2Vid(video_model, painter)
        result.update(label_maps.evaluate_videos_from_label_maps(
            pipeline, segmenter, data_dir, seed=seed, keep=keep_videos))
    return result


def long_horizon_metrics(video_model, painter, segmenter, data_dir, num_frames, seed=0, keep=0,
                         rollout_options=None):
    """The long-horizon curves (`seg2vid_tf.evaluation.long_horizon`) of `--num_frames=N`.

    N counts the frames predicted after the first; the held-out sequences need N + 1. When
    they have exactly N, `--num_frames` is the data's own setting from a shared flagfile
    (`configs/synthetic.cfg`: 9 frames per sequence), not a request: nothing is measured and
    `long_horizon_note` says so.

    Args:
        video_model: The `Img2Vid`.
        painter: The stage-1 generator, or None; with it the curves from the label map are
            added under `long_from_label_map`.
        segmenter: The FCN-score segmenter.
        data_dir: The held-out data (val split).
        num_frames: N.
        seed: Base of the per-video latent seeds.
        keep: Videos kept under `_videos` (from the real first frame).
        rollout_options: `RolloutOptions` (the reference's when None).

    Raises:
        ValueError: When the sequences are shorter than N frames (named).
    """
    from seg2vid_tf.evaluation import label_maps, long_horizon  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import seg2vid  # pylint: disable=import-outside-toplevel

    pipeline = seg2vid.Seg2Vid(video_model, painter, rollout_options or seg2vid.RolloutOptions())
    sequences = label_maps.labelled_sequences(data_dir, "val", pipeline.height, pipeline.width)
    if long_horizon.sequence_length(sequences) == num_frames:
        return {"long_horizon_note": (
            f"--num_frames={num_frames} equals the held-out sequences' length (the data "
            f"setting); the long-horizon curves need sequences of N + 1 frames for "
            f"--num_frames=N")}
    result = long_horizon.evaluate_long_horizon(pipeline, segmenter, data_dir, num_frames,
                                                seed=seed, keep=keep, sequences=sequences)
    result["long_rollout"] = pipeline.rollout_options.to_dict()
    if painter is not None:
        painted = long_horizon.evaluate_long_horizon(pipeline, segmenter, data_dir, num_frames,
                                                     from_label_map=True, seed=seed,
                                                     sequences=sequences)
        result["long_from_label_map"] = {key: painted[key] for key in long_horizon.KEYS}
    return result


def _check_flags(values):
    if not values.data_dir:
        raise app.UsageError("--data_dir is required.")
    if not values.output_json and not values.report_dir:
        raise app.UsageError("Give --output_json and/or --report_dir.")
    if values.checkpoint_dir and values.saved_model_dir:
        raise app.UsageError("Give only one of --checkpoint_dir and --saved_model_dir.")
    if not (values.checkpoint_dir or values.saved_model_dir or values.label2image_checkpoint_dir):
        raise app.UsageError("Give --checkpoint_dir (img2vid), --saved_model_dir (an export) "
                             "and/or --label2image_checkpoint_dir (stage 1).")
    if values.num_samples < 0:
        raise app.UsageError(f"--num_samples must be >= 0, got {values.num_samples}.")
    if values.repaint_weight > 0 and not values.label2image_checkpoint_dir:
        raise app.UsageError("--repaint_weight > 0 repaints with stage 1: set "
                             "--label2image_checkpoint_dir.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    _check_flags(values)
    from seg2vid_tf import convert  # pylint: disable=import-outside-toplevel

    config = config_lib.config_from_flags(check_weights=False)
    metrics, clips = {}, []
    try:
        model = None
        if values.saved_model_dir:
            model = SavedModelPredictor(values.saved_model_dir)
        elif values.checkpoint_dir:
            model = convert.load_img2vid(values.checkpoint_dir, height=config.model.height,
                                         width=config.model.width, precision=config.precision)
            config = dataclasses.replace(config, model=model.config)
        if model is not None:
            fvd_network = metrics_lib.load_i3d(values.i3d_module) if values.i3d_module else None
            fid_network = (metrics_lib.load_inception(values.inception_weights)
                           if values.inception_weights else None)
            metrics = evaluate_model(model, config, max_batches=values.max_eval_batches,
                                     num_samples=values.num_samples, seed=values.seed,
                                     fvd_network=fvd_network, fid_network=fid_network,
                                     keep_clips=REPORT_CLIPS if values.report_dir else 0)
            clips = metrics.pop("_clips", [])
        if values.label2image_checkpoint_dir:
            painter = convert.load_label2image(values.label2image_checkpoint_dir)
            segmenter, segmenter_source = load_segmenter(values.segmenter_checkpoint_dir)
            metrics.update(label_map_metrics(
                painter, model if values.checkpoint_dir else None, segmenter, config.data_dir,
                config.model.height, config.model.width, seed=values.seed,
                keep_first_frames=REPORT_CLIPS if values.report_dir else 0))
            metrics["segmenter"] = segmenter_source
        if (values.checkpoint_dir and values["num_frames"].present
                and values.num_frames > model.config.num_predicted_frames):
            painter = (convert.load_label2image(values.label2image_checkpoint_dir)
                       if values.label2image_checkpoint_dir else None)
            metrics.update(long_horizon_metrics(
                model, painter, load_segmenter(values.segmenter_checkpoint_dir)[0],
                config.data_dir, values.num_frames, seed=values.seed,
                keep=REPORT_CLIPS if values.report_dir else 0,
                rollout_options=command_flags.rollout_options(values)))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except tf.errors.OpError as error:
        # A corrupt file of the evaluation split: name it (the decoders do not).
        named = registry.explain_data_error(error, config, splits=("val",))
        if named is None:
            raise
        print(f"error: {named}", file=sys.stderr)
        return 1
    first_frames = metrics.pop("_first_frames", None)
    long_videos = metrics.pop("_videos", None)
    if values.output_json:
        os.makedirs(os.path.dirname(os.path.abspath(values.output_json)), exist_ok=True)
        with open(values.output_json, "w", encoding="utf-8") as handle:
            json.dump(metrics, handle, indent=2, sort_keys=True)
    if values.report_dir and clips:
        path = write_report(values.report_dir, metrics, clips)
        if long_videos is not None:
            add_long_horizon_section(path, metrics, long_videos)
        print(f"Report: {path}")
    elif values.report_dir and first_frames:
        print(f"Report: {write_stage1_report(values.report_dir, metrics, first_frames)}")
    print(json.dumps({key: value for key, value in metrics.items()
                      if not key.endswith("_per_frame")}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
