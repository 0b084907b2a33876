"""Does the motion latent carry the motion? Diversity metrics of the conditional VAE.

The paper samples the motion latent from the prior so that one label map
gives several futures (its Figure 6). A collapsed latent gives one future
whatever the sample. Measured over held-out clips, next to PSNR:

* `sample_diversity_l1`: the mean pairwise L1 distance between the K prior
  samples' predicted frames of a clip (pixels in [0, 1]), averaged over clips.
* `latent_active_dims`: latent dimensions whose posterior mean varies across
  held-out clips with a variance above 0.01 (a collapsed dimension's mean is
  the same for every clip).
* `speed_spearman`: Spearman's rank correlation, over clips, between the true
  mean camera speed of the clip (the synthetic renderer's record,
  `synthetic.json`'s `sequences[split][i]["motion"]["camera_speed"]`) and the
  mean forward-flow magnitude of the posterior reconstruction: does encoding
  a faster clip give faster motion?
* `speed_spearman_interval`: a 95% interval of `speed_spearman`, from 1000
  bootstrap resamples of whole sequences (the clips of one sequence share its
  camera, so they are not independent): how far two runs' Spearman may differ
  by the choice of held-out sequences alone.
* `speed_spearman_truth`: the same correlation with the ground truth's flow
  (valid pixels) in place of the reconstruction's: what a perfect flow would
  score, since the mean flow length also depends on the scene's depths, turns
  and other cars (0.87 on the demo's held-out clips).
* `prior_speed_coverage`: per clip, the spread (max - min) of the mean
  forward-flow magnitude over the K prior samples, averaged over clips, over
  the spread of the ground truth's mean forward-flow magnitude across all
  held-out clips: do the prior's futures span the speeds the data has?

Flow magnitudes are in pixels per frame: predictions over all pixels and
predicted frames, the ground truth over its valid pixels.
"""

import json
import os

import numpy as np

ACTIVE_VARIANCE = 0.01
BOOTSTRAP_RESAMPLES = 1000
MOTION_NOTE = ("speed_spearman needs the synthetic data's motion record (synthetic.json with "
               "sequences[split][i]['motion']); render the data with this version of "
               "seg2vid_tf.data.synthetic")


def rank_correlation(x, y):
    """Spearman's rank correlation of two 1-D samples (average ranks for ties); nan if constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"Rank correlation needs two equal-length 1-D samples of >= 2 values, "
                         f"got shapes {x.shape} and {y.shape}.")
    ranks = [_average_ranks(values) for values in (x, y)]
    centred = [r - r.mean() for r in ranks]
    norm = np.sqrt((centred[0] ** 2).sum() * (centred[1] ** 2).sum())
    return float((centred[0] * centred[1]).sum() / norm) if norm > 0 else float("nan")


def sequence_of(clip_id):
    """The sequence prefix `<city>_<seq:06d>` of a clip id `<city>_<seq>_<frame>_leftImg8bit`."""
    clip_id = clip_id.decode() if isinstance(clip_id, bytes) else str(clip_id)
    return "_".join(clip_id.split("_")[:-2])


def grouped_bootstrap_interval(x, y, groups, resamples=BOOTSTRAP_RESAMPLES, seed=0):
    """A 95% percentile interval of `rank_correlation(x, y)`, resampling whole groups.

    Args:
        x, y: 1-D samples of equal length.
        groups: One label per sample; each resample draws as many groups as there
            are, with replacement, and keeps all the samples of each.
        resamples: Bootstrap resamples.
        seed: Seed of the draws (the interval is reproducible).

    Returns:
        `[low, high]`, or None with fewer than two groups.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    labels = np.asarray(groups)
    if len(labels) != len(x):
        raise ValueError(f"groups has {len(labels)} labels for {len(x)} samples.")
    members = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    if len(members) < 2:
        return None
    generator = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        drawn = np.concatenate([members[i] for i in generator.integers(len(members),
                                                                       size=len(members))])
        values.append(rank_correlation(x[drawn], y[drawn]) if len(drawn) > 1 else np.nan)
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return [float(low), float(high)]


def _average_ranks(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def mean_flow_magnitude(flow, valid=None):
    """Per clip, the mean flow length in pixels: `[B, T, H, W, 2]` -> `[B]` (valid pixels only)."""
    lengths = np.linalg.norm(np.asarray(flow, np.float64), axis=-1)
    if valid is None:
        return lengths.reshape(len(lengths), -1).mean(axis=1)
    valid = np.asarray(valid, bool)
    return ((lengths * valid).reshape(len(lengths), -1).sum(axis=1)
            / np.maximum(valid.reshape(len(valid), -1).sum(axis=1), 1))


def pairwise_l1(samples):
    """Per clip, the mean L1 distance over pairs of samples: `[K, B, ...]` -> `[B]`."""
    samples = np.asarray(samples, np.float64)
    count = len(samples)
    if count < 2:
        return np.full(samples.shape[1], np.nan)
    distances = [np.abs(samples[i] - samples[j]).reshape(samples.shape[1], -1).mean(axis=1)
                 for i in range(count) for j in range(i + 1, count)]
    return np.mean(distances, axis=0)


def camera_speeds(data_dir, split, clip_ids, num_transitions):
    """The true mean camera speed of each clip, from `synthetic.json`; None without a record.

    Args:
        data_dir: The synthetic dataset root.
        split: Its split ("val").
        clip_ids: Start-frame stems `<city>_<seq:06d>_<frame:06d>_leftImg8bit`.
        num_transitions: Frame transitions per clip (the model's T).
    """
    path = os.path.join(data_dir, "synthetic.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        meta = json.load(handle)
    entries = {entry["prefix"]: entry for entry in meta.get("sequences", {}).get(split, [])}
    speeds = []
    for clip_id in clip_ids:
        clip_id = clip_id.decode() if isinstance(clip_id, bytes) else str(clip_id)
        entry = entries.get(sequence_of(clip_id))
        if entry is None or "motion" not in entry:
            return None
        start = int(clip_id.split("_")[-2])
        speeds.append(float(np.mean(
            entry["motion"]["camera_speed"][start:start + num_transitions])))
    return np.array(speeds)


class DiversityAccumulator:
    """Collects, batch by batch, what the diversity metrics need (see the module docstring)."""

    def __init__(self):
        self.latents, self.reconstruction_speed, self.truth_speed = [], [], []
        self.sample_speeds, self.diversity, self.clip_ids = [], [], []

    def add(self, clip_ids, latent=None, reconstruction_flow=None, sample_frames=(),
            sample_flows=(), truth_flow=None, truth_valid=None):
        """One batch.

        Args:
            clip_ids: `[B]` clip ids (bytes or str).
            latent: `[B, ...]` posterior means (reconstruction), or None.
            reconstruction_flow: `[B, T, H, W, 2]` pixels, or None.
            sample_frames: K arrays `[B, T, H, W, C]`, the prior samples' frames.
            sample_flows: K arrays `[B, T, H, W, 2]` in pixels.
            truth_flow, truth_valid: `[B, T, H, W, 2]` and `[B, T, H, W]`, or None.
        """
        self.clip_ids.extend(np.asarray(clip_ids).tolist())
        if latent is not None:
            self.latents.append(np.asarray(latent, np.float64).reshape(len(latent), -1))
        if reconstruction_flow is not None:
            self.reconstruction_speed.append(mean_flow_magnitude(reconstruction_flow))
        if len(sample_frames):
            self.diversity.append(pairwise_l1(sample_frames))
            self.sample_speeds.append(np.stack([mean_flow_magnitude(f) for f in sample_flows]))
        if truth_flow is not None:
            self.truth_speed.append(mean_flow_magnitude(truth_flow, truth_valid))

    def summary(self, camera_speed=None):
        """The metrics this accumulator can give (keys of the module docstring).

        Args:
            camera_speed: `[N]` true mean camera speed per clip (`camera_speeds`), or None.
        """
        result = {}
        if self.diversity and len(self.sample_speeds[0]) >= 2:
            result["sample_diversity_l1"] = float(np.mean(np.concatenate(self.diversity)))
        if self.latents:
            latents = np.concatenate(self.latents)
            variance = latents.var(axis=0) if len(latents) > 1 else np.zeros(latents.shape[1])
            result["latent_active_dims"] = int((variance > ACTIVE_VARIANCE).sum())
            result["latent_max_variance"] = float(variance.max())
        if self.reconstruction_speed:
            if camera_speed is not None and len(camera_speed) > 1:
                speeds = np.concatenate(self.reconstruction_speed)
                result["speed_spearman"] = rank_correlation(camera_speed, speeds)
                interval = grouped_bootstrap_interval(
                    camera_speed, speeds, [sequence_of(clip) for clip in self.clip_ids])
                if interval is not None:
                    result["speed_spearman_interval"] = interval
            else:
                result["speed_spearman_note"] = MOTION_NOTE
        if self.truth_speed and camera_speed is not None and len(camera_speed) > 1:
            result["speed_spearman_truth"] = rank_correlation(
                camera_speed, np.concatenate(self.truth_speed))
        if self.sample_speeds and self.truth_speed:
            speeds = np.concatenate(self.sample_speeds, axis=1)  # [K, N]
            truth = np.concatenate(self.truth_speed)
            truth_spread = float(truth.max() - truth.min())
            spread = float(np.mean(speeds.max(axis=0) - speeds.min(axis=0)))
            result["prior_speed_spread"] = spread
            result["truth_speed_spread"] = truth_spread
            if truth_spread > 0:
                result["prior_speed_coverage"] = spread / truth_spread
        return result
