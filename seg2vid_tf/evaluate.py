"""Evaluation of an img2vid checkpoint or an exported SavedModel on held-out clips.

    python -m seg2vid_tf.evaluate --flagfile=configs/synthetic.cfg --data_dir=DIR \
        --checkpoint_dir=DIR --output_json=metrics.json [--report_dir=DIR] \
        [--num_samples=K] [--i3d_module=PATH] [--inception_weights=PATH]
    python -m seg2vid_tf.evaluate ... --saved_model_dir=models/seg2vid/1   # an export
    python -m seg2vid_tf.evaluate ... --num_frames=24   # long videos (data of >= 25 frames)
    python -m seg2vid_tf.evaluate ... --eval_split=train   # the training clips, to compare

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
  `latent_active_dims`, `speed_spearman` and its `speed_spearman_interval`
  (synthetic data with its motion record) and `prior_speed_coverage`: does the
  motion latent carry the motion?

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

This module is the command line; the evaluation is the library
`seg2vid_tf.evaluation`: `runs` (one run, from directories to files),
`model_evaluation` (`evaluate_model`, `eval_dataset`), `predictors`,
`frame_metrics`, `pipeline_metrics` (label maps, long horizon) and `reports`.
Their names are re-exported here, so `seg2vid_tf.evaluate.X` keeps working.
"""

import json

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf import command_flags
from seg2vid_tf.evaluation import runs
from seg2vid_tf.evaluation.frame_metrics import predicted_forward_flow
# The old private names, for code that reached into this module.
from seg2vid_tf.evaluation.frame_metrics import Accumulator as _Accumulator  # noqa: F401
from seg2vid_tf.evaluation.frame_metrics import best_of_k as _best_of_k  # noqa: F401
from seg2vid_tf.evaluation.frame_metrics import (  # noqa: F401
    read_at_destination as _read_at_destination,
)
from seg2vid_tf.evaluation.frame_metrics import summary as _summary  # noqa: F401
from seg2vid_tf.evaluation.model_evaluation import PROTOCOL, eval_dataset, evaluate_model
from seg2vid_tf.evaluation.pipeline_metrics import (
    label_map_metrics,
    load_segmenter,
    long_horizon_metrics,
)
from seg2vid_tf.evaluation.predictors import CheckpointPredictor, SavedModelPredictor
from seg2vid_tf.evaluation.reports import (
    add_long_horizon_section,
    write_report,
    write_stage1_report,
)
from seg2vid_tf.evaluation.runs import REPORT_CLIPS
from seg2vid_tf.training import config as config_lib

__all__ = [
    "CheckpointPredictor",
    "PROTOCOL",
    "REPORT_CLIPS",
    "SavedModelPredictor",
    "add_long_horizon_section",
    "define_flags",
    "eval_dataset",
    "evaluate_model",
    "label_map_metrics",
    "load_segmenter",
    "long_horizon_metrics",
    "main",
    "predicted_forward_flow",
    "run_from_flags",
    "write_report",
    "write_stage1_report",
]


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
        ("string", "eval_split", "val",
         "Split of --data_dir whose clips are scored: val (held out) or train. Scoring the "
         "training clips too shows generalization: a network far better on them than on val "
         "has learned its clips rather than the task."),
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
    split_problem = runs.split_problem(values.eval_split,
                                       bool(values.label2image_checkpoint_dir),
                                       values["num_frames"].present)
    if split_problem:
        raise app.UsageError(split_problem)
    painting = command_flags.rollout_options(values).painting_flags
    if painting and not values.label2image_checkpoint_dir:
        raise app.UsageError(f"{painting[0]} > 0 paints with stage 1: set "
                             "--label2image_checkpoint_dir.")


def run_from_flags(values):
    """The `runs.EvaluationRun` of the parsed flags."""
    return runs.EvaluationRun(
        config=config_lib.config_from_flags(check_weights=False),
        checkpoint_dir=values.checkpoint_dir, saved_model_dir=values.saved_model_dir,
        label2image_checkpoint_dir=values.label2image_checkpoint_dir,
        segmenter_checkpoint_dir=values.segmenter_checkpoint_dir,
        i3d_module=values.i3d_module, inception_weights=values.inception_weights,
        max_eval_batches=values.max_eval_batches, num_samples=values.num_samples,
        seed=values.seed, split=values.eval_split,
        num_frames=values.num_frames if values["num_frames"].present else None,
        rollout=command_flags.rollout_settings(values),
        output_json=values.output_json, report_dir=values.report_dir)


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    _check_flags(values)
    run = run_from_flags(values)
    result = runs.evaluate(run)
    report_path = runs.write_outputs(run, result)
    if report_path:
        print(f"Report: {report_path}")
    print(json.dumps({key: value for key, value in result.metrics.items()
                      if not key.endswith("_per_frame")}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
