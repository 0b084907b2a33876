"""`make demo`: held-out label maps turned into videos, with the shipped demo weights.

    python -m seg2vid_tf.demo --output_dir=demo_output [--weights_dir=DIR] \
        [--video_format=gif,mp4]

1. verifies the shipped weights (`seg2vid_tf/assets/demo_weights`, SHA-256)
   and writes them as checkpoints under `output_dir/checkpoints/`;
2. renders held-out synthetic street scenes with a seed never used in
   training (`HELD_OUT_SEED`) and the training data's other settings;
3. evaluates stage 2 on the held-out clips (reconstruction and prior samples,
   next to the copy-the-start-frame and zero-flow baselines);
4. evaluates stage 1 and the whole pipeline on the held-out label maps
   (first-frame PSNR, FCN-score, Fréchet segmenter distance, FCN-score per
   frame of the generated videos; `seg2vid_tf.evaluation.label_maps`);
5. writes `label_map_videos.gif` / `.mp4` (label map colours | generated
   video | ground truth | forward flow), `futures.gif` / `.mp4` (one map, four
   sampled futures side by side), `long_video.gif` / `.mp4` (one map, 24
   frames), the report `report/report.html` (with stage 2's clips from the real
   first frame) and `demo.json`;
6. exports the full pipeline for TensorFlow Serving under
   `output_dir/export/seg2vid/1` and prints the command that serves it with the
   web page.

The weights come from `make demo-train` (`seg2vid_tf.demo_train`).
"""

import json
import os
import shutil
import time

import numpy as np
from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag
from seg2vid_tf.conversion.checkpoints import load_seg2vid

HELD_OUT_SEED = 1000  # the training data is rendered with seed 0
HELD_OUT_SEQUENCES = 16
HELD_OUT_VAL_FRACTION = 0.875  # 14 val sequences scored; 2 train ones give the class means
NUM_SHOWN = 4  # videos in the GIF grids
REPORT_SAMPLES = 3  # prior samples per held-out clip (stage-2 generation mode)
NUM_FUTURES = 4  # prior samples of one label map shown side by side (futures.gif)
EXPORT_FRAMES = 24  # frames the web page gets per request (six rounds of the model's four)
LONG_FRAMES = 24  # the long video (long_video.gif) of one held-out label map
# Long videos: the first frame and label map warped once by the flow composed across rounds
# instead of re-warping each round's already warped start (docs/long_videos.md).
ROLLOUT = dict(label_warp="composed", frame_warp="composed")
TARGETS = (
    "fcn_miou_generated >= 0.85 * fcn_miou_real",
    "frechet_segmenter_generated <= 0.5 * frechet_segmenter_class_mean",
    "video_fcn_miou_per_frame[t] >= 0.7 * video_fcn_miou_real_per_frame[t] for every t",
    "psnr >= psnr_copy_first_frame + 2 dB",
    "flow_epe <= 0.5 * flow_epe_zero",
)


def check_targets(metrics):
    """Each of `TARGETS` with its measured values and whether it holds."""
    video = all(generated >= 0.7 * real for generated, real in zip(
        metrics["video_fcn_miou_per_frame"], metrics["video_fcn_miou_real_per_frame"]))
    return {
        TARGETS[0]: metrics["fcn_miou_generated"] >= 0.85 * metrics["fcn_miou_real"],
        TARGETS[1]: (metrics["frechet_segmenter_generated"]
                     <= 0.5 * metrics["frechet_segmenter_class_mean"]),
        TARGETS[2]: video,
        TARGETS[3]: metrics["psnr"] >= metrics["psnr_copy_first_frame"] + 2.0,
        TARGETS[4]: metrics["flow_epe"] <= 0.5 * metrics["flow_epe_zero"],
    }


def held_out_data(output_dir, data_settings, progress=True):
    """Renders (or reuses) the held-out synthetic data; returns its directory."""
    from seg2vid_tf import demo_train  # pylint: disable=import-outside-toplevel

    settings = dict(data_settings, seed=HELD_OUT_SEED, num_sequences=HELD_OUT_SEQUENCES,
                    val_fraction=HELD_OUT_VAL_FRACTION)
    data_dir = os.path.join(output_dir, "heldout_data")
    demo_train.ensure_data(data_dir, settings, progress)
    return data_dir


def label_map_video_frames(videos):
    """Animation frames of `evaluate_videos_from_label_maps(..., keep=n)["_videos"]`.

    One row per video: label map colours | generated | ground truth | forward flow
    (colour wheel, one scale for all; white on frame 0, which has no flow).

    Returns:
        uint8 `[T + 1, n * H, 4 * W, 3]`.
    """
    from seg2vid_tf import labels, visualization  # pylint: disable=import-outside-toplevel

    generated, real, maps, flow = (videos[key] for key in ("generated", "real", "label_maps",
                                                           "flow"))
    largest = visualization.robust_flow_scale(flow)
    white = np.full(real.shape[2:4] + (3,), 255, np.uint8)
    animation = []
    for t in range(generated.shape[1]):
        rows = []
        for index in range(generated.shape[0]):
            flow_panel = (white if t == 0 else
                          visualization.flow_to_color(flow[index, t - 1], largest))
            rows.append(np.concatenate([
                labels.colorize(maps[index, 0]), visualization.to_uint8(generated[index, t]),
                visualization.to_uint8(real[index, t]), flow_panel], axis=1))
        animation.append(np.concatenate(rows, axis=0))
    return np.stack(animation)


def futures_frames(pipeline, videos, num_futures=NUM_FUTURES):
    """Animation frames of one held-out label map's futures, one per prior sample.

    Args:
        pipeline: The `Seg2Vid` pipeline.
        videos: `evaluate_videos_from_label_maps(..., keep=n)["_videos"]`; its first label map
            and true video are used.
        num_futures: Prior samples, with seeds 0 .. num_futures - 1.

    Returns:
        uint8 `[T + 1, H, (num_futures + 2) * W, 3]`: label map colours | ground truth | one
        generated video per seed.
    """
    from seg2vid_tf import labels, visualization  # pylint: disable=import-outside-toplevel

    label_map, real = videos["label_maps"][0, 0], videos["real"][0]
    futures = pipeline.generate(real.shape[0] - 1, list(range(num_futures)),
                                label_map=np.repeat(label_map[None], num_futures, axis=0))["video"]
    colours = labels.colorize(label_map)
    return np.stack([
        np.concatenate([colours, visualization.to_uint8(real[t])]
                       + [visualization.to_uint8(future[t]) for future in futures], axis=1)
        for t in range(real.shape[0])])


def long_video_frames(pipeline, videos, num_frames=LONG_FRAMES):
    """Animation frames of one held-out label map's long video (from the map, seed 0).

    Returns:
        uint8 `[num_frames + 1, H, 3 * W, 3]`: label map colours | generated video | the label
        map carried along.
    """
    from seg2vid_tf import labels, visualization  # pylint: disable=import-outside-toplevel

    label_map = videos["label_maps"][:1, 0]
    result = pipeline.generate(num_frames, 0, label_map=label_map)
    colours = labels.colorize(label_map[0])
    return np.stack([
        np.concatenate([colours, visualization.to_uint8(result["video"][0, t]),
                        labels.colorize(result["label_maps"][0, t])], axis=1)
        for t in range(num_frames + 1)])


def _write_report(report_dir, metrics, clips, label_map_gif, futures_gif):
    """The stage-2 report (per-frame charts, clip GIFs) plus the label-map section."""
    from seg2vid_tf import report  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.evaluation import reports  # pylint: disable=import-outside-toplevel

    path = reports.write_report(report_dir, metrics, clips)
    charts = [report.line_chart_svg(
        {"generated from the label map": metrics["video_fcn_miou_per_frame"],
         "real frames": metrics["video_fcn_miou_real_per_frame"]},
        "FCN-score (segmenter mIoU) per frame of the videos from label maps", "mean IoU",
        x_label="frame (0 = painted by stage 1)")]
    shutil.copyfile(label_map_gif, os.path.join(report_dir, "label_map_videos.gif"))
    shutil.copyfile(futures_gif, os.path.join(report_dir, "futures.gif"))
    section = (
        "<h2>From label maps (stage 1 + stage 2)</h2><p>Rows: held-out label maps. Columns: "
        "label map colours | generated video (stage 1 paints frame 0, stage 2 animates it "
        "with a prior latent) | ground truth | forward flow.</p>"
        '<img src="label_map_videos.gif" alt="videos generated from held-out label maps">'
        f"<h2>Several futures of one label map</h2><p>label map colours | ground truth | "
        f"{NUM_FUTURES} videos, one prior sample of the motion latent each (seeds 0 to "
        f"{NUM_FUTURES - 1}).</p>"
        '<img src="futures.gif" alt="several futures sampled for one held-out label map">'
        + "".join(charts))
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    page = page.replace("<h2>Per frame</h2>", section + "<h2>Per frame</h2>", 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path


def _export(pipeline, output_dir):
    """The full pipeline as version 1 of `output_dir/export/seg2vid` (replacing the demo's own)."""
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    export_base = os.path.join(output_dir, "export", "seg2vid")
    if os.path.isdir(export_base):
        shutil.rmtree(export_base)
    return export.export_saved_model(pipeline, export_base, EXPORT_FRAMES, version=1)


def export_shipped_weights(export_base, weights_dir=None):
    """`export_base`, after exporting the shipped weights there unless a version exists.

    Raises:
        FileNotFoundError, ValueError: Missing or damaged weights (named).
    """
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import seg2vid  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    if export.existing_versions(export_base):
        return export_base
    weights_dir = weights_dir or demo_weights.DEFAULT_DIR
    print(f"Exporting the shipped demo weights ({weights_dir}) to {export_base}", flush=True)
    pipeline = seg2vid.Seg2Vid(demo_weights.load_shipped("img2vid", weights_dir),
                               demo_weights.load_shipped("label2image", weights_dir),
                               seg2vid.RolloutOptions(**ROLLOUT))
    export.export_saved_model(pipeline, export_base, EXPORT_FRAMES)
    return export_base


def run_demo(output_dir, weights_dir=None, video_format="gif,mp4", progress=True):
    """The demo's work (see the module docstring); returns the `demo.json` dict.

    Raises:
        FileNotFoundError, ValueError: Missing or damaged weights, bad data (named).
    """
    from seg2vid_tf import demo_weights, visualization  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.evaluation import model_evaluation, pipeline_metrics  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import seg2vid  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import config as config_lib  # pylint: disable=import-outside-toplevel

    start = time.time()
    formats = visualization.parse_video_formats(video_format)
    output_dir = os.path.abspath(output_dir)
    weights_dir = weights_dir or demo_weights.DEFAULT_DIR
    print(f"[1/6] Checking the shipped weights in {weights_dir}")
    manifest = demo_weights.verify(weights_dir)
    checkpoints = demo_weights.unpack(weights_dir, os.path.join(output_dir, "checkpoints"),
                                      manifest=manifest)
    print(f"[2/6] Held-out synthetic scenes (seed {HELD_OUT_SEED}, never used in training)")
    data_dir = held_out_data(output_dir, manifest["recipe"]["data"], progress)
    pipeline = load_seg2vid(checkpoints["img2vid"], checkpoints["label2image"],
                                    rollout_options=seg2vid.RolloutOptions(**ROLLOUT))
    segmenter = demo_weights.load_network("segmenter", checkpoints["segmenter"])
    model = pipeline.video_model
    # Evaluation computes no loss: no perceptual-loss weights needed.
    config = config_lib.TrainConfig(model=model.config, dataset="synthetic", data_dir=data_dir,
                                    batch_size=8, seed=0, loss_weights=(("vgg", 0.0),))
    print("[3/6] Stage 2 on the held-out clips (reconstruction and prior samples)")
    metrics = model_evaluation.evaluate_model(model, config, num_samples=REPORT_SAMPLES,
                                              keep_clips=NUM_SHOWN)
    clips = metrics.pop("_clips", [])
    print("[4/6] Stage 1 and whole videos on the held-out label maps")
    metrics.update(pipeline_metrics.label_map_metrics(
        pipeline.painter, model, segmenter, data_dir, pipeline.height, pipeline.width, seed=0,
        keep_videos=NUM_SHOWN))
    videos = metrics.pop("_videos")
    print("[5/6] Videos and the report")
    frames = label_map_video_frames(videos)
    paths = {"label_map_videos": visualization.write_videos(
        os.path.join(output_dir, "label_map_videos"), frames, fps=3, formats=formats)}
    gif = os.path.join(output_dir, "label_map_videos.gif")
    if "gif" not in formats:  # the report shows the GIF
        visualization.write_gif(gif, frames, fps=3)
    futures = futures_frames(pipeline, videos)
    paths["futures"] = visualization.write_videos(
        os.path.join(output_dir, "futures"), futures, fps=3, formats=formats)
    futures_gif = os.path.join(output_dir, "futures.gif")
    if "gif" not in formats:
        visualization.write_gif(futures_gif, futures, fps=3)
    paths["long_video"] = visualization.write_videos(
        os.path.join(output_dir, "long_video"), long_video_frames(pipeline, videos), fps=4,
        formats=formats)
    paths["report"] = _write_report(os.path.join(output_dir, "report"), metrics, clips, gif,
                                    futures_gif)
    print("[6/6] Exporting the full pipeline for TensorFlow Serving")
    export_dir = _export(pipeline, output_dir)
    export_base = os.path.dirname(export_dir)
    summary = {key: value for key, value in metrics.items() if not isinstance(value, dict)}
    summary.update({
        "metrics": metrics,
        "targets": check_targets(metrics),
        "img2vid_checkpoint_dir": os.path.relpath(checkpoints["img2vid"], output_dir),
        "label2image_checkpoint_dir": os.path.relpath(checkpoints["label2image"], output_dir),
        "segmenter_checkpoint_dir": os.path.relpath(checkpoints["segmenter"], output_dir),
        "held_out_data_dir": os.path.relpath(data_dir, output_dir),
        "held_out_seed": HELD_OUT_SEED,
        "export": os.path.relpath(export_dir, output_dir),
        "videos": paths,
        "weights_recipe": manifest["recipe"],
        "serve_command": (f"python -m seg2vid_tf.serve --export_base={export_base} "
                          "--port=8501   # then open http://127.0.0.1:8501/"),
        "minutes": (time.time() - start) / 60.0,
    })
    with open(os.path.join(output_dir, "demo.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    return summary


def _print_summary(summary):
    metrics = summary["metrics"]
    print(f"Stage 1: FCN mIoU {metrics['fcn_miou_generated']:.3f} on painted frames vs "
          f"{metrics['fcn_miou_real']:.3f} on real ones; first-frame PSNR "
          f"{metrics['first_frame_psnr']:.2f} dB vs {metrics['first_frame_psnr_class_mean']:.2f}"
          " dB (class-mean colours).")
    print(f"Stage 2: PSNR {metrics['psnr']:.2f} dB vs copy-the-start-frame "
          f"{metrics['psnr_copy_first_frame']:.2f} dB; flow EPE {metrics['flow_epe']:.3f} px vs "
          f"zero flow {metrics['flow_epe_zero']:.3f} px.")
    for target, holds in summary["targets"].items():
        print(f"  {'holds ' if holds else 'MISSED'}  {target}")
    print(f"Videos: {', '.join(summary['videos']['label_map_videos'])}; "
          f"{NUM_FUTURES} futures of one map: {', '.join(summary['videos']['futures'])}; report: "
          f"{summary['videos']['report']} ({summary['minutes']:.1f} min).")
    print("Open the web page on the export:\n  " + summary["serve_command"])


def define_flags():
    define_flag("string", "output_dir", "demo_output", "Where the demo writes everything.")
    define_flag("string", "weights_dir", None, "The shipped demo weights "
                                               "(seg2vid_tf/assets/demo_weights by default).")
    define_flag("string", "video_format", "gif,mp4", "gif, mp4 or gif,mp4 for label_map_videos.")


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    summary = run_demo(values.output_dir, values.weights_dir, values.video_format)
    _print_summary(summary)
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
