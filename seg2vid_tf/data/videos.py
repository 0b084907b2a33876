"""Folder-of-videos datasets (KTH, UCF101): videos, splits and their clips.

Such a dataset is a ``ROOT/<category>/<video>`` tree in which a video is
either a folder of frame images or a video file (``.avi``, decoded once into
PNGs by :mod:`seg2vid_tf.data.video_frames`). :func:`find_videos` lists the
videos as :class:`VideoSource` records, :func:`read_split_file` reads an
official split list, :func:`video_clips` cuts every run of ``num_frames``
frames into a :class:`~seg2vid_tf.data.clips.Clip`, and
:func:`find_video_clips` does all of it for one split of a reader.
"""

import dataclasses
import os

from absl import logging

from seg2vid_tf.data.clips import (
    IMAGE_EXTENSIONS,
    Clip,
    check_clip_files,
    check_on_error,
    list_frame_files,
    natural_key,
)
from seg2vid_tf.data.video_frames import default_video_cache_dir, materialize_videos

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoSource",
    "VideoSplitRules",
    "find_video_clips",
    "find_videos",
    "read_split_file",
    "video_clips",
]

VIDEO_EXTENSIONS = (".avi",)


@dataclasses.dataclass(frozen=True)
class VideoSource:
    """One video of a ``ROOT/<category>/<video>`` tree.

    Attributes:
        category: Action / class folder name.
        name: Video name (frame folder name or video file stem).
        frame_paths: Sorted frame files, or None for a video file that has not
            been extracted yet.
        video_path: The video file, or None for a frame folder.
    """

    category: str
    name: str
    frame_paths: tuple | None = None
    video_path: str | None = None


def find_videos(data_dir, categories=None, description="dataset"):
    """Lists the videos of a ``ROOT/<category>/<video>`` tree.

    A video is either a folder of frame images ``ROOT/<category>/<video>/``
    or a video file ``ROOT/<category>/<video>.avi``; when both exist the
    folder wins.

    Args:
        data_dir: The dataset root.
        categories: Optional iterable of category folder names to keep.
        description: Dataset name used in messages.

    Returns:
        Sorted list of :class:`VideoSource`.

    Raises:
        FileNotFoundError: data_dir or a requested category is missing.
        ValueError: No category folders or no videos.
    """
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"{description} directory {data_dir} does not exist (expected "
            f"{data_dir}/<category>/<video>/<frames> or {data_dir}/<category>/<video>.avi)."
        )
    videos = []
    for category in _category_folders(data_dir, categories, description):
        videos += _category_videos(data_dir, category, description)
    if not videos:
        raise ValueError(
            f"{description}: no videos found under {data_dir} (expected frame folders "
            f"<category>/<video>/*.png|jpg or <category>/<video>.avi)."
        )
    return videos


def _category_folders(data_dir, categories, description):
    """The category folders of ``data_dir`` (naturally sorted), restricted to ``categories``."""
    found = sorted(
        (n for n in os.listdir(data_dir)
         if not n.startswith(".") and os.path.isdir(os.path.join(data_dir, n))),
        key=natural_key,
    )
    if categories is not None:
        categories = list(categories)
        missing = [c for c in categories if c not in found]
        if missing:
            raise FileNotFoundError(
                f"{description}: category folder(s) {missing} not found in {data_dir} "
                f"(available: {found})."
            )
        found = [c for c in found if c in set(categories)]
    if not found:
        raise ValueError(f"{description}: no category folders in {data_dir}.")
    return found


def _category_videos(data_dir, category, description):
    """The :class:`VideoSource` list of one category folder (frame folders win over files)."""
    videos = []
    cat_dir = os.path.join(data_dir, category)
    names = sorted((n for n in os.listdir(cat_dir) if not n.startswith(".")), key=natural_key)
    folders = {n for n in names if os.path.isdir(os.path.join(cat_dir, n))}
    for name in names:
        path = os.path.join(cat_dir, name)
        if name in folders:
            frames = list_frame_files(path)
            if frames:
                videos.append(VideoSource(category, name, frame_paths=tuple(frames)))
            else:
                logging.warning("%s: no frame images (%s) in %s; ignored.",
                                description, "/".join(IMAGE_EXTENSIONS), path)
        elif name.lower().endswith(VIDEO_EXTENSIONS):
            stem = os.path.splitext(name)[0]
            if stem not in folders:
                videos.append(VideoSource(category, stem, video_path=path))
    return videos


def read_split_file(split_file):
    """Video names listed in a split file (one per line, first token).

    Accepts lines such as ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``
    (UCF101 ``trainlist01.txt``) or ``person01_walking_d1``; the directory and
    the extension are stripped. Blank lines and ``#`` comments are ignored.

    Returns:
        A set of video names.
    """
    split_file = os.fspath(split_file)
    if not os.path.isfile(split_file):
        raise FileNotFoundError(f"Split file {split_file} does not exist.")
    names = set()
    with open(split_file, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            token = line.split()[0].replace("\\", "/")
            base = token.rsplit("/", 1)[-1]
            stem, ext = os.path.splitext(base)
            names.add(stem if ext.lower() in VIDEO_EXTENSIONS else base)
    if not names:
        raise ValueError(f"Split file {split_file} lists no videos.")
    return names


def video_clips(videos, num_frames, frame_stride=1):
    """Every clip of ``num_frames`` frames ``frame_stride`` apart, at every start frame.

    Args:
        videos: :class:`VideoSource` list with ``frame_paths``.
        num_frames: Frames per clip.
        frame_stride: Step between the frames of a clip.

    Returns:
        List of :class:`Clip`, in video order then start-frame order, with
        ``clip_id = "<video>/<start frame stem>"``.
    """
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}.")
    if not isinstance(frame_stride, int) or frame_stride < 1:
        raise ValueError(f"frame_stride must be a positive integer, got {frame_stride!r}.")
    span = (num_frames - 1) * frame_stride + 1
    clips = []
    for video in videos:
        frames = video.frame_paths
        for start in range(len(frames) - span + 1):
            paths = frames[start:start + span:frame_stride]
            stem = os.path.splitext(os.path.basename(paths[0]))[0]
            clips.append(Clip(frame_paths=paths, clip_id=f"{video.name}/{stem}"))
    return clips


def _split_videos(videos, split, *, split_file, split_of, splits, split_help, split_rule,
                  name_key, description, data_dir):
    """The videos of one split: those named in ``split_file``, else ``split_of(name) == split``.

    The arguments are those of :func:`find_video_clips`; ``data_dir`` is only
    named in the error.

    Raises:
        FileNotFoundError: The split file is missing.
        ValueError: Unknown split, or no video in the split.
    """
    if split_file is not None:
        key = name_key or (lambda name: name)
        names = {key(n) for n in read_split_file(split_file)}
        selected = [v for v in videos if key(v.name) in names]
        rule = f"the videos listed in {os.fspath(split_file)}"
    else:
        if split not in splits:
            raise ValueError(
                f"{description} split must be one of {splits} ({split_help}) or a split_file "
                f"must be given, got {split!r}."
            )
        selected = [v for v in videos if split_of(v.name) == split]
        rule = split_rule
    if not selected:
        raise ValueError(
            f"No {description} videos of split {split!r} among the {len(videos)} videos in "
            f"{os.fspath(data_dir)} (split rule: {rule})."
        )
    return selected


def numbered_split(video_name, pattern, test_numbers):
    """"test" when the number `pattern` captures in `video_name` (its first group) is one of
    `test_numbers`, else "train" (also when the name has no such number)."""
    match = pattern.search(video_name)
    return "test" if match and int(match.group(1)) in test_numbers else "train"


@dataclasses.dataclass(frozen=True)
class VideoSplitRules:
    """What a ``ROOT/<category>/<video>`` reader (KTH, UCF101) knows of its videos.

    Attributes:
        description: Dataset name used in messages ("KTH").
        grayscale: Extract single-channel frames.
        split_of: Maps a video name to its split by the dataset's rule.
        splits: The split names the rule knows.
        split_help: What the splits mean, for the error on an unknown split
            ("persons 1-16 / 17-25").
        split_rule: The rule in words, for the error on an empty split.
        name_key: Optional normalization applied to the names of both the
            videos and the split file before comparing them.
    """

    description: str
    grayscale: bool
    split_of: object
    splits: tuple
    split_help: str
    split_rule: str
    name_key: object = None


def find_video_clips(data_dir, split, num_frames, frame_stride, *, rules, categories=None,
                     split_file=None, video_cache_dir=None, on_error="raise"):
    """Every clip of one split of a ``ROOT/<category>/<video>`` dataset (KTH, UCF101).

    Lists the videos (:func:`find_videos`), selects the split (the names in
    ``split_file``, else ``rules.split_of(name) == split``), extracts the
    frames of video files into ``video_cache_dir``
    (:func:`materialize_videos`), cuts the clips (:func:`video_clips`) and
    checks their files (:func:`check_clip_files`).

    Args:
        data_dir: The dataset root.
        split: A name in ``rules.splits``; with a ``split_file`` only a name
            used in messages.
        num_frames: Frames per clip.
        frame_stride: Step between the frames of a clip (every start frame is
            used).
        rules: The reader's :class:`VideoSplitRules`.
        categories: Optional category folders to keep, or None for all.
        split_file: Optional text file listing the videos of the split
            (:func:`read_split_file`), or None.
        video_cache_dir: Where frames of video files are extracted; None: the
            :func:`default_video_cache_dir` of ``data_dir``.
        on_error: "raise" on a missing or empty file, or "skip" the clip.

    Returns:
        List of :class:`Clip`, sorted by category, video and start frame.

    Raises:
        FileNotFoundError: data_dir, a category or the split file is missing.
        ValueError: Unknown split, no videos in the split, no clip long enough.
        RuntimeError: Video files but no imageio video backend.
    """
    description = rules.description
    check_on_error(on_error)
    videos = find_videos(data_dir, categories, description)
    selected = _split_videos(
        videos, split, split_file=split_file, split_of=rules.split_of, splits=rules.splits,
        split_help=rules.split_help, split_rule=rules.split_rule, name_key=rules.name_key,
        description=description, data_dir=data_dir)
    cache = video_cache_dir or default_video_cache_dir(data_dir)
    selected = materialize_videos(selected, cache, grayscale=rules.grayscale,
                                  description=description)
    clips = video_clips(selected, num_frames, frame_stride)
    if not clips:
        longest = max(len(v.frame_paths) for v in selected)
        raise ValueError(
            f"No {description} clips of split {split!r}: a clip of {num_frames} frames with "
            f"stride {frame_stride} spans {(num_frames - 1) * frame_stride + 1} frames but the "
            f"longest of the {len(selected)} videos has {longest}."
        )
    clips = check_clip_files(clips, on_error, f"{description} clip")
    if not clips:
        raise ValueError(
            f"No {description} clips of split {split!r} left after skipping broken files.")
    logging.info("%s %s: %d clips from %d videos.", description, split, len(clips), len(selected))
    return clips
