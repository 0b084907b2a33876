"""UCF101 action videos: RGB, no label maps.

Official UCF101 ships ``ROOT/<ClassName>/v_<ClassName>_gXX_cYY.avi`` (group
XX = 01..25, clip YY). Accepted layouts::

    ROOT/<ClassName>/<video_name>/<frame images>   (pre-extracted, preferred)
    ROOT/<ClassName>/v_<ClassName>_gXX_cYY.avi     (decoded with imageio)

Frames are PNG or JPEG files sorted by name (natural order). ``.avi`` files
need an imageio video backend (imageio-ffmpeg or PyAV); their frames are
extracted once into ``video_cache_dir``. Without a backend a clear error asks
to extract the frames or install imageio-ffmpeg.

Split: the official ``trainlist01.txt`` / ``testlist01.txt`` when given as
``split_file`` (lines like ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``),
else the official split-1 rule by group: groups 1-7 test, 8-25 train
(``split="train"`` / ``"test"``); names without ``_gXX_`` go to train.
``classes=`` keeps some classes only (the authors trained one model per
category).

Elements of :func:`make_dataset` (batched, channels-last)::

    video:    float32 [B, T, H, W, 3] in [0, 1]
    clip_id:  string  [B], "<video_name>/<start frame stem>"
"""

import os
import re

from absl import logging

from seg2vid_tf.data import pipeline
from seg2vid_tf.data.pipeline import Clip

__all__ = ["Clip", "TEST_GROUPS", "find_clips", "make_dataset", "split_of"]

TEST_GROUPS = tuple(range(1, 8))
SPLITS = ("train", "test")

_GROUP_RE = re.compile(r"_g(\d+)_c(\d+)$", re.IGNORECASE)


def split_of(video_name):
    """"train" or "test" for a video name by the split-1 group rule."""
    match = _GROUP_RE.search(video_name)
    if match and int(match.group(1)) in TEST_GROUPS:
        return "test"
    return "train"


def find_clips(
    data_dir,
    split,
    num_frames=5,
    frame_stride=1,
    *,
    split_file=None,
    classes=None,
    video_cache_dir=None,
    on_error="raise",
):
    """Finds every clip of a UCF101 split.

    Args:
        data_dir: UCF101 root (``<ClassName>/`` folders).
        split: "train" (groups 8-25) or "test" (groups 1-7); with a
            ``split_file`` only a name used in messages.
        num_frames: Frames per clip.
        frame_stride: Step between the frames of a clip (every start frame is
            used).
        split_file: Optional official list (``trainlist01.txt``, ...).
        classes: Optional class folders to keep.
        video_cache_dir: Where frames of ``.avi`` files are extracted; a
            folder in the temp dir by default.
        on_error: "raise" on a missing or empty file, or "skip" the clip.

    Returns:
        List of :class:`Clip`, sorted by class, video and start frame.

    Raises:
        FileNotFoundError: data_dir, a class or the split file is missing.
        ValueError: Unknown split, no videos in the split, no clip long enough.
        RuntimeError: ``.avi`` files but no imageio video backend.
    """
    pipeline.check_on_error(on_error)
    if isinstance(classes, str):
        classes = [classes]
    videos = pipeline.find_videos(data_dir, classes, "UCF101")
    if split_file is not None:
        names = pipeline.read_split_file(split_file)
        selected = [v for v in videos if v.name in names]
        rule = f"the videos listed in {os.fspath(split_file)}"
    else:
        if split not in SPLITS:
            raise ValueError(
                f"UCF101 split must be one of {SPLITS} (groups 8-25 / 1-7) or a split_file "
                f"must be given, got {split!r}."
            )
        selected = [v for v in videos if split_of(v.name) == split]
        rule = "groups 1-7 test, 8-25 train (_gXX_ in the name)"
    if not selected:
        raise ValueError(
            f"No UCF101 videos of split {split!r} among the {len(videos)} videos in "
            f"{os.fspath(data_dir)} (split rule: {rule})."
        )
    cache = video_cache_dir or pipeline.default_video_cache_dir(data_dir)
    selected = pipeline.materialize_videos(selected, cache, grayscale=False, description="UCF101")
    clips = pipeline.video_clips(selected, num_frames, frame_stride)
    if not clips:
        longest = max(len(v.frame_paths) for v in selected)
        raise ValueError(
            f"No UCF101 clips of split {split!r}: a clip of {num_frames} frames with stride "
            f"{frame_stride} spans {(num_frames - 1) * frame_stride + 1} frames but the "
            f"longest of the {len(selected)} videos has {longest}."
        )
    clips = pipeline.check_clip_files(clips, on_error, "UCF101 clip")
    if not clips:
        raise ValueError(f"No UCF101 clips of split {split!r} left after skipping broken files.")
    logging.info("UCF101 %s: %d clips from %d videos.", split, len(clips), len(selected))
    return clips


def make_dataset(
    clips,
    *,
    height,
    width,
    batch_size,
    shuffle=False,
    seed=None,
    repeat=False,
    deterministic=True,
    drop_remainder=False,
    on_error="raise",
    skip_counter=None,
):
    """Builds the batched UCF101 dataset (RGB).

    Args:
        clips: Clips from :func:`find_clips`.
        height: Output height (frames are resized bilinearly, antialiased).
        width: Output width.
        batch_size: Clips per batch.
        shuffle: Shuffle the clips (reshuffled every epoch).
        seed: Shuffle seed.
        repeat: Repeat forever.
        deterministic: Keep the order of the parallel decoding.
        drop_remainder: Drop a final partial batch.
        on_error: "raise", or "skip" broken clips (counted and logged).
        skip_counter: Optional :class:`pipeline.SkipCounter`.

    Returns:
        ``tf.data.Dataset`` of dicts (see the module docstring).
    """
    return pipeline.make_frames_dataset(
        clips,
        channels=3,
        height=height,
        width=width,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        repeat=repeat,
        deterministic=deterministic,
        drop_remainder=drop_remainder,
        on_error=on_error,
        skip_counter=skip_counter,
        description="UCF101 clip",
    )
