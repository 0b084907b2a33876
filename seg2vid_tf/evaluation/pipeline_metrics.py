"""Metrics of the whole pipeline from label maps: stage 1, videos from maps, long videos.

`label_map_metrics` (stage 1's first frames and the FCN-score of videos from
label maps, `seg2vid_tf.evaluation.label_maps`) and `long_horizon_metrics`
(the long-horizon curves, `seg2vid_tf.evaluation.long_horizon`) run the
networks through `seg2vid_tf.models.seg2vid`; both score with the FCN-score
segmenter of `load_segmenter`. `long_horizon_sequences` reads and checks the
long-horizon data before anything is measured.
"""

import tensorflow as tf

from seg2vid_tf import demo_weights
from seg2vid_tf.conversion import checkpoints
from seg2vid_tf.evaluation import label_maps, long_horizon
from seg2vid_tf.models import seg2vid


def load_segmenter(segmenter_checkpoint_dir):
    """The FCN-score segmenter: from a directory, or the one shipped with the demo weights."""
    if segmenter_checkpoint_dir:
        return checkpoints.load_segmenter(segmenter_checkpoint_dir), segmenter_checkpoint_dir
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
    def paint(label_map):
        return seg2vid.painted_image(painter, tf.convert_to_tensor(label_map, tf.int32)).numpy()

    result = label_maps.evaluate_label2image(paint, height, width, segmenter, data_dir,
                                             keep=keep_first_frames)
    if video_model is not None:
        pipeline = seg2vid.Seg2Vid(video_model, painter)
        result.update(label_maps.evaluate_videos_from_label_maps(
            pipeline, segmenter, data_dir, seed=seed, keep=keep_videos))
    return result


def long_horizon_sequences(data_dir, num_frames, height, width):
    """The held-out sequences for `--num_frames=N`, read and checked before anything is measured.

    Returns:
        `(sequences, note)`: `label_maps.labelled_sequences` of the val split, and None, or
        a note saying why nothing is to be measured when the sequences have exactly N
        frames (see `long_horizon_metrics`).

    Raises:
        ValueError: When the sequences are shorter than N frames (named; exactly N: the note).
    """
    sequences = label_maps.labelled_sequences(data_dir, "val", height, width)
    if long_horizon.sequence_length(sequences) == num_frames:
        return sequences, (
            f"--num_frames={num_frames} equals the held-out sequences' length (the data "
            f"setting); the long-horizon curves need sequences of N + 1 frames for "
            f"--num_frames=N")
    long_horizon.check_sequence_length(sequences, num_frames, data_dir, "val")
    return sequences, None


def long_horizon_metrics(video_model, painter, segmenter, data_dir, num_frames, seed=0, keep=0,
                         rollout_options=None, checked_sequences=None):
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
        checked_sequences: `long_horizon_sequences(...)` when already read.

    Raises:
        ValueError: When the sequences are shorter than N frames (named; exactly N: the note).
    """
    pipeline = seg2vid.Seg2Vid(video_model, painter, rollout_options or seg2vid.RolloutOptions())
    sequences, note = checked_sequences or long_horizon_sequences(
        data_dir, num_frames, pipeline.height, pipeline.width)
    if note:
        return {"long_horizon_note": note}
    result = long_horizon.evaluate_long_horizon(pipeline, segmenter, data_dir, num_frames,
                                                seed=seed, keep=keep, sequences=sequences)
    result["long_rollout"] = pipeline.rollout_options.to_dict()
    if painter is not None:
        painted = long_horizon.evaluate_long_horizon(pipeline, segmenter, data_dir, num_frames,
                                                     from_label_map=True, seed=seed,
                                                     sequences=sequences)
        result["long_from_label_map"] = {key: painted[key] for key in long_horizon.KEYS}
    return result
