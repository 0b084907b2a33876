"""Pictures people look at: flow in the Middlebury colour wheel, masks, GIFs.

`flow_to_color` follows the standard Middlebury colour coding (Baker et al.):
hue is the flow direction, saturation its magnitude relative to the largest
displayed motion; a legend (`color_wheel_legend`) shows the mapping.
"""

import os

import imageio.v2 as imageio
import numpy as np

_SEGMENTS = ((15, (255, 0, 0), (255, 255, 0)),  # red -> yellow
             (6, (255, 255, 0), (0, 255, 0)),  # yellow -> green
             (4, (0, 255, 0), (0, 255, 255)),  # green -> cyan
             (11, (0, 255, 255), (0, 0, 255)),  # cyan -> blue
             (13, (0, 0, 255), (255, 0, 255)),  # blue -> magenta
             (6, (255, 0, 255), (255, 0, 0)))  # magenta -> red


def _wheel():
    colors = []
    for steps, start, end in _SEGMENTS:
        for i in range(steps):
            colors.append(np.array(start) + (np.array(end) - np.array(start)) * i / steps)
    return np.array(colors, np.float64) / 255.0  # [55, 3]


_WHEEL = _wheel()


def flow_to_color(flow, max_magnitude=None):
    """`[H, W, 2]` flow (channel 0 = dx, channel 1 = dy, any unit) -> uint8 RGB `[H, W, 3]`.

    Args:
        flow: Flow field, x first.
        max_magnitude: Magnitude shown at full saturation; the field's maximum when None.
    """
    flow = np.nan_to_num(np.asarray(flow, np.float64))
    dx, dy = flow[..., 0], flow[..., 1]
    magnitude = np.hypot(dx, dy)
    scale = max_magnitude if max_magnitude else max(magnitude.max(), 1e-9)
    radius = np.clip(magnitude / scale, 0.0, 1.0)
    angle = np.arctan2(-dy, -dx) / np.pi  # -1..1
    position = (angle + 1.0) / 2.0 * (len(_WHEEL) - 1)
    low = np.floor(position).astype(int)
    high = (low + 1) % len(_WHEEL)
    fraction = (position - low)[..., None]
    color = (1 - fraction) * _WHEEL[low] + fraction * _WHEEL[high]
    color = 1.0 - radius[..., None] * (1.0 - color)
    return (color * 255.0 + 0.5).astype(np.uint8)


def color_wheel_legend(size=64):
    """A `[size, size, 3]` picture of the colour coding (centre = no motion)."""
    coordinates = np.linspace(-1.0, 1.0, size)
    dx, dy = np.meshgrid(coordinates, coordinates)
    legend = flow_to_color(np.stack([dx, dy], axis=-1), max_magnitude=1.0)
    legend[np.hypot(dx, dy) > 1.0] = 255
    return legend


def robust_flow_scale(flow, percentile=99.0):
    """The speed shown at full saturation: a high percentile of the flow's magnitudes.

    The maximum would let a few wild pixels (a border, an unseen region) wash the
    whole picture out; faster pixels than the percentile are shown saturated.
    """
    speeds = np.hypot(np.asarray(flow)[..., 0], np.asarray(flow)[..., 1])
    return max(float(np.percentile(speeds, percentile)), 1e-3)


def to_uint8(images):
    """Float images in [0, 1] (any shape, 1 or 3 channels) -> uint8 RGB."""
    images = np.clip(np.asarray(images, np.float64), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return (images * 255.0 + 0.5).astype(np.uint8)


def mask_to_image(mask):
    """`[H, W]` mask in [0, 1] -> grey uint8 RGB."""
    return to_uint8(np.asarray(mask)[..., None])


def write_gif(path, frames, fps=4):
    """Writes uint8 `[T, H, W, 3]` frames as a looping GIF; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # imageio's Pillow writer takes the duration in milliseconds (in seconds, 0.25 was
    # written as 0 ms: every frame shown as fast as the viewer allows).
    imageio.mimsave(path, list(np.asarray(frames, np.uint8)), duration=1000.0 / fps, loop=0)
    return path


VIDEO_FORMATS = ("gif", "mp4")


def write_mp4(path, frames, fps=4):
    """Writes uint8 `[T, H, W, 3]` frames as an H.264 MP4 (imageio-ffmpeg's own ffmpeg)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    imageio.mimsave(path, list(np.asarray(frames, np.uint8)), fps=fps, macro_block_size=1)
    return path


def parse_video_formats(value, flag_name="video_format"):
    """`"gif"`, `"mp4"` or `"gif,mp4"` -> tuple of formats (ValueError naming the flag)."""
    formats = tuple(part.strip().lower() for part in str(value).split(",") if part.strip())
    unknown = [part for part in formats if part not in VIDEO_FORMATS]
    if not formats or unknown:
        raise ValueError(f"--{flag_name} must be gif, mp4 or gif,mp4; got {value!r}.")
    return formats


def write_videos(path, frames, fps=4, formats=("gif",)):
    """Writes the animation once per format, `path` with each format's extension.

    Args:
        path: Output path; its extension (if .gif or .mp4) is replaced per format.
        frames: uint8 `[T, H, W, 3]`.
        fps: Frames per second.
        formats: Any of `VIDEO_FORMATS`.

    Returns:
        The written paths, in the order of `formats`.
    """
    stem, extension = os.path.splitext(path)
    if extension.lower().lstrip(".") not in VIDEO_FORMATS:
        stem = path
    writers = {"gif": write_gif, "mp4": write_mp4}
    return [writers[kind](f"{stem}.{kind}", frames, fps=fps) for kind in formats]


def comparison_panels(frames, flow, mask, truth=None):
    """Per predicted frame: [prediction, ground truth (or blank), flow colour, mask], uint8.

    Args:
        frames: `[T, H, W, C]` predicted frames in [0, 1].
        flow: `[T, H, W, 2]` forward flow in pixels (dx, dy); one colour scale for the
            clip (`robust_flow_scale`).
        mask: `[T, H, W]` forward occlusion mask (1 = warped from the start frame).
        truth: Optional `[T', H, W, C]` ground-truth frames 1..T' in [0, 1].

    Returns:
        A list of T lists of four uint8 `[H, W, 3]` panels.
    """
    frames, flow, mask = np.asarray(frames), np.asarray(flow), np.asarray(mask)
    largest = robust_flow_scale(flow)
    blank = np.full(frames.shape[1:3] + (3,), 255, np.uint8)
    panels = []
    for t in range(frames.shape[0]):
        expected = to_uint8(truth[t]) if truth is not None and t < len(truth) else blank
        panels.append([to_uint8(frames[t]), expected, flow_to_color(flow[t], largest),
                       mask_to_image(mask[t])])
    return panels


def comparison_frames(start, frames, flow, mask, truth=None):
    """Animation frames: start frame | prediction | ground truth | flow | mask, uint8 `[T+1, H, 5W, 3]`.

    The first animation frame shows the start frame in the three image columns.
    Arguments as `comparison_panels`, plus `start` `[H, W, C]` in [0, 1].
    """
    start = to_uint8(start)
    white = np.full_like(start, 255)
    animation = [np.concatenate([start, start, start, white, white], axis=1)]
    for panel in comparison_panels(frames, flow, mask, truth):
        animation.append(np.concatenate([start] + panel, axis=1))
    return np.stack(animation)
