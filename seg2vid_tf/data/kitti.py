"""KITTI start frames for video generation (no future frames, no labels).

Official layout (KITTI flow / raw style)::

    ROOT/<split>/image_2/*.png       (split e.g. "training" or "testing")

e.g. ``ROOT/training/image_2/000000_10.png``; ``pattern="*_10.png"`` keeps
the first frame of each KITTI flow pair. Any folder of images works too:
``find_frames(folder, split=None, pattern="*.jpg")``. Images of different
sizes (KITTI has 370..376 x 1224..1242) are resized to the requested size.

Elements of :func:`make_dataset` (batched, channels-last)::

    video:    float32 [B, 1, H, W, 3] in [0, 1]   (the start frame)
    clip_id:  string  [B], the image's file stem
"""

import fnmatch
import os

from absl import logging

from seg2vid_tf.data import datasets
from seg2vid_tf.data.clips import (
    IMAGE_EXTENSIONS,
    Clip,
    check_clip_files,
    check_on_error,
    natural_key,
)

__all__ = ["Clip", "find_frames", "make_dataset"]

IMAGE_DIR = "image_2"


def find_frames(data_dir, split=None, pattern="*.png", on_error="raise"):
    """Finds the start frames.

    Args:
        data_dir: KITTI root, or (with ``split=None``) any folder of images.
        split: Split folder ("training", "testing"); images are read from
            ``data_dir/split/image_2``. None: from ``data_dir`` itself.
        pattern: Shell pattern of the image file names (case-insensitive);
            only PNG and JPEG files can be decoded.
        on_error: "raise" on an empty file, or "skip" it (logged).

    Returns:
        List of single-frame :class:`Clip` sorted by file name, with
        ``clip_id`` = file stem.

    Raises:
        FileNotFoundError: The folder is missing.
        ValueError: No image matches ``pattern``.
    """
    check_on_error(on_error)
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"KITTI directory {data_dir} does not exist.")
    if split is None:
        folder = data_dir
    else:
        folder = os.path.join(data_dir, split, IMAGE_DIR)
        if not os.path.isdir(folder):
            available = sorted(
                n for n in os.listdir(data_dir)
                if os.path.isdir(os.path.join(data_dir, n, IMAGE_DIR))
            )
            raise FileNotFoundError(
                f"KITTI image folder {folder} does not exist (expected <split>/{IMAGE_DIR}/*.png; "
                f"splits with an {IMAGE_DIR} folder: {available})."
            )
    names = [
        n for n in os.listdir(folder)
        if fnmatch.fnmatch(n.lower(), pattern.lower()) and os.path.isfile(os.path.join(folder, n))
    ]
    unsupported = [n for n in names if not n.lower().endswith(IMAGE_EXTENSIONS)]
    if unsupported:
        raise ValueError(
            f"KITTI: {len(unsupported)} files matching {pattern!r} in {folder} are not PNG/JPEG, "
            f"e.g. {unsupported[0]}."
        )
    if not names:
        raise ValueError(f"No images matching {pattern!r} in {folder}.")
    clips = [
        Clip(frame_paths=(os.path.join(folder, n),), clip_id=os.path.splitext(n)[0])
        for n in sorted(names, key=natural_key)
    ]
    clips = check_clip_files(clips, on_error, "KITTI frame")
    if not clips:
        raise ValueError(f"No KITTI frames left in {folder} after skipping broken files.")
    logging.info("KITTI: %d start frames in %s.", len(clips), folder)
    return clips


def make_dataset(frames, *, height, width, batch_size, **options):
    """Builds the batched dataset of start frames.

    Args:
        frames: Clips from :func:`find_frames`.
        height: Output height (bilinear, antialiased resize).
        width: Output width.
        batch_size: Frames per batch.
        **options: :class:`seg2vid_tf.data.datasets.PipelineOptions`
            (``on_error="skip"`` drops broken images and counts them).

    Returns:
        ``tf.data.Dataset`` of dicts (see the module docstring).
    """
    frames = list(frames)
    longer = [c.clip_id for c in frames if c.num_frames != 1]
    if longer:
        raise ValueError(f"KITTI make_dataset expects single-frame clips, got e.g. {longer[0]!r}.")
    return datasets.make_frames_dataset(frames, channels=3, height=height, width=width,
                                        batch_size=batch_size, description="KITTI frame",
                                        **options)
