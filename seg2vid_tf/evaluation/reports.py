"""The HTML reports of an evaluation (`seg2vid_tf.report`): stage 2, long horizon, stage 1.

`write_report`: the table, per-frame plots and GIF grids (start | prediction |
ground truth | flow | mask) of a few clips and the flow legend;
`add_long_horizon_section` adds the long-horizon curves and videos;
`write_stage1_report`: the table and a grid of painted first frames.
"""

import os

import numpy as np

from seg2vid_tf import report as report_lib
from seg2vid_tf import visualization


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
