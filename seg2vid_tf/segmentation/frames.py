"""Frames of your own footage: an image, a directory or glob of images, or a video file.

`open_frames(spec)` returns a `FrameSource`: its frames in order as uint8
RGB arrays, one at a time (a long video is never held in memory). A
directory or glob is read in sorted file-name order, as the frames of one
sequence. Videos are decoded by imageio-ffmpeg's own ffmpeg binary.

`resize_image` is the resize policy shared with `seg2vid_tf.generation.inputs`:
``fit`` scales the whole picture to the target size (the aspect ratio may
change), ``crop`` cuts the largest centred window of the target's aspect ratio
and scales that.
"""

import dataclasses
import glob
import os
from typing import Callable

import numpy as np
from PIL import Image

from seg2vid_tf.data.clips import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
RESIZE_MODES = ("fit", "crop")


@dataclasses.dataclass
class FrameSource:
    """Frames to segment.

    Attributes:
        kind: "images" or "video".
        description: What was opened, for messages.
        count: Number of frames (an estimate from the container for videos).
        iterate: Function returning an iterator of uint8 `[H, W, 3]` frames.
    """

    kind: str
    description: str
    count: int
    iterate: Callable


def read_image(path, flag_name="input"):
    """An image file as uint8 RGB `[H, W, 3]` (ValueError naming the file if unreadable)."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), np.uint8)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ValueError(f"{path} (--{flag_name}) is not a readable image: {error}") from error


def resize_image(image, height, width, mode="fit", resample=Image.BILINEAR):
    """Resizes uint8 `[H, W, C]` (or a label map `[H, W]`) to `height` x `width`.

    Args:
        image: uint8 NumPy array.
        height, width: Target size.
        mode: "fit" (scale the whole image) or "crop" (centre crop to the
            target's aspect ratio, then scale).
        resample: Pillow filter (`Image.NEAREST` for label maps).

    Returns:
        The resized array (the input itself when the size already fits).
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"--resize must be one of {RESIZE_MODES}, got {mode!r}.")
    rows, cols = image.shape[:2]
    if (rows, cols) == (height, width):
        return image
    if mode == "crop":
        if rows * width > cols * height:  # too tall
            keep = max(1, round(cols * height / width))
            top = (rows - keep) // 2
            image = image[top:top + keep]
        else:
            keep = max(1, round(rows * width / height))
            left = (cols - keep) // 2
            image = image[:, left:left + keep]
    resized = Image.fromarray(np.ascontiguousarray(image)).resize((width, height), resample)
    return np.asarray(resized, image.dtype)


def _image_source(paths, description):
    def iterate():
        for path in paths:
            yield read_image(path)

    return FrameSource("images", description, len(paths), iterate)


def _video_source(path):
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel

    def open_reader():
        try:
            reader = imageio_ffmpeg.read_frames(path)
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration) as error:
            raise ValueError(f"{path} (--input) is not a readable video: {error}") from error
        return reader, meta

    reader, meta = open_reader()
    reader.close()
    width, height = meta["size"]
    count = int(round(float(meta.get("duration") or 0) * float(meta.get("fps") or 0)))

    def iterate():
        frames, _ = open_reader()
        seen = 0
        try:
            for raw in frames:
                seen += 1
                yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
        except RuntimeError as error:
            raise ValueError(f"{path} (--input): decoding failed after {seen} frames: "
                             f"{error}") from error
        finally:
            frames.close()
        if seen == 0:
            raise ValueError(f"{path} (--input) is a video with no frames.")

    return FrameSource("video", f"video {path} ({width}x{height}, {meta.get('fps')} fps)",
                       count, iterate)


def open_frames(spec):
    """The frames named by `--input`: an image, a directory, a glob or a video file.

    Raises:
        FileNotFoundError: Nothing matches `spec`.
        ValueError: An unsupported file kind, or an empty directory.
    """
    if any(char in spec for char in "*?["):
        paths = sorted(path for path in glob.glob(spec)
                       if path.lower().endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise FileNotFoundError(f"No PNG/JPEG images match --input={spec!r}.")
        return _image_source(paths, f"{len(paths)} images matching {spec}")
    if os.path.isdir(spec):
        paths = sorted(os.path.join(spec, name) for name in os.listdir(spec)
                       if name.lower().endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise ValueError(f"--input directory {spec} holds no PNG/JPEG images.")
        return _image_source(paths, f"{len(paths)} images in {spec}")
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"--input not found: {spec!r}.")
    extension = os.path.splitext(spec)[1].lower()
    if extension in VIDEO_EXTENSIONS:
        return _video_source(spec)
    if extension in IMAGE_EXTENSIONS:
        return _image_source([spec], f"image {spec}")
    raise ValueError(f"--input {spec}: expected a PNG/JPEG image, a directory or glob of them, "
                     f"or a video ({', '.join(VIDEO_EXTENSIONS)}).")
