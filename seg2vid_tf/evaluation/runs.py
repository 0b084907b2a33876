"""One evaluation as `python -m seg2vid_tf.evaluate` makes it, from directories to files.

`evaluate(run)` loads the networks an `EvaluationRun` names and measures each
stage: the img2vid checkpoint or export (`model_evaluation.evaluate_model`),
stage 1 and videos from label maps (`pipeline_metrics.label_map_metrics`), long
videos (`pipeline_metrics.long_horizon_metrics`); `write_outputs` writes the
metrics JSON and the report (`seg2vid_tf.evaluation.reports`).
"""

import dataclasses
import json
import os
from typing import Any, Optional

import tensorflow as tf

from seg2vid_tf import metrics as metrics_lib
from seg2vid_tf.conversion import checkpoints
from seg2vid_tf.data import registry
from seg2vid_tf.evaluation import pipeline_metrics, reports
from seg2vid_tf.evaluation.model_evaluation import evaluate_model
from seg2vid_tf.evaluation.predictors import SavedModelPredictor
from seg2vid_tf.models.rollout import RolloutOptions

# Clips (and first frames, long videos) shown in a report.
REPORT_CLIPS = 4
# The splits whose clips `evaluate_model` can score.
SPLITS = ("val", "train")


def split_problem(split, label_maps, long_videos):
    """Why `split` cannot be evaluated with the other metrics asked for, or None.

    Args:
        split: The split whose clips the video model is scored on.
        label_maps: Whether the label-map metrics are asked for (a stage-1 checkpoint).
        long_videos: Whether the long-video curves are asked for (`--num_frames`).
    """
    if split not in SPLITS:
        return f"--eval_split must be one of {', '.join(SPLITS)}, got {split!r}."
    if split != "val" and (label_maps or long_videos):
        return (f"--eval_split={split} scores the video model's clips only; the label-map "
                "(--label2image_checkpoint_dir) and long-video (--num_frames) metrics read the "
                "val split: evaluate them in a separate run.")
    return None


@dataclasses.dataclass(frozen=True)
class EvaluationRun:
    """What to evaluate and where the results go (the flags of `seg2vid_tf.evaluate`).

    Attributes:
        config: The `TrainConfig` of the data and the model size.
        checkpoint_dir: img2vid checkpoint directory, or None.
        saved_model_dir: Exported SavedModel version directory, or None
            (generation mode only).
        label2image_checkpoint_dir: Stage-1 directory: adds the label-map metrics.
        segmenter_checkpoint_dir: The FCN-score segmenter (None: the shipped one).
        i3d_module, inception_weights: Local networks enabling FVD / FID.
        max_eval_batches: At most this many batches (None: all).
        num_samples: Prior samples per clip for the generation mode.
        seed: Base of the per-sample and per-video seeds.
        split: The split whose clips the video model is scored on (`SPLITS`); the
            label-map and long-video metrics always read val.
        num_frames: `--num_frames` when given: long-horizon curves beyond the
            model's frames.
        rollout: `RolloutOptions` keyword arguments of the long videos.
        output_json, report_dir: Where the results go.
    """

    config: Any
    checkpoint_dir: Optional[str] = None
    saved_model_dir: Optional[str] = None
    label2image_checkpoint_dir: Optional[str] = None
    segmenter_checkpoint_dir: Optional[str] = None
    i3d_module: Optional[str] = None
    inception_weights: Optional[str] = None
    max_eval_batches: Optional[int] = None
    num_samples: int = 0
    seed: int = 0
    split: str = "val"
    num_frames: Optional[int] = None
    rollout: dict = dataclasses.field(default_factory=dict)
    output_json: Optional[str] = None
    report_dir: Optional[str] = None

    def __post_init__(self):
        problem = split_problem(self.split, bool(self.label2image_checkpoint_dir),
                                self.num_frames is not None)
        if problem:
            raise ValueError(problem)

    @property
    def kept(self):
        """How many clips, first frames and videos to keep for the report."""
        return REPORT_CLIPS if self.report_dir else 0


@dataclasses.dataclass
class EvaluationResult:
    """The metrics and the pictures kept for the report."""

    metrics: dict
    clips: list
    first_frames: Optional[dict] = None
    long_videos: Optional[Any] = None


def evaluate(run):
    """Measures what `run` names (see the module docstring).

    Returns:
        An `EvaluationResult`.

    Raises:
        FileNotFoundError: A missing network directory or file (naming its flag).
        ValueError: Unusable data or networks; a `DataFileError` naming the
            file behind a failed read of the evaluation split.
    """
    config = run.config
    try:
        model = None
        if run.saved_model_dir:
            model = SavedModelPredictor(run.saved_model_dir)
        elif run.checkpoint_dir:
            model = checkpoints.load_img2vid(run.checkpoint_dir, height=config.model.height,
                                             width=config.model.width, precision=config.precision)
            config = dataclasses.replace(config, model=model.config)
        return _measure(run, model, config)
    except tf.errors.OpError as error:
        # A corrupt file of the evaluation split: name it (the decoders do not).
        named = registry.explain_data_error(error, config, splits=(run.split,))
        if named is None:
            raise
        raise named from error


def _measure(run, model, config):
    metrics, clips = {}, []
    long_sequences = None
    if (run.checkpoint_dir and run.num_frames is not None
            and run.num_frames > model.config.num_predicted_frames):
        # Read and checked first: a --num_frames the data cannot serve fails before the rest.
        long_sequences = pipeline_metrics.long_horizon_sequences(
            config.data_dir, run.num_frames, config.model.height, config.model.width)
    if model is not None:
        fvd_network = metrics_lib.load_i3d(run.i3d_module) if run.i3d_module else None
        fid_network = (metrics_lib.load_inception(run.inception_weights)
                       if run.inception_weights else None)
        metrics = evaluate_model(model, config, split=run.split,
                                 max_batches=run.max_eval_batches,
                                 num_samples=run.num_samples, seed=run.seed,
                                 fvd_network=fvd_network, fid_network=fid_network,
                                 keep_clips=run.kept)
        clips = metrics.pop("_clips", [])
    if run.label2image_checkpoint_dir:
        painter = checkpoints.load_label2image(run.label2image_checkpoint_dir)
        segmenter, segmenter_source = pipeline_metrics.load_segmenter(
            run.segmenter_checkpoint_dir)
        metrics.update(pipeline_metrics.label_map_metrics(
            painter, model if run.checkpoint_dir else None, segmenter, config.data_dir,
            config.model.height, config.model.width, seed=run.seed,
            keep_first_frames=run.kept))
        metrics["segmenter"] = segmenter_source
    if long_sequences is not None:
        painter = (checkpoints.load_label2image(run.label2image_checkpoint_dir)
                   if run.label2image_checkpoint_dir else None)
        metrics.update(pipeline_metrics.long_horizon_metrics(
            model, painter, pipeline_metrics.load_segmenter(run.segmenter_checkpoint_dir)[0],
            config.data_dir, run.num_frames, seed=run.seed, keep=run.kept,
            rollout_options=RolloutOptions(**run.rollout), checked_sequences=long_sequences))
    return EvaluationResult(metrics, clips, metrics.pop("_first_frames", None),
                            metrics.pop("_videos", None))


def write_outputs(run, result):
    """Writes `run.output_json` and the report in `run.report_dir` (when set).

    Returns:
        The path of `report.html`, or None when none was written.
    """
    if run.output_json:
        os.makedirs(os.path.dirname(os.path.abspath(run.output_json)), exist_ok=True)
        with open(run.output_json, "w", encoding="utf-8") as handle:
            json.dump(result.metrics, handle, indent=2, sort_keys=True)
    if run.report_dir and result.clips:
        path = reports.write_report(run.report_dir, result.metrics, result.clips)
        if result.long_videos is not None:
            reports.add_long_horizon_section(path, result.metrics, result.long_videos)
        return path
    if run.report_dir and result.first_frames:
        return reports.write_stage1_report(run.report_dir, result.metrics, result.first_frames)
    return None
