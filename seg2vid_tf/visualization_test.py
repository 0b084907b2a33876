"""Pictures: the Middlebury colour coding, the legend, the comparison grid, GIFs."""

import numpy as np
from PIL import Image, ImageSequence

from seg2vid_tf import visualization


def test_middlebury_directions_and_magnitude():
    flows = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.0, 0.0]]])
    colors = visualization.flow_to_color(flows, max_magnitude=1.0)[0].astype(int)
    right, down, left, up, still = colors
    assert right[0] == 255 and right[1] < 30 and right[2] < 30  # red
    assert still.tolist() == [255, 255, 255]  # no motion is white
    assert left[0] < 30 and left[2] > 200  # cyan/blue side
    assert down[0] > 150 and down[1] > 150 and down[2] < 100  # yellow-green side
    assert up[2] > 150  # blue/magenta side
    half = visualization.flow_to_color(flows * 0.5, max_magnitude=1.0)[0].astype(int)
    assert half[0][1] > right[1] + 80  # half the magnitude: paler


def test_legend_is_white_outside_the_wheel():
    legend = visualization.color_wheel_legend(32)
    assert legend.shape == (32, 32, 3) and legend[0, 0].tolist() == [255, 255, 255]
    assert legend[16, 16].tolist() == [255, 255, 255] or legend[16, 16].min() > 240


def test_comparison_frames_layout(tmp_path):
    height, width, t = 8, 10, 3
    start = np.zeros((height, width, 3))
    frames = np.ones((t, height, width, 3)) * 0.5
    frames[1:, 0, 0] = [[0.1, 0.2, 0.3], [0.9, 0.1, 0.1]]  # distinct frames (a GIF merges repeats)
    flow = np.zeros((t, height, width, 2))
    flow[..., 0] = 2.0
    mask = np.ones((t, height, width))
    animation = visualization.comparison_frames(start, frames, flow, mask,
                                                truth=np.ones((t, height, width, 3)))
    assert animation.shape == (t + 1, height, 5 * width, 3) and animation.dtype == np.uint8
    assert animation[1, 0, width].tolist() == [128, 128, 128]  # prediction column
    assert animation[1, 0, 2 * width].tolist() == [255, 255, 255]  # ground truth column
    assert animation[1, 0, 3 * width][0] == 255  # rightward flow is red
    path = visualization.write_gif(str(tmp_path / "grid.gif"), animation)
    with Image.open(path) as gif:
        assert gif.n_frames == t + 1 and gif.size == (5 * width, height)


def test_gif_frames_show_for_one_over_fps_seconds(tmp_path):
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    frames[1] = 200
    frames[2] = 90
    path = visualization.write_gif(str(tmp_path / "timed.gif"), frames, fps=5)
    with Image.open(path) as gif:
        durations = [frame.info.get("duration") for frame in ImageSequence.Iterator(gif)]
    assert durations == [200, 200, 200], durations
