"""`make demo`'s work: held-out label maps turned into videos, scored, shown and exported.

`run_demo` verifies and unpacks the shipped weights, renders held-out scenes
(`seg2vid_tf.demos.data`), evaluates both stages, writes the animations
(`seg2vid_tf.demos.pictures`), the report and `demo.json`, and exports the
pipeline for TensorFlow Serving (the steps are listed in `seg2vid_tf.demo`).
`export_shipped_weights` exports the shipped weights alone, for the web page.
"""

import json
import os
import shutil
import time

from seg2vid_tf import demo_weights, report, visualization
from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.demos.data import HELD_OUT_SEED, held_out_data
from seg2vid_tf.demos.pictures import (NUM_FUTURES, futures_frames, label_map_video_frames,
                                       long_video_frames)
from seg2vid_tf.evaluation import model_evaluation, pipeline_metrics, reports
from seg2vid_tf.models import seg2vid
from seg2vid_tf.serving import export
from seg2vid_tf.training import config as config_lib


NUM_SHOWN = 4  # videos in the GIF grids
REPORT_SAMPLES = 3  # prior samples per held-out clip (stage-2 generation mode)
EXPORT_FRAMES = 24  # frames the web page gets per request (six rounds of the model's four)


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


def _write_report(report_dir, metrics, clips, label_map_gif, futures_gif):
    """The stage-2 report (per-frame charts, clip GIFs) plus the label-map section."""
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
    export_base = os.path.join(output_dir, "export", "seg2vid")
    if os.path.isdir(export_base):
        shutil.rmtree(export_base)
    return export.export_saved_model(pipeline, export_base, EXPORT_FRAMES, version=1)


def export_shipped_weights(export_base, weights_dir=None):
    """`export_base`, after exporting the shipped weights there unless a version exists.

    Raises:
        FileNotFoundError, ValueError: Missing or damaged weights (named).
    """
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
