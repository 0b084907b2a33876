"""Compatibility module: the shared tf.data building blocks under their old import path.

The building blocks of the dataset readers now live in one module per role;
this module re-exports their public names so that code outside the repository
which imports ``seg2vid_tf.data.pipeline`` keeps working. New code imports
the modules themselves:

* :mod:`seg2vid_tf.data.clips`: the :class:`Clip` record, the cheap file
  checks (:func:`check_clip_files`), frame listing in natural order and
  argument checks.
* :mod:`seg2vid_tf.data.decoding`: the in-graph loaders of images, label maps
  and KITTI flows whose errors name the file (:func:`load_frames`, ...).
* :mod:`seg2vid_tf.data.resizing`: resizing of frames, label maps and flows.
* :mod:`seg2vid_tf.data.datasets`: :func:`make_clip_dataset`,
  :func:`make_frames_dataset` and the :class:`SkipCounter` of
  ``on_error="skip"``.
* :mod:`seg2vid_tf.data.videos`: ``ROOT/<category>/<video>`` trees (KTH,
  UCF101): :class:`VideoSource`, splits and :func:`find_video_clips`.
* :mod:`seg2vid_tf.data.video_frames`: frames of video files (imageio
  backend, extraction to PNGs, cache).
"""

from seg2vid_tf.data.clips import (
    IMAGE_EXTENSIONS,
    Clip,
    check_clip_files,
    check_on_error,
    check_size,
    list_frame_files,
    natural_key,
)
from seg2vid_tf.data.datasets import SkipCounter, make_clip_dataset, make_frames_dataset
from seg2vid_tf.data.decode_errors import DataFileError
from seg2vid_tf.data.decoding import (  # noqa: F401 (re-exported constants)
    IGNORE_ID,
    JPEG_EOI_WINDOW,
    JPEG_SOI,
    KITTI_FLOW_OFFSET,
    KITTI_FLOW_SCALE,
    LABEL_ID_KINDS,
    NUM_CLASSES,
    PNG_IEND,
    PNG_SIGNATURE,
    VOID_ID,
    load_frames,
    load_image,
    load_kitti_flow,
    load_label,
)
from seg2vid_tf.data.resizing import resize_flow, resize_frames, resize_label
from seg2vid_tf.data.video_frames import (
    default_video_cache_dir,
    extract_video_frames,
    materialize_videos,
)
from seg2vid_tf.data.videos import (  # noqa: F401 (re-exported constant)
    VIDEO_EXTENSIONS,
    VideoSource,
    find_video_clips,
    find_videos,
    read_split_file,
    video_clips,
)

__all__ = [
    "Clip",
    "DataFileError",
    "IGNORE_ID",
    "IMAGE_EXTENSIONS",
    "NUM_CLASSES",
    "SkipCounter",
    "VOID_ID",
    "VideoSource",
    "check_clip_files",
    "check_on_error",
    "check_size",
    "default_video_cache_dir",
    "extract_video_frames",
    "find_video_clips",
    "find_videos",
    "list_frame_files",
    "load_frames",
    "load_image",
    "load_kitti_flow",
    "load_label",
    "make_clip_dataset",
    "make_frames_dataset",
    "make_frames_dataset_function",
    "materialize_videos",
    "natural_key",
    "read_split_file",
    "resize_flow",
    "resize_frames",
    "resize_label",
    "video_clips",
]


def make_frames_dataset_function(*, channels, description, summary, module):
    """Deprecated: builds a reader's ``make_dataset`` (kept for code outside the repository).

    The readers of the repository (:mod:`kth`, :mod:`ucf101`, :mod:`kitti`)
    define their ``make_dataset`` as plain functions that call
    :func:`seg2vid_tf.data.datasets.make_frames_dataset`; new readers should
    do the same. This returns ``make_dataset(clips, *, height, width,
    batch_size, **options)`` (the options of
    :class:`seg2vid_tf.data.datasets.PipelineOptions`), which calls
    :func:`make_frames_dataset` with ``channels`` and ``description``.

    Args:
        channels: Frame channels of the reader (1 grayscale, 3 RGB).
        description: Word used in messages ("KTH clip", ...).
        summary: First line of the function's docstring.
        module: ``__name__`` of the reader (shown by ``help`` and in tracebacks).

    Returns:
        The ``make_dataset`` function.
    """

    def make_dataset(clips, *, height, width, batch_size, **options):
        return make_frames_dataset(clips, channels=channels, height=height, width=width,
                                   batch_size=batch_size, description=description, **options)

    make_dataset.__doc__ = (
        f"{summary}\n\nThe arguments are those of "
        f":func:`seg2vid_tf.data.datasets.make_frames_dataset` with ``channels={channels}``."
    )
    make_dataset.__module__ = module
    make_dataset.__qualname__ = "make_dataset"
    return make_dataset
