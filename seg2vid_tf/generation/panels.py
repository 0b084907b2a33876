"""The animation of a generated video: panels side by side per frame, written as GIF/MP4."""

import os

import numpy as np

from seg2vid_tf import labels, visualization


def video_panels(result, index=0, show_flow=False):
    """uint8 animation frames `[N + 1, H, W', 3]` of one generated video.

    Per frame, side by side: the (warped) label map colours when there is a
    label map, the frame, and with `show_flow` the forward flow (Middlebury
    colour wheel, one scale for the whole video), the forward and the
    backward occlusion mask, and the colour-wheel legend. Frame 0 (the first
    frame) has blank flow and mask panels.
    """
    video = visualization.to_uint8(result["video"][index])
    count, height, width = video.shape[:3]
    blank = np.full((height, width, 3), 255, np.uint8)
    flow = result["flow"][index]
    largest = visualization.robust_flow_scale(flow)
    legend = None
    if show_flow:
        size = min(height, width)
        legend = np.full((height, size, 3), 255, np.uint8)
        top = (height - size) // 2
        legend[top:top + size] = visualization.color_wheel_legend(size)
    panels = []
    for t in range(count):
        row = []
        if "label_maps" in result:
            row.append(labels.colorize(result["label_maps"][index, t]))
        row.append(video[t])
        if show_flow:
            if t == 0:
                row += [blank, blank, blank]
            else:
                row += [visualization.flow_to_color(flow[t - 1], largest),
                        visualization.mask_to_image(result["mask_fw"][index, t - 1]),
                        visualization.mask_to_image(result["mask_bw"][index, t - 1])]
            row.append(legend)
        panels.append(np.concatenate(row, axis=1))
    return np.stack(panels)


def write_video(path, frames, fps=4, video_format="gif,mp4"):
    """Writes the animation in each format of `video_format` (ValueError on a bad path/format).

    Returns:
        List of the written paths.
    """
    if os.path.splitext(path)[1].lower() not in (".gif", ".mp4"):
        raise ValueError(f"--output must end in .gif or .mp4, got {path!r} (each format of "
                         "--video_format is written with its own extension).")
    formats = visualization.parse_video_formats(video_format)
    return visualization.write_videos(path, frames, fps=fps, formats=formats)


# --------------------------------------------------------------------------- run
