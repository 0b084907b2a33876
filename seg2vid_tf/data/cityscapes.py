"""Cityscapes video sequences with semantic label maps (and optional flows).

Official layout (Cityscapes ``leftImg8bit_sequence`` package)::

    ROOT/leftImg8bit_sequence/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png

``<seq>`` and ``<frame>`` are zero-padded 6-digit integers, ``<split>`` is
``train``, ``val`` or ``test``. The semantic map of a start frame is a label
PNG beside it in a parallel tree::

    ROOT/<label_dir>/<split>/<city>/<city>_<seq>_<frame>_<label_suffix>.png

by default ``label_dir="gtFine_sequence"`` and
``label_suffix="gtFine_labelTrainIds"``: an 8-bit single-channel PNG of
train ids ``0..18`` with ``19`` = void; ``255`` (Cityscapes' ignore value) is
mapped to ``19``. With ``label_files="labelIds"`` the reader takes
``*_gtFine_labelIds.png`` instead (Cityscapes label ids ``0..33``, mapped to
train ids by the standard table). Label maps must have the size of their frame.

Optional forward flows (frame t -> t + 1), e.g. precomputed by an optical
flow network, in the KITTI 16-bit format (3-channel uint16 PNG with
``R = u * 64 + 2**15``, ``G = v * 64 + 2**15``, ``B = valid``)::

    ROOT/flow/<split>/<city>/<city>_<seq>_<frame>_flow.png

A clip is every run of ``num_frames`` consecutive frame numbers of one
sequence whose start frame has a label PNG. ``train`` is the training split
and ``val`` the evaluation split; a missing split is an error (there is no
fallback to another split).

Elements of :func:`make_dataset` (batched, channels-last)::

    video:      float32 [B, T, H, W, 3] in [0, 1]
    label_map:  int32   [B, H, W], train ids 0..19
    flow:       float32 [B, T-1, H, W, 2], pixels, u = dx, v = dy (if flows)
    flow_valid: bool    [B, T-1, H, W]                           (if flows)
    clip_id:    string  [B], the start frame's file stem
"""

import collections
import os
import re

import tensorflow as tf
from absl import logging

from seg2vid_tf.data import datasets, decoding, resizing
from seg2vid_tf.data.clips import Clip, check_clip_files, check_on_error, check_size

__all__ = ["Clip", "find_clips", "make_dataset"]

FRAME_DIR = "leftImg8bit_sequence"
FRAME_SUFFIX = "leftImg8bit"
DEFAULT_LABEL_DIR = "gtFine_sequence"
DEFAULT_LABEL_SUFFIX = "gtFine_labelTrainIds"
# --label_files value -> (file-name suffix, ids in the file for decoding.load_label).
LABEL_FILES = {"labelTrainIds": ("gtFine_labelTrainIds", "train"),
               "labelIds": ("gtFine_labelIds", "cityscapes")}
FLOW_DIR = "flow"
FLOW_SUFFIX = "flow"

_FRAME_RE = re.compile(r"^(?P<city>.+)_(?P<seq>\d{6})_(?P<frame>\d{6})_" + FRAME_SUFFIX + r"\.png$")


def label_file_suffix(label_files):
    """The file-name suffix of a `--label_files` value (ValueError naming the flag)."""
    if label_files not in LABEL_FILES:
        raise ValueError(f"--label_files must be one of {sorted(LABEL_FILES)}, got "
                         f"{label_files!r}.")
    return LABEL_FILES[label_files][0]


def _name(city, seq, frame, suffix):
    return f"{city}_{seq:06d}_{frame:06d}_{suffix}.png"


def _list_dirs(path):
    return sorted(n for n in os.listdir(path) if os.path.isdir(os.path.join(path, n)))


def find_clips(
    data_dir,
    split,
    num_frames=5,
    label_dir=DEFAULT_LABEL_DIR,
    label_suffix=DEFAULT_LABEL_SUFFIX,
    on_error="raise",
    flow_dir=FLOW_DIR,
    label_files=None,
):
    """Finds every clip of a Cityscapes sequence split.

    Args:
        data_dir: Cityscapes root (holding ``leftImg8bit_sequence/``).
        split: "train" for training, "val" for evaluation (or "test").
        num_frames: Frames per clip (start frame + frames to predict).
        label_dir: Folder of the label tree under ``data_dir``.
        label_suffix: File-name suffix of the label PNGs.
        on_error: "raise" on a missing or empty file, or "skip" the clip
            (logged).
        flow_dir: Folder of the optional flow tree under ``data_dir``; when
            ``data_dir/flow_dir/split`` exists every clip needs its ``T - 1``
            flows.
        label_files: ``"labelTrainIds"`` or ``"labelIds"`` (see `LABEL_FILES`):
            sets `label_suffix`; None keeps `label_suffix`.

    Returns:
        List of :class:`Clip` sorted by city, sequence and start frame.

    Raises:
        FileNotFoundError: data_dir, the split folder or a file is missing.
        ValueError: No frames, no clips (with the reason), an empty file or
            bad arguments.
    """
    check_on_error(on_error)
    if label_files is not None:
        label_suffix = label_file_suffix(label_files)
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}.")
    data_dir = os.fspath(data_dir)
    split_dir = _split_dir(data_dir, split)
    label_root = os.path.join(data_dir, label_dir, split)
    flow_root = os.path.join(data_dir, flow_dir, split)
    with_flow = os.path.isdir(flow_root)
    sequences = _frame_sequences(split_dir)

    clips, num_labels = _labelled_clips(sequences, split_dir, label_root, label_suffix,
                                        flow_root if with_flow else None, num_frames)
    if not clips:
        if num_labels == 0:
            why = (
                f"no label PNGs <city>/<city>_<seq>_<frame>_{label_suffix}.png matching the "
                f"frames were found in {label_root}"
            )
        else:
            why = (
                f"{num_labels} start frames have label PNGs in {label_root}, but none is "
                f"followed by {num_frames - 1} consecutive frames (longest run of "
                f"consecutive frames: {_longest_run(sequences)}; num_frames={num_frames})"
            )
        raise ValueError(f"No Cityscapes clips in {split_dir}: {why}.")
    clips = check_clip_files(clips, on_error, "Cityscapes clip")
    if not clips:
        raise ValueError(f"No Cityscapes clips left in {split_dir} after skipping broken files.")
    logging.info("Cityscapes %s: %d clips of %d frames%s.", split, len(clips), num_frames,
                 " with flows" if with_flow else "")
    return clips


def _labelled_clips(sequences, split_dir, label_root, label_suffix, flow_root, num_frames):
    """The clips that start at a labelled frame followed by `num_frames - 1` consecutive ones.

    Args:
        sequences: From `_frame_sequences`.
        split_dir: The split's frame folder.
        label_root: The split's label folder.
        label_suffix: File-name suffix of the label PNGs.
        flow_root: The split's flow folder, or None without flows.
        num_frames: Frames per clip.

    Returns:
        `(clips, number of labelled start frames)`.
    """
    with_flow = flow_root is not None
    label_cache = {}

    def label_names(city_dir):
        if city_dir not in label_cache:
            folder = os.path.join(label_root, city_dir)
            label_cache[city_dir] = set(os.listdir(folder)) if os.path.isdir(folder) else set()
        return label_cache[city_dir]

    clips = []
    num_labels = 0
    for (city_dir, city, seq), frame_set in sorted(sequences.items()):
        for start in sorted(frame_set):
            label_name = _name(city, seq, start, label_suffix)
            if label_name not in label_names(city_dir):
                continue
            num_labels += 1
            numbers = range(start, start + num_frames)
            if not all(n in frame_set for n in numbers):
                continue
            frame_paths = tuple(
                os.path.join(split_dir, city_dir, _name(city, seq, n, FRAME_SUFFIX))
                for n in numbers
            )
            flow_paths = None
            if with_flow:
                flow_paths = tuple(
                    os.path.join(flow_root, city_dir, _name(city, seq, n, FLOW_SUFFIX))
                    for n in numbers[:-1]
                )
            clips.append(
                Clip(
                    frame_paths=frame_paths,
                    label_path=os.path.join(label_root, city_dir, label_name),
                    flow_paths=flow_paths,
                    clip_id=os.path.splitext(os.path.basename(frame_paths[0]))[0],
                )
            )
    return clips, num_labels


def _split_dir(data_dir, split):
    """`data_dir/leftImg8bit_sequence/split`, or FileNotFoundError saying which folder is missing."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"Cityscapes directory {data_dir} does not exist.")
    frames_root = os.path.join(data_dir, FRAME_DIR)
    if not os.path.isdir(frames_root):
        raise FileNotFoundError(
            f"Cityscapes frame folder {frames_root} does not exist (expected "
            f"{FRAME_DIR}/<split>/<city>/<city>_<seq>_<frame>_{FRAME_SUFFIX}.png)."
        )
    split_dir = os.path.join(frames_root, split)
    if not os.path.isdir(split_dir):
        raise FileNotFoundError(
            f"Cityscapes split folder {split_dir} does not exist (available splits: "
            f"{_list_dirs(frames_root)}); use 'train' for training and 'val' for evaluation."
        )
    return split_dir


def _frame_sequences(split_dir):
    """{(city folder, city name, sequence number): set of frame numbers} of a split folder.

    Raises:
        ValueError: No frame file matches Cityscapes' naming.
    """
    sequences = collections.defaultdict(set)
    for city_dir in _list_dirs(split_dir):
        for name in os.listdir(os.path.join(split_dir, city_dir)):
            match = _FRAME_RE.match(name)
            if match:
                key = (city_dir, match["city"], int(match["seq"]))
                sequences[key].add(int(match["frame"]))
    if not sequences:
        raise ValueError(
            f"No Cityscapes frames found in {split_dir} (expected "
            f"<city>/<city>_<seq>_<frame>_{FRAME_SUFFIX}.png with 6-digit seq and frame)."
        )
    return sequences


def _longest_run(sequences):
    """The longest run of consecutive frame numbers in any sequence (at least 1)."""
    longest = 1
    for frame_set in sequences.values():
        frames = sorted(frame_set)
        run = 1
        for prev, cur in zip(frames, frames[1:]):
            run = run + 1 if cur == prev + 1 else 1
            longest = max(longest, run)
    return longest


def _resolve_with_flow(clips, with_flow):
    """Whether the dataset of `clips` carries flows, for `with_flow` "auto", True or False.

    Raises:
        ValueError: "auto" with flows for only some clips, True with a clip
            without flows, or any other value.
    """
    has_flow = [c.flow_paths is not None for c in clips]
    if with_flow == "auto":
        if any(has_flow) and not all(has_flow):
            raise ValueError("with_flow='auto' but only some clips have flows; pass True or False.")
        with_flow = bool(clips) and all(has_flow)
    elif with_flow is True:
        if not all(has_flow):
            raise ValueError(
                "with_flow=True but some clips have no flows (the flow folder "
                f"{FLOW_DIR}/<split> was not found by find_clips)."
            )
    elif with_flow is not False:
        raise ValueError(f"with_flow must be 'auto', True or False, got {with_flow!r}.")
    if clips and clips[0].num_frames < 2:
        with_flow = False  # A single frame has no flow.
    return with_flow


def make_dataset(clips, *, height, width, batch_size, with_flow="auto",
                 label_files="labelTrainIds", **options):
    """Builds the batched Cityscapes dataset.

    Args:
        clips: Clips from :func:`find_clips`.
        height: Output height; frames are resized bilinearly (antialiased),
            labels and flows by nearest neighbour (flows scaled).
        width: Output width.
        batch_size: Clips per batch.
        with_flow: "auto" (flows when every clip has them), True or False.
        label_files: What the clips' label PNGs hold: ``"labelTrainIds"``
            (train ids) or ``"labelIds"`` (Cityscapes label ids).
        **options: :class:`seg2vid_tf.data.datasets.PipelineOptions`
            (shuffle, seed, repeat, deterministic, drop_remainder, on_error,
            skip_counter).

    Returns:
        ``tf.data.Dataset`` of dicts (see the module docstring).
    """
    check_size(height, width)
    label_file_suffix(label_files)
    label_ids = LABEL_FILES[label_files][1]
    clips = list(clips)
    with_flow = _resolve_with_flow(clips, with_flow)

    def decode(record):
        paths = record["frame_paths"]
        frames = decoding.load_frames(paths, 3)
        label_path = record["label_path"]
        label = decoding.load_label(label_path, ids=label_ids)
        frame_size = tf.shape(frames)[1:3]
        label_size = tf.shape(label)
        size_check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(label_size, frame_size)),
            ["Label map size (H, W) =", label_size, "of", label_path,
             "differs from the size", frame_size, "of its frame", paths[0]],
        )
        with tf.control_dependencies([size_check]):
            label = tf.identity(label)
        element = {
            "video": resizing.resize_frames(frames, height, width),
            "label_map": resizing.resize_label(label, height, width),
            "clip_id": record["clip_id"],
        }
        if with_flow:
            flow_paths = record["flow_paths"]
            flows, valids = [], []
            for t in range(flow_paths.shape[0]):
                flow, valid = decoding.load_kitti_flow(flow_paths[t])
                flow, valid = resizing.resize_flow(flow, valid, height, width)
                flows.append(flow)
                valids.append(valid)
            element["flow"] = tf.stack(flows)
            element["flow_valid"] = tf.stack(valids)
        return element

    return datasets.make_clip_dataset(clips, decode, batch_size=batch_size, with_label=True,
                                      with_flow=with_flow, description="Cityscapes clip",
                                      **options)
