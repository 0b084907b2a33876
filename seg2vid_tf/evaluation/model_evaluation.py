"""The evaluation of an img2vid model on held-out clips (`evaluate_model`).

The modes and keys are those `python -m seg2vid_tf.evaluate` documents:
reconstruction from the posterior-mean latent (checkpoints only), generation
from K prior latents keyed by per-sample seeds (`generation`: the mean of K
and the best of K per clip), the copy-the-start-frame and zero-flow
baselines, the diversity of the samples (`seg2vid_tf.evaluation.diversity`),
and with the networks given FVD over whole clips and FID over the predicted
frames, each naming its protocol. The frame metrics are those of
`seg2vid_tf.evaluation.frame_metrics`.
"""

import numpy as np

from seg2vid_tf import metrics as metrics_lib
from seg2vid_tf.data import registry
from seg2vid_tf.evaluation import diversity as diversity_lib
from seg2vid_tf.evaluation.frame_metrics import Accumulator, best_of_k, summary
from seg2vid_tf.evaluation.predictors import CheckpointPredictor

PROTOCOL = ("reconstruction: posterior-mean latent, zero fill noise; generation: prior latents "
            "and fill noise keyed by per-sample seeds; PSNR/SSIM per predicted frame in [0, 1] "
            "(11x11 Gaussian SSIM), infinite PSNRs left out of means; flow EPE in pixels on "
            "frame 1 over valid pixels (pixel-weighted)")


def eval_dataset(config, split="val"):
    """The clips of one split of `config.dataset` in a fixed order, with flows where there are.

    Args:
        config: A `TrainConfig` (`dataset`, `data_dir`, `model`, `batch_size`, ...).
        split: "val", the held-out clips (KTH and UCF101 read their test split for
            it, see `seg2vid_tf.data.registry`), or "train".

    Returns:
        A `tf.data.Dataset` of dicts: `video`, `clip_id`, `label_map` for
        label-conditioned models, `flow`/`flow_valid` where available.
    """
    return registry.make_dataset(config, split, shuffle=False, with_flow="auto")


class _Collector:
    """What the batches of `evaluate_model` leave behind: metric rows, videos, kept clips."""

    def __init__(self, predictor, num_samples, seed, keep_clips):
        self.predictor, self.num_samples, self.seed = predictor, num_samples, seed
        self.keep_clips = keep_clips
        self.reconstruction, self.copy = Accumulator(), Accumulator()
        self.zero_sums, self.zero_counts = [], []
        self.samples = [Accumulator() for _ in range(num_samples)]
        self.diversity = diversity_lib.DiversityAccumulator()
        self.real_videos, self.generated_videos, self.reconstructed_videos = [], [], []
        self.kept = []
        self.clip_index = 0

    def add_batch(self, batch):
        video = batch["video"]
        label_map = batch.get("label_map")
        truth = video[:, 1:].numpy()
        has_flow = "flow" in batch
        truth_flow = batch["flow"][:, 0].numpy() if has_flow else None
        valid = batch["flow_valid"][:, 0].numpy() if has_flow else None
        start = video[:, :1].numpy()
        self.copy.add(np.repeat(start, truth.shape[1], axis=1), truth)
        if has_flow:
            self.zero_sums.append(
                np.where(valid, np.linalg.norm(truth_flow, axis=-1), 0).sum((1, 2)))
            self.zero_counts.append(valid.sum(axis=(1, 2)))
        predictions, sample_outputs = self._predict(video, label_map, start,
                                                    (truth, truth_flow, valid))
        reconstructed = predictions.get("reconstruction", {})
        self.diversity.add(batch["clip_id"].numpy(), reconstructed.get("latent"),
                           reconstructed.get("flow"), [out["frames"] for out in sample_outputs],
                           [out["flow"] for out in sample_outputs],
                           batch["flow"].numpy() if has_flow else None,
                           batch["flow_valid"].numpy() if has_flow else None)
        self.real_videos.append(video.numpy())
        batch_size = video.shape[0]
        for row in range(batch_size):
            if len(self.kept) < self.keep_clips:
                self.kept.append({
                    "video": video.numpy()[row],
                    "predictions": {mode: {key: value[row] for key, value in out.items()}
                                    for mode, out in predictions.items()}})
        self.clip_index += batch_size

    def _predict(self, video, label_map, start, truths):
        """Reconstruction and the K samples of one batch, scored against `truths`."""
        predictions, sample_outputs = {}, []
        if self.predictor.can_reconstruct:
            predictions["reconstruction"] = self.predictor.reconstruct(video, label_map)
            out = predictions["reconstruction"]
            self.reconstruction.add(out["frames"], truths[0], out["flow"], *truths[1:])
            self.reconstructed_videos.append(np.concatenate([start, out["frames"]], axis=1))
        batch_size = video.shape[0]
        for k in range(self.num_samples):
            seeds = [self.seed * 1_000_003 + (self.clip_index + row) * self.num_samples + k
                     for row in range(batch_size)]
            out = self.predictor.sample(video, label_map, seeds)
            self.samples[k].add(out["frames"], truths[0], out["flow"], *truths[1:])
            sample_outputs.append(out)
            if k == 0:
                predictions["generation"] = out
                self.generated_videos.append(np.concatenate([start, out["frames"]], axis=1))
        return predictions, sample_outputs

    def baselines(self):
        """The copy-the-start-frame and zero-flow baselines, and the counts."""
        copy_summary = summary(self.copy.arrays(), prefix="copy_first_frame_")
        # The names of the training issue: psnr_copy_first_frame, ssim_copy_first_frame.
        result = {
            "psnr_copy_first_frame": copy_summary["copy_first_frame_psnr"],
            "ssim_copy_first_frame": copy_summary["copy_first_frame_ssim"],
            "psnr_copy_first_frame_per_frame": copy_summary["copy_first_frame_psnr_per_frame"],
            "ssim_copy_first_frame_per_frame": copy_summary["copy_first_frame_ssim_per_frame"],
        }
        if self.zero_sums:
            result["flow_epe_zero"] = float(np.concatenate(self.zero_sums).sum()
                                            / max(np.concatenate(self.zero_counts).sum(), 1))
        result["num_clips"] = self.clip_index
        result["num_frames_evaluated"] = int(
            self.clip_index * (self.real_videos[0].shape[1] - 1))
        return result

    def generation(self):
        """The `generation` dict: the mean over the K samples and the best of K."""
        arrays = [accumulator.arrays() for accumulator in self.samples]
        mean_of_k = {key: np.mean([a[key] for a in arrays], axis=0) for key in ("psnr", "ssim")}
        generation = {"num_samples": self.num_samples}
        # The mean over samples, per clip and frame (infinite PSNRs kept out per sample).
        psnr_stack = np.stack([a["psnr"] for a in arrays])
        finite = np.where(np.isfinite(psnr_stack), psnr_stack, np.nan)
        mean_of_k["psnr"] = np.nanmean(finite, axis=0)
        if "epe_sum" in arrays[0]:
            mean_of_k["epe_sum"] = np.mean([a["epe_sum"] for a in arrays], axis=0)
            mean_of_k["epe_count"] = arrays[0]["epe_count"]
        generation.update(summary(mean_of_k, prefix="mean_"))
        generation.update(best_of_k(arrays))
        return generation


def _fvd(network, real, collector):
    fvd = {"protocol": metrics_lib.FVD_PROTOCOL + " Whole clips (start frame included).",
           "copy_first_frame": metrics_lib.fvd(
               network, real, np.repeat(real[:, :1], real.shape[1], axis=1))}
    if collector.reconstructed_videos:
        fvd["reconstruction"] = metrics_lib.fvd(network, real,
                                                np.concatenate(collector.reconstructed_videos))
    if collector.generated_videos:
        fvd["generation"] = metrics_lib.fvd(network, real,
                                            np.concatenate(collector.generated_videos))
    return fvd


def _fid(network, real, collector):
    real_frames = real[:, 1:].reshape((-1,) + real.shape[2:])
    fid = {"protocol": metrics_lib.FID_PROTOCOL + " Predicted frames 1..T."}
    for name, videos in (("reconstruction", collector.reconstructed_videos),
                         ("generation", collector.generated_videos)):
        if videos:
            frames = np.concatenate(videos)[:, 1:]
            fid[name] = metrics_lib.fid(network, real_frames,
                                        frames.reshape((-1,) + frames.shape[2:]))
    return fid


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
        dict: the metrics (floats, per-frame lists, a `generation` dict), the `protocol`
        and the `split` scored.

    Raises:
        ValueError: No clip in the split, or a predictor that can do neither mode.
    """
    predictor = CheckpointPredictor(model) if hasattr(model, "encode_motion") else model
    if not predictor.can_reconstruct and num_samples < 1:
        raise ValueError("An exported SavedModel can only be evaluated in generation mode: "
                         "set --num_samples >= 1.")
    collector = _Collector(predictor, num_samples, seed, keep_clips)
    for index, batch in enumerate(eval_dataset(config, split)):
        if max_batches is not None and index >= max_batches:
            break
        collector.add_batch(batch)
    if collector.clip_index == 0:
        raise ValueError(f"No clips evaluated in split {split!r} of {config.data_dir}.")

    result = {}
    if predictor.can_reconstruct:
        result.update(summary(collector.reconstruction.arrays()))
    result.update(collector.baselines())
    if num_samples:
        generation = collector.generation()
        result["generation"] = generation
        # The diversity issue's names: prior samples' mean PSNR and the best of K, top level.
        result["psnr_prior"] = generation["mean_psnr"]
        result["best_of_k_psnr"] = generation["best_of_k_psnr"]
    speeds = None
    if config.dataset == "synthetic":
        speeds = diversity_lib.camera_speeds(
            config.data_dir, registry.reader_split(config.dataset, split),
            collector.diversity.clip_ids, collector.real_videos[0].shape[1] - 1)
    result.update(collector.diversity.summary(speeds))
    real = np.concatenate(collector.real_videos)
    if fvd_network is not None:
        result["fvd"] = _fvd(fvd_network, real, collector)
    if fid_network is not None:
        result["fid"] = _fid(fid_network, real, collector)
    result["protocol"] = PROTOCOL
    result["split"] = split
    if keep_clips:
        result["_clips"] = collector.kept
    return result
