"""Metrics of the label-map stages: stage 1's first frames and whole videos from label maps.

Stage 1 (`evaluate_label2image`), on every labelled real frame of a split:

* `first_frame_psnr`: PSNR of the painted frame against the real one;
  `first_frame_psnr_class_mean` the same for the baseline that paints every
  pixel with its class's mean colour over the train split of the data.
* The FCN-score (pix2pixHD's protocol, `metrics.segmentation`): the project's
  segmenter, trained on real frames, segments the painted frames
  (`fcn_miou_generated`) and the real ones (`fcn_miou_real`), each scored
  against the label map the frame was painted from.
* `frechet_segmenter_generated` / `frechet_segmenter_class_mean`: the Fréchet
  distance between the segmenter's last hidden layer (averaged over each
  image) on the real frames and on the painted frames / on the class-mean
  baseline.

Videos from label maps (`evaluate_videos_from_label_maps`): per sequence,
non-overlapping windows of `T + 1` frames; stage 1 paints frame 0 from the
true label map, stage 2 predicts the next `T` from a prior latent (seeded per
window), and the segmenter reads every frame t, scored against the renderer's
true label map of frame t (`video_fcn_miou_per_frame`) next to the same
segmenter on the real frame t (`video_fcn_miou_real_per_frame`).
"""

import collections
import os

import numpy as np
from PIL import Image

from seg2vid_tf import labels
from seg2vid_tf.data import cityscapes
from seg2vid_tf.data.decode_errors import DataFileError
from seg2vid_tf.metrics import frechet, segmentation
from seg2vid_tf.models import segmenter as segmenter_lib

PROTOCOL = ("FCN-score: the project's segmenter (trained on real frames) on generated and real "
            "frames, mean IoU over the train ids present in the true maps, void ignored; "
            "Fréchet segmenter distance over the last hidden layer averaged per image; class-"
            "mean baseline: each pixel painted with its class's mean colour over the train "
            "split of --data_dir")


def _open_image(path, what, expected):
    """Decodes an image file with Pillow; DataFileError naming the file if it cannot."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise DataFileError(f"{what} {path} cannot be decoded ({error}); expected "
                            f"{expected}.") from error


def _read_rgb(path, height, width):
    image = _open_image(path, "Frame file", "a complete PNG or JPEG image").convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    return np.asarray(image, np.float32) / 255.0


def _read_label(path, height, width):
    image = _open_image(path, "Label map", "a complete 8-bit single-channel PNG of train ids")
    if image.size != (width, height):
        image = image.resize((width, height), Image.NEAREST)
    values = np.asarray(image).astype(np.int32)
    if values.ndim != 2:
        raise DataFileError(f"Label map {path} is not a single-channel image of train ids.")
    bad = np.unique(values[(values < 0) | (values > labels.VOID_ID)])
    if bad.size:
        raise DataFileError(f"Label map {path} has values {bad.tolist()[:8]} outside the train "
                            f"ids 0..{labels.VOID_ID}.")
    return values


def labelled_sequences(data_dir, split, height, width, max_sequences=None):
    """Every labelled frame of `split`, grouped by sequence.

    Returns:
        list of `(frames float32 [F, H, W, 3] in [0, 1], label maps int32 [F, H, W])`,
        one per sequence, frames in temporal order.

    Raises:
        FileNotFoundError, ValueError: From the Cityscapes reader.
        DataFileError: A frame or label file cannot be decoded or is not a label
            map of train ids (a ValueError naming the file, sequence and split).
    """
    grouped = collections.OrderedDict()
    for clip in cityscapes.find_clips(data_dir, split, num_frames=1):
        stem = os.path.basename(clip.frame_paths[0])
        key = stem.rsplit("_", 2)[0]  # <city>_<seq>
        grouped.setdefault(key, []).append(clip)
    sequences = []
    for key, clips in list(grouped.items())[:max_sequences]:
        try:
            frames = np.stack([_read_rgb(c.frame_paths[0], height, width) for c in clips])
            maps = np.stack([_read_label(c.label_path, height, width) for c in clips])
        except DataFileError as error:
            raise DataFileError(f"{str(error).rstrip('.')} (sequence {key!r}, split "
                                f"{split!r}).") from error
        sequences.append((frames, maps))
    if not sequences:
        raise ValueError(f"No labelled frames in split {split!r} of {data_dir}.")
    return sequences


def class_mean_colors(data_dir, height, width, split="train"):
    """float32 `[20, 3]`: each train id's mean colour over `split` (grey where absent)."""
    sums = np.zeros((labels.NUM_LABELS, 3), np.float64)
    counts = np.zeros(labels.NUM_LABELS, np.float64)
    for frames, maps in labelled_sequences(data_dir, split, height, width):
        flat = maps.reshape(-1)
        sums += np.stack([np.bincount(flat, frames[..., c].reshape(-1), labels.NUM_LABELS)
                          for c in range(3)], axis=1)
        counts += np.bincount(flat, minlength=labels.NUM_LABELS)
    means = np.full((labels.NUM_LABELS, 3), 0.5)
    present = counts > 0
    means[present] = sums[present] / counts[present, None]
    return means.astype(np.float32)


def _psnr(prediction, truth):
    mse = np.mean((prediction - truth) ** 2, axis=(1, 2, 3))
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-12))


def _paint(paint, label_maps, batch_size=16):
    return np.concatenate([np.asarray(paint(label_maps[i:i + batch_size]))
                           for i in range(0, len(label_maps), batch_size)])


def evaluate_label2image(paint, height, width, segmenter, data_dir, split="val",
                         class_means=None, keep=0):
    """Stage-1 metrics on every labelled frame of `split` (see the module docstring).

    Args:
        paint: Stage 1 as a function from int32 label maps `[B, H, W]` to RGB
            images `[B, H, W, 3]` in [0, 1].
        height, width: The size frames and label maps are read at.
        segmenter: A model from `models.segmenter.build_segmenter`, trained.
        data_dir: Dataset root in the Cityscapes layout.
        split: The held-out split.
        class_means: `[20, 3]` colours of the baseline (`class_mean_colors` of
            the train split when None).
        keep: Also return the first `keep` label maps, painted and real frames
            under `_first_frames` (for pictures).

    Returns:
        dict of floats (the keys named in the module docstring, plus
        `fcn_pixel_accuracy_*` and `num_first_frames`).
    """
    sequences = labelled_sequences(data_dir, split, height, width)
    real = np.concatenate([frames for frames, _ in sequences])
    maps = np.concatenate([label_maps for _, label_maps in sequences])
    if class_means is None:
        class_means = class_mean_colors(data_dir, height, width)
    painted = _paint(paint, maps)
    baseline = class_means[maps]
    result = {"num_first_frames": int(len(real)),
              "first_frame_psnr": float(np.mean(_psnr(painted, real))),
              "first_frame_psnr_class_mean": float(np.mean(_psnr(baseline, real)))}
    for name, images in (("generated", painted), ("real", real), ("class_mean", baseline)):
        confusion = segmentation.confusion_matrix(
            maps, segmenter_lib.predict_train_ids(segmenter, images))
        result[f"fcn_miou_{name}"] = segmentation.mean_iou(confusion)
        result[f"fcn_pixel_accuracy_{name}"] = segmentation.pixel_accuracy(confusion)
    real_features = segmenter_lib.pooled_features(segmenter, real)
    for name, images in (("generated", painted), ("class_mean", baseline)):
        result[f"frechet_segmenter_{name}"] = frechet.frechet_distance_from_features(
            real_features, segmenter_lib.pooled_features(segmenter, images))
    result["label2image_protocol"] = PROTOCOL
    if keep:
        result["_first_frames"] = {"label_maps": maps[:keep], "painted": painted[:keep],
                                   "real": real[:keep]}
    return result


def video_windows(sequences, length):
    """Non-overlapping windows of `length` frames: `(frames [N, L, H, W, 3], maps [N, L, H, W])`."""
    frames, maps = [], []
    for sequence_frames, sequence_maps in sequences:
        for start in range(0, len(sequence_frames) - length + 1, length):
            frames.append(sequence_frames[start:start + length])
            maps.append(sequence_maps[start:start + length])
    if not frames:
        raise ValueError(f"No sequence has {length} labelled frames.")
    return np.stack(frames), np.stack(maps)


def evaluate_videos_from_label_maps(pipeline, segmenter, data_dir, split="val", num_frames=None,
                                    seed=0, batch_size=8, keep=0):
    """FCN-score per frame of videos generated from true label maps (module docstring).

    Args:
        pipeline: A `Seg2Vid` with both stages.
        segmenter: The trained segmenter.
        data_dir, split: The held-out data.
        num_frames: Frames predicted after the painted one (the model's `T` when None).
        seed: Window `i` samples its latent with seed `seed * 1_000_003 + i`.
        batch_size: Windows per forward pass.
        keep: Also return the first `keep` windows' videos, truths and flows under `_videos`.

    Returns:
        dict: `video_fcn_miou_per_frame`, `video_fcn_miou_real_per_frame` (frames 0..T),
        `num_videos`.
    """
    num_frames = num_frames or pipeline.video_model.config.num_predicted_frames
    sequences = labelled_sequences(data_dir, split, pipeline.height, pipeline.width)
    real, maps = video_windows(sequences, num_frames + 1)
    length = num_frames + 1
    generated_confusion = np.zeros((length,) + (segmentation.NUM_SCORED_CLASSES,) * 2, np.int64)
    real_confusion = np.zeros_like(generated_confusion)
    kept = {"generated": [], "real": [], "label_maps": [], "flow": []}
    for start in range(0, len(real), batch_size):
        stop = min(start + batch_size, len(real))
        seeds = [seed * 1_000_003 + index for index in range(start, stop)]
        result = pipeline.generate(num_frames, seeds, label_map=maps[start:stop, 0])
        video = result["video"]
        for t in range(length):
            generated_confusion[t] += segmentation.confusion_matrix(
                maps[start:stop, t], segmenter_lib.predict_train_ids(segmenter, video[:, t]))
            real_confusion[t] += segmentation.confusion_matrix(
                maps[start:stop, t],
                segmenter_lib.predict_train_ids(segmenter, real[start:stop, t]))
        if len(kept["generated"]) < keep:
            kept["generated"].append(video)
            kept["real"].append(real[start:stop])
            kept["label_maps"].append(maps[start:stop])
            kept["flow"].append(result["flow"])
    metrics = {
        "num_videos": int(len(real)),
        "video_fcn_miou_per_frame": [segmentation.mean_iou(c) for c in generated_confusion],
        "video_fcn_miou_real_per_frame": [segmentation.mean_iou(c) for c in real_confusion],
    }
    if keep:
        metrics["_videos"] = {key: np.concatenate(value)[:keep] for key, value in kept.items()}
    return metrics
