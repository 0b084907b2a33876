"""How long a generated video holds: per-frame curves over N frames against the renderer's truth.

`evaluate_long_horizon` rolls the pipeline out for N frames (rounds of the model's T
frames, the label map carried along) from frame 0 of every held-out sequence, and
scores every frame t = 0..N against the real frame t and its true label map:

* `long_psnr_per_frame`: PSNR of generated frame t against real frame t (the mean
  over the videos, identical frames left out as in `psnr`);
  `long_psnr_copy_per_frame` the same for the first frame copied.
* `long_label_miou_per_frame`: mean IoU of the label map the rollout carries at t
  against the true map of frame t; `long_label_miou_copy_per_frame` the same for
  the first map kept unchanged.
* `long_fcn_miou_per_frame`: the FCN-score segmenter on generated frame t against
  the true map of frame t; `long_fcn_miou_real_per_frame` the same segmenter on
  the real frame t.
* `long_sharpness_ratio_per_frame`: the variance of the Laplacian of the generated
  frames over that of the real frames at t (sums over the sequences: a ratio of
  means, which one flat frame cannot blow up).

Entry t of every list is frame t (entry 0 is the first frame: the real one, or the
one stage 1 painted). Where every video's frame is exact (the real first frame) the
PSNR is None.
"""

import os

import numpy as np

from seg2vid_tf.evaluation import label_maps as label_maps_lib
from seg2vid_tf.metrics import segmentation
from seg2vid_tf.models import segmenter as segmenter_lib

KEYS = ("long_psnr_per_frame", "long_psnr_copy_per_frame", "long_label_miou_per_frame",
        "long_label_miou_copy_per_frame", "long_fcn_miou_per_frame",
        "long_fcn_miou_real_per_frame", "long_sharpness_ratio_per_frame")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def laplacian_variance(images):
    """Variance of the 4-neighbour Laplacian of each image's luminance (interior pixels).

    Args:
        images: float `[B, H, W, C]` in [0, 1] (C = 3 or 1).

    Returns:
        float64 `[B]`.
    """
    images = np.asarray(images, np.float64)
    grey = images @ _LUMA if images.shape[-1] == 3 else images[..., 0]
    laplacian = (grey[:, :-2, 1:-1] + grey[:, 2:, 1:-1] + grey[:, 1:-1, :-2] + grey[:, 1:-1, 2:]
                 - 4.0 * grey[:, 1:-1, 1:-1])
    return laplacian.reshape(laplacian.shape[0], -1).var(axis=1)


def _psnrs(predictions, truths):
    """Per-image PSNR in dB (peak 1); inf for identical images."""
    mse = ((predictions - truths) ** 2).reshape(len(truths), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


class _Curves:
    """Running sums of every per-frame quantity over the rolled-out videos."""

    def __init__(self, length):
        shape = (length,) + (segmentation.NUM_SCORED_CLASSES,) * 2
        self.confusion = {name: np.zeros(shape, np.int64)
                          for name in ("label", "label_copy", "fcn", "fcn_real")}
        # Sums and counts of the finite per-video PSNRs.
        self.psnr = {name: np.zeros((2, length)) for name in ("generated", "copy")}
        self.sharpness = {name: np.zeros(length) for name in ("generated", "real")}
        self.count = np.zeros(length, np.int64)

    def add(self, t, generated, real, first_real, carried, truth, first_map, segmenter):
        for name, prediction in (("generated", generated), ("copy", first_real)):
            values = _psnrs(prediction, real)
            finite = np.isfinite(values)
            self.psnr[name][:, t] += (values[finite].sum(), finite.sum())
        self.sharpness["generated"][t] += laplacian_variance(generated).sum()
        self.sharpness["real"][t] += laplacian_variance(real).sum()
        self.confusion["label"][t] += segmentation.confusion_matrix(truth, carried)
        self.confusion["label_copy"][t] += segmentation.confusion_matrix(truth, first_map)
        self.confusion["fcn"][t] += segmentation.confusion_matrix(
            truth, segmenter_lib.predict_train_ids(segmenter, generated))
        self.confusion["fcn_real"][t] += segmentation.confusion_matrix(
            truth, segmenter_lib.predict_train_ids(segmenter, real))

    def summary(self):
        miou = {name: [segmentation.mean_iou(c) for c in matrices]
                for name, matrices in self.confusion.items()}
        psnr = {name: [float(total / count) if count else None for total, count in zip(*sums)]
                for name, sums in self.psnr.items()}
        return {
            "long_psnr_per_frame": psnr["generated"],
            "long_psnr_copy_per_frame": psnr["copy"],
            "long_label_miou_per_frame": miou["label"],
            "long_label_miou_copy_per_frame": miou["label_copy"],
            "long_fcn_miou_per_frame": miou["fcn"],
            "long_fcn_miou_real_per_frame": miou["fcn_real"],
            "long_sharpness_ratio_per_frame": [
                float(g / r) if r > 0 else None
                for g, r in zip(self.sharpness["generated"], self.sharpness["real"])],
        }


def sequence_length(sequences):
    """Frames of the longest of `label_maps.labelled_sequences(...)`."""
    return max((len(frames) for frames, _ in sequences), default=0)


def check_sequence_length(sequences, num_frames, data_dir, split):
    """Raises ValueError (naming the flag and the data) unless a sequence has N + 1 frames."""
    longest = sequence_length(sequences)
    if longest < num_frames + 1:
        raise ValueError(
            f"--num_frames={num_frames} needs held-out sequences of at least {num_frames + 1} "
            f"frames; the {split} split of {data_dir} has at most {longest}. Render longer "
            f"ones with `python -m seg2vid_tf.data.synthetic --num_frames={num_frames + 1}`.")


def evaluate_long_horizon(pipeline, segmenter, data_dir, num_frames, from_label_map=False,
                          split="val", seed=0, batch_size=8, keep=0, sequences=None):
    """The long-horizon curves (module docstring) of one rollout per held-out sequence.

    Args:
        pipeline: A `Seg2Vid`; with `from_label_map` it needs stage 1.
        segmenter: The FCN-score segmenter.
        data_dir, split: Held-out data whose sequences have at least `num_frames + 1` frames.
        num_frames: N, frames predicted after the first one.
        from_label_map: Paint the first frame from the true label map (stage 1) instead of
            starting from the real first frame.
        seed: Sequence `i` samples its latent with seed `seed * 1_000_003 + i`.
        batch_size: Sequences per rollout.
        keep: Also return the first `keep` videos, truths and carried label maps under `_videos`.
        sequences: `label_maps.labelled_sequences(data_dir, split, ...)` when already read.

    Returns:
        dict: the `KEYS` lists (entry t = frame t, t = 0..N), `long_num_frames` (N) and
        `long_num_videos`.

    Raises:
        ValueError: When no sequence of the split has `num_frames + 1` frames (named).
    """
    length = num_frames + 1
    if sequences is None:
        sequences = label_maps_lib.labelled_sequences(data_dir, split, pipeline.height,
                                                      pipeline.width)
    check_sequence_length(sequences, num_frames, data_dir, split)
    real, maps = label_maps_lib.video_windows(
        [(frames[:length], labels_[:length]) for frames, labels_ in sequences
         if len(frames) >= length], length)
    curves = _Curves(length)
    kept = {"generated": [], "real": [], "label_maps": [], "carried": []}
    for start in range(0, len(real), batch_size):
        stop = min(start + batch_size, len(real))
        seeds = [seed * 1_000_003 + index for index in range(start, stop)]
        result = pipeline.generate(num_frames, seeds, label_map=maps[start:stop, 0],
                                   first_frame=None if from_label_map else real[start:stop, 0])
        video, carried = result["video"], result["label_maps"]
        for t in range(length):
            curves.add(t, video[:, t], real[start:stop, t], real[start:stop, 0], carried[:, t],
                       maps[start:stop, t], maps[start:stop, 0], segmenter)
        if sum(len(v) for v in kept["generated"]) < keep:
            kept["generated"].append(video)
            kept["real"].append(real[start:stop])
            kept["label_maps"].append(maps[start:stop])
            kept["carried"].append(carried)
    metrics = dict(curves.summary(), long_num_frames=int(num_frames),
                   long_num_videos=int(len(real)))
    if keep:
        metrics["_videos"] = {key: np.concatenate(value)[:keep] for key, value in kept.items()}
    return metrics


def long_video_frames(videos):
    """Animation frames of `evaluate_long_horizon(..., keep=n)["_videos"]`.

    Returns:
        uint8 `[N + 1, n * H, 4 * W, 3]`: per video, generated | real | the label map the
        rollout carries | the true label map.
    """
    from seg2vid_tf import labels, visualization  # pylint: disable=import-outside-toplevel

    return np.stack([
        np.concatenate([
            np.concatenate([visualization.to_uint8(videos["generated"][i, t]),
                            visualization.to_uint8(videos["real"][i, t]),
                            labels.colorize(videos["carried"][i, t]),
                            labels.colorize(videos["label_maps"][i, t])], axis=1)
            for i in range(len(videos["generated"]))], axis=0)
        for t in range(videos["generated"].shape[1])])


CHARTS = (  # (file stem, title, y label, {series name: key})
    ("long_psnr", "PSNR per frame", "PSNR (dB)",
     {"generated": "long_psnr_per_frame", "copy the first frame": "long_psnr_copy_per_frame"}),
    ("long_label_miou", "Carried label map vs the true map", "mean IoU",
     {"carried (warped along)": "long_label_miou_per_frame",
      "first map kept": "long_label_miou_copy_per_frame"}),
    ("long_fcn_miou", "FCN-score per frame", "segmenter mean IoU",
     {"generated frames": "long_fcn_miou_per_frame",
      "real frames": "long_fcn_miou_real_per_frame"}),
    ("long_sharpness", "Sharpness: Laplacian variance, generated / real", "ratio",
     {"generated / real": "long_sharpness_ratio_per_frame"}),
)


def write_report_section(report_dir, metrics, videos, fps=4):
    """Writes the curves (`long_*.svg`) and long videos (`long_videos.gif/.mp4`) of a
    long-horizon evaluation into `report_dir`.

    Args:
        report_dir: The report's directory.
        metrics: `evaluate_long_horizon`'s keys at the top level (from the real first frame)
            and, optionally, under `long_from_label_map` (from the label map).
        videos: Its `_videos` (from the real first frame).
        fps: Frames per second of the videos.

    Returns:
        The HTML of the section.
    """
    from seg2vid_tf import report, visualization  # pylint: disable=import-outside-toplevel

    modes = [("from the real first frame", metrics)]
    if "long_from_label_map" in metrics:
        modes.append(("from the label map (stage 1 paints frame 0)",
                      metrics["long_from_label_map"]))
    parts = [f"<h2>Long videos ({metrics['long_num_frames']} frames after the first, "
             f"{metrics['long_num_videos']} held-out sequences)</h2>"]
    for stem, title, y_label, keys in CHARTS:
        series = {f"{name}, {mode}" if len(modes) > 1 else name: values[key]
                  for mode, values in modes for name, key in keys.items()}
        svg = report.line_chart_svg(series, title, y_label, x_label="frame", first_x=0,
                                    width=560)
        with open(os.path.join(report_dir, f"{stem}.svg"), "w", encoding="utf-8") as handle:
            handle.write(svg)
        parts.append(svg)
    paths = visualization.write_videos(os.path.join(report_dir, "long_videos"),
                                       long_video_frames(videos),
                                       fps=fps, formats=("gif", "mp4"))
    parts.append("<p>From the real first frame: generated | real | the label map carried along "
                 "| the true label map (also as long_videos.mp4).</p>"
                 f'<img src="{os.path.basename(paths[0])}" alt="long videos beside the truth">')
    return "\n".join(parts)
