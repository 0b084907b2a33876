"""Shared tf.data building blocks of the seg2vid dataset readers.

Every reader (:mod:`cityscapes`, :mod:`kth`, :mod:`ucf101`, :mod:`kitti`)
turns a directory tree into a sorted list of :class:`Clip` records in plain
Python (cheap checks: the files exist and are not empty) and then hands the
list to :func:`make_clip_dataset`, which decodes the files inside tf.data map
functions made of TensorFlow ops only.

Decoding inside the graph makes errors opaque (``Invalid PNG data`` without a
file name), so every loader in this module validates the bytes *before*
decoding them, with ``tf.debugging.Assert`` whose data list carries the file
path. A broken file therefore raises ``tf.errors.InvalidArgumentError`` whose
message names the file and what was expected:

* PNG files must start with the PNG signature and end with the ``IEND``
  chunk (a truncated PNG does not); JPEG files (``.jpg``/``.jpeg``) must start
  with the SOI marker ``FF D8 FF`` and have the EOI marker ``FF D9`` among
  their last 32 bytes.
* Label PNGs (:func:`load_label`) must be 8-bit single-channel images of train
  ids ``0..19`` or ``255`` (Cityscapes' ignore value, mapped to ``19``).
* KITTI flow PNGs (:func:`load_kitti_flow`) must be 16-bit 3-channel PNGs.
* The frames of a clip (:func:`load_frames`) must share one size.

What these checks cannot see (bytes overwritten inside a file) TensorFlow's
decoders report without the file's name (``Invalid PNG data, size N``);
:mod:`decode_errors` finds and names that file when the error happens
(``decode_errors.naming_files(clips, split=...)`` around the loop), at no
cost to the happy path, and turns both kinds of errors into a
:class:`DataFileError` (a ``ValueError``).

Element format of the datasets built here (batched, channels-last)::

    video:      float32 [B, T, H, W, C] in [0, 1]
    clip_id:    string  [B]
    (reader specific keys, e.g. label_map, flow, flow_valid)

Conventions: flows are in pixels, channel 0 = u = dx, channel 1 = v = dy.
"""

import dataclasses
import hashlib
import os
import re
import shutil
import tempfile
import threading

import numpy as np
import tensorflow as tf
from absl import logging

from seg2vid_tf import labels
from seg2vid_tf.data.decode_errors import DataFileError
from seg2vid_tf.data.synthetic.flow_png import FLOW_OFFSET, FLOW_SCALE

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

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The last 8 bytes of every complete PNG: the IEND chunk type and its CRC.
PNG_IEND = b"IEND\xaeB`\x82"
JPEG_SOI = b"\xff\xd8\xff"
JPEG_EOI_WINDOW = 32
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
VIDEO_EXTENSIONS = (".avi",)

NUM_CLASSES = labels.NUM_LABELS  # Cityscapes train ids 0..18 plus 19 = void.
VOID_ID = labels.VOID_ID
IGNORE_ID = labels.IGNORE_ID  # Cityscapes' ignore value in *_labelTrainIds.png.
LABEL_ID_KINDS = ("train", "cityscapes")

_ON_ERROR = ("raise", "skip")


# ---------------------------------------------------------------------------
# Clip records and Python-side checks.
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class Clip:
    """One training/evaluation example: a run of frames and its annotations.

    Attributes:
        frame_paths: Paths of the ``T`` frames, in temporal order.
        label_path: Path of the semantic label PNG of the first frame, or
            None for datasets without label maps.
        flow_paths: Paths of the ``T - 1`` forward flows (frame t -> t + 1),
            or None.
        clip_id: A readable identifier (e.g. the start frame's file stem).
    """

    frame_paths: tuple
    label_path: str | None = None
    flow_paths: tuple | None = None
    clip_id: str

    def __post_init__(self):
        object.__setattr__(self, "frame_paths", tuple(str(p) for p in self.frame_paths))
        if not self.frame_paths:
            raise ValueError(f"Clip {self.clip_id!r} has no frames.")
        if self.label_path is not None:
            object.__setattr__(self, "label_path", str(self.label_path))
        if self.flow_paths is not None:
            flows = tuple(str(p) for p in self.flow_paths)
            object.__setattr__(self, "flow_paths", flows)
            if len(flows) != len(self.frame_paths) - 1:
                raise ValueError(
                    f"Clip {self.clip_id!r} has {len(self.frame_paths)} frames but "
                    f"{len(flows)} flows; expected {len(self.frame_paths) - 1}."
                )

    @property
    def num_frames(self):
        """Number of frames ``T`` of the clip."""
        return len(self.frame_paths)


def check_on_error(on_error):
    """Raises ValueError unless ``on_error`` is "raise" or "skip"."""
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error must be one of {_ON_ERROR}, got {on_error!r}.")


def check_size(height, width):
    """Raises ValueError unless height and width are positive integers."""
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _file_problem(path, cache):
    """Returns why ``path`` is unusable ("missing", "empty", ...) or None."""
    if path not in cache:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            cache[path] = "does not exist"
        except OSError as err:  # Permission problems and the like.
            cache[path] = f"cannot be read ({err})"
        else:
            if not os.path.isfile(path):
                cache[path] = "is not a regular file"
            elif st.st_size == 0:
                cache[path] = "is empty (0 bytes)"
            else:
                cache[path] = None
    return cache[path]


def check_clip_files(clips, on_error="raise", description="clip"):
    """Checks that every file of every clip exists and is not empty.

    Args:
        clips: Iterable of :class:`Clip`.
        on_error: "raise" raises on the first bad file; "skip" drops the clips
            that use a bad file and logs how many were dropped.
        description: Word used in messages ("Cityscapes clip", ...).

    Returns:
        The list of clips whose files are all usable.

    Raises:
        FileNotFoundError: A file is missing (with ``on_error="raise"``).
        DataFileError: A file is empty or not a regular file (a ValueError).
    """
    check_on_error(on_error)
    cache = {}
    kept, dropped = [], []
    for clip in clips:
        problem = None
        paths = [("frame", p) for p in clip.frame_paths]
        if clip.label_path is not None:
            paths.append(("label", clip.label_path))
        if clip.flow_paths is not None:
            paths.extend(("flow", p) for p in clip.flow_paths)
        for kind, path in paths:
            why = _file_problem(path, cache)
            if why is not None:
                problem = (kind, path, why)
                break
        if problem is None:
            kept.append(clip)
            continue
        kind, path, why = problem
        message = f"The {kind} file {path} of {description} {clip.clip_id!r} {why}."
        if on_error == "raise":
            if why == "does not exist":
                raise FileNotFoundError(message)
            raise DataFileError(message)
        logging.warning("Skipping: %s", message)
        dropped.append(clip)
    if dropped:
        logging.warning(
            "Skipped %d of %d %ss with missing or empty files.",
            len(dropped), len(dropped) + len(kept), description,
        )
    return kept


def natural_key(name):
    """Sort key that orders ``img2.png`` before ``img10.png``."""
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def list_frame_files(directory, extensions=IMAGE_EXTENSIONS):
    """Frame image files of ``directory`` (not recursive), naturally sorted."""
    names = [
        n for n in os.listdir(directory)
        if not n.startswith(".") and n.lower().endswith(extensions)
        and os.path.isfile(os.path.join(directory, n))
    ]
    return [os.path.join(directory, n) for n in sorted(names, key=natural_key)]


# ---------------------------------------------------------------------------
# In-graph byte checks and loaders.
# ---------------------------------------------------------------------------
def _with_deps(deps, tensor):
    """``tensor`` made to run after ``deps`` (assert ops)."""
    with tf.control_dependencies(deps):
        return tf.identity(tensor)


def _tail(contents, n):
    """The last ``n`` bytes of a scalar string (fewer if it is shorter)."""
    length = tf.strings.length(contents)
    return tf.strings.substr(contents, tf.maximum(length - n, 0), n)


def _head_bytes(contents, n):
    """The first ``n`` bytes as uint8 ``[n]``, zero padded if the file is shorter."""
    head = tf.strings.join([tf.strings.substr(contents, 0, n), tf.constant(b"\0" * n)])
    raw = tf.io.decode_raw(tf.strings.substr(head, 0, n), tf.uint8)
    return tf.reshape(raw, [n])


def _png_flags(contents):
    """(starts with the PNG signature, ends with the IEND chunk) as bool scalars."""
    signature = tf.equal(tf.strings.substr(contents, 0, len(PNG_SIGNATURE)), PNG_SIGNATURE)
    iend = tf.equal(_tail(contents, len(PNG_IEND)), PNG_IEND)
    return signature, iend


def _jpeg_flags(contents):
    """(starts with SOI, EOI among the last bytes) as bool scalars."""
    soi = tf.equal(tf.strings.substr(contents, 0, len(JPEG_SOI)), JPEG_SOI)
    n = JPEG_EOI_WINDOW
    padded = tf.strings.join([tf.constant(b"\0" * n), _tail(contents, n)])
    tail = tf.reshape(tf.io.decode_raw(_tail(padded, n), tf.uint8), [n])
    eoi = tf.reduce_any(tf.logical_and(tf.equal(tail[:-1], 0xFF), tf.equal(tail[1:], 0xD9)))
    return soi, eoi


def _png_messages(what):
    return (
        f"{what} is not a PNG file (its bytes do not start with the PNG signature; "
        "it is not an image or is corrupt):",
        f"{what} PNG is truncated or corrupt (the file does not end with the IEND chunk):",
    )


def _png_asserts(contents, path, what, applies=None):
    """Assert ops: PNG signature and final IEND chunk (only where ``applies``)."""
    signature, iend = _png_flags(contents)
    no_sig_msg, no_end_msg = _png_messages(what)
    skip = tf.constant(False) if applies is None else tf.logical_not(applies)
    return [
        tf.debugging.Assert(tf.logical_or(skip, signature), [no_sig_msg, path]),
        # A file that is not a PNG at all is reported by the signature check only.
        tf.debugging.Assert(
            tf.logical_or(tf.logical_or(skip, tf.logical_not(signature)), iend), [no_end_msg, path]
        ),
    ]


def _jpeg_asserts(contents, path, what, applies=None):
    """Assert ops: JPEG SOI marker at the start, EOI marker near the end."""
    soi, eoi = _jpeg_flags(contents)
    skip = tf.constant(False) if applies is None else tf.logical_not(applies)
    return [
        tf.debugging.Assert(
            tf.logical_or(skip, soi),
            [f"{what} is not a JPEG file (its bytes do not start with the JPEG SOI marker "
             "FF D8 FF; it is not an image or is corrupt):", path],
        ),
        tf.debugging.Assert(
            tf.logical_or(tf.logical_or(skip, tf.logical_not(soi)), eoi),
            [f"{what} JPEG is truncated or corrupt (no EOI marker FF D9 at the end of the "
             "file):", path],
        ),
    ]


def _png_header_asserts(contents, path, what, bit_depth, color_type, expected):
    """Assert op: the IHDR chunk has the given bit depth and colour type."""
    header = _head_bytes(contents, 26)
    got_depth = tf.cast(header[24], tf.int32)
    got_type = tf.cast(header[25], tf.int32)
    ok = tf.logical_and(tf.equal(got_depth, bit_depth), tf.equal(got_type, color_type))
    return tf.debugging.Assert(
        ok,
        [f"{what} must be {expected} (PNG bit depth {bit_depth}, colour type "
         f"{color_type}), got bit depth", got_depth, "colour type", got_type,
         "(0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) in", path],
    )


def _read_checked_image(path, what):
    """Reads an image file and validates its bytes (format chosen by extension)."""
    path = tf.convert_to_tensor(path, tf.string)
    contents = tf.io.read_file(path)
    is_jpeg = tf.strings.regex_full_match(tf.strings.lower(path), r".*\.jpe?g")
    checks = _png_asserts(contents, path, f"{what} file", applies=tf.logical_not(is_jpeg))
    checks += _jpeg_asserts(contents, path, f"{what} file", applies=is_jpeg)
    return _with_deps(checks, contents)


def load_image(path, channels, what="Frame"):
    """Reads, validates and decodes a PNG or JPEG image inside the graph.

    The format is chosen by the extension (``.jpg``/``.jpeg`` are JPEG,
    anything else must be PNG); 8- and 16-bit PNGs are supported.

    Args:
        path: Scalar string tensor (or str), the image file.
        channels: 1 (grayscale; colour images are converted) or 3 (RGB).
        what: Word naming the file in error messages.

    Returns:
        float32 ``[H, W, channels]`` in ``[0, 1]``.

    Raises:
        tf.errors.InvalidArgumentError: (when run) the file is not a PNG/JPEG
            or is truncated; the message contains the path.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}.")
    contents = _read_checked_image(path, what)
    image = tf.io.decode_image(
        contents, channels=channels, dtype=tf.float32, expand_animations=False
    )
    image = tf.ensure_shape(image, [None, None, channels])
    return tf.clip_by_value(image, 0.0, 1.0)


def load_label(path, what="Label", ids="train"):
    """Reads, validates and decodes a label PNG of train ids inside the graph.

    Args:
        path: Scalar string tensor (or str), an 8-bit single-channel PNG with
            train ids ``0..19``; ``255`` (Cityscapes' ignore) becomes ``19``.
        what: Word naming the file in error messages.
        ids: ``"train"`` (``*_labelTrainIds.png``) or ``"cityscapes"``: label
            ids ``0..33`` (``*_labelIds.png``), mapped to train ids by the
            standard table (`seg2vid_tf.labels`).

    Returns:
        int32 ``[H, W]`` with values in ``0..19``.

    Raises:
        tf.errors.InvalidArgumentError: (when run) not a PNG, truncated, not
            8-bit single-channel, or an id outside ``0..19`` and ``!= 255``
            (label ids: outside ``0..33``); the message contains the path.
    """
    path = tf.convert_to_tensor(path, tf.string)
    contents = tf.io.read_file(path)
    checks = _png_asserts(contents, path, f"{what} file")
    with tf.control_dependencies(checks):  # Report "not a PNG" before header problems.
        header_check = _png_header_asserts(
            contents, path, f"{what} PNG", 8, 0, "an 8-bit single-channel (grayscale) image"
        )
    contents = _with_deps(checks + [header_check], contents)
    label = tf.io.decode_png(contents, channels=0, dtype=tf.uint8)
    channel_check = tf.debugging.Assert(
        tf.equal(tf.shape(label)[-1], 1),
        [f"{what} PNG must have a single channel, got", tf.shape(label)[-1], "channels in", path],
    )
    label = _with_deps([channel_check], label[..., :1])
    if ids not in LABEL_ID_KINDS:
        raise ValueError(f"ids must be one of {LABEL_ID_KINDS}, got {ids!r}.")
    if ids == "cityscapes":
        last = labels.NUM_CITYSCAPES_IDS - 1
        worst = tf.reduce_max(label)
        range_check = tf.debugging.Assert(
            worst <= last,
            [f"{what} PNG has Cityscapes label ids outside 0..{last}, e.g. id", worst, "in",
             path, "(is it a labelTrainIds file? see --label_files)"])
        label = _with_deps([range_check], tf.cast(label[..., 0], tf.int32))
        return tf.gather(tf.constant(labels.CITYSCAPES_ID_TABLE), label)
    valid = tf.logical_or(label <= VOID_ID, tf.equal(label, IGNORE_ID))
    worst = tf.reduce_max(tf.where(valid, tf.zeros_like(label), label))
    range_check = tf.debugging.Assert(
        tf.reduce_all(valid),
        [f"{what} PNG has train ids outside 0..{VOID_ID} (and not {IGNORE_ID}), e.g. id",
         worst, "in", path, "(is it a labelIds file? see --label_files)"],
    )
    label = _with_deps([range_check], label)
    label = tf.where(tf.equal(label, IGNORE_ID), tf.constant(VOID_ID, tf.uint8), label)
    return tf.cast(label[..., 0], tf.int32)


def load_kitti_flow(path, what="Flow"):
    """Reads, validates and decodes a KITTI 16-bit flow PNG inside the graph.

    KITTI format: a 3-channel uint16 PNG with ``R = u * 64 + 2**15``,
    ``G = v * 64 + 2**15`` and ``B = valid`` (non-zero where valid); the
    constants are :mod:`seg2vid_tf.data.synthetic.flow_png`'s, whose writer
    makes the synthetic dataset's flow files.

    Args:
        path: Scalar string tensor (or str), the flow PNG.
        what: Word naming the file in error messages.

    Returns:
        ``(flow, valid)``: float32 ``[H, W, 2]`` in pixels with channel 0 =
        u = dx and channel 1 = v = dy (zero where invalid), and bool ``[H, W]``.

    Raises:
        tf.errors.InvalidArgumentError: (when run) not a PNG, truncated, or not
            a 16-bit 3-channel PNG; the message contains the path.
    """
    path = tf.convert_to_tensor(path, tf.string)
    contents = tf.io.read_file(path)
    checks = _png_asserts(contents, path, f"{what} file")
    with tf.control_dependencies(checks):  # Report "not a PNG" before header problems.
        header_check = _png_header_asserts(
            contents, path, f"{what} PNG", 16, 2, "a KITTI 16-bit 3-channel (uint16 RGB) PNG"
        )
    contents = _with_deps(checks + [header_check], contents)
    raw = tf.io.decode_png(contents, channels=0, dtype=tf.uint16)
    channel_check = tf.debugging.Assert(
        tf.equal(tf.shape(raw)[-1], 3),
        [f"{what} PNG must have 3 channels, got", tf.shape(raw)[-1], "in", path],
    )
    raw = tf.cast(_with_deps([channel_check], raw), tf.float32)
    raw = tf.ensure_shape(raw, [None, None, 3])
    valid = raw[..., 2] > 0
    flow = (raw[..., :2] - FLOW_OFFSET) / FLOW_SCALE
    flow = tf.where(valid[..., None], flow, tf.zeros_like(flow))
    return flow, valid


def load_frames(paths, channels, what="Frame"):
    """Loads the frames of one clip and checks that they share one size.

    Args:
        paths: String tensor ``[T]`` with a static ``T``.
        channels: 1 or 3.
        what: Word naming the files in error messages.

    Returns:
        float32 ``[T, H, W, channels]`` in ``[0, 1]``.
    """
    paths = tf.convert_to_tensor(paths, tf.string)
    num = paths.shape[0]
    if num is None:
        raise ValueError("load_frames needs a static number of frame paths.")
    frames = [load_image(paths[0], channels, what)]
    size0 = tf.shape(frames[0])[:2]
    for t in range(1, num):
        frame = load_image(paths[t], channels, what)
        size = tf.shape(frame)[:2]
        check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(size, size0)),
            [f"{what}s of a clip differ in size:", paths[t], "is (H, W) =", size,
             "but the first frame", paths[0], "is", size0],
        )
        frames.append(_with_deps([check], frame))
    return tf.stack(frames, axis=0)


# ---------------------------------------------------------------------------
# Resizing.
# ---------------------------------------------------------------------------
def _resize_if_needed(images, height, width, method, antialias):
    """Resizes ``[..., H, W, C]`` to ``(height, width)`` unless already that size."""
    size = tf.shape(images)[-3:-1]
    same = tf.reduce_all(tf.equal(size, [height, width]))
    resized = tf.cond(
        same,
        lambda: tf.identity(images),
        lambda: tf.cast(
            tf.image.resize(images, [height, width], method=method, antialias=antialias),
            images.dtype,
        ),
    )
    shape = images.shape.as_list()
    shape[-3:-1] = [height, width]
    return tf.ensure_shape(resized, shape)


def resize_frames(frames, height, width):
    """Bilinear, antialiased resize of ``[..., H, W, C]`` float frames (kept in [0, 1])."""
    out = _resize_if_needed(frames, height, width, "bilinear", True)
    return tf.clip_by_value(out, 0.0, 1.0)


def resize_label(label, height, width):
    """Nearest-neighbour resize of an int label map ``[H, W]``."""
    return _resize_if_needed(label[..., None], height, width, "nearest", False)[..., 0]


def resize_flow(flow, valid, height, width):
    """Nearest-neighbour resize of a pixel flow, scaling u and v by the size ratio.

    Args:
        flow: float32 ``[H, W, 2]`` (u = dx, v = dy, pixels).
        valid: bool ``[H, W]``.
        height: Output height.
        width: Output width.

    Returns:
        ``(flow, valid)`` of shapes ``[height, width, 2]`` and ``[height, width]``.
    """
    size = tf.cast(tf.shape(flow)[:2], tf.float32)
    scale = tf.stack([width / size[1], height / size[0]])
    out = _resize_if_needed(flow, height, width, "nearest", False) * scale
    valid = tf.cast(valid, tf.uint8)[..., None]
    out_valid = _resize_if_needed(valid, height, width, "nearest", False)
    return out, tf.cast(out_valid[..., 0], tf.bool)


# ---------------------------------------------------------------------------
# The dataset.
# ---------------------------------------------------------------------------
class SkipCounter:
    """Counts the clips dropped by ``on_error="skip"`` and logs them.

    The dataset tags every clip with its position in the stream before
    decoding; after ``ignore_errors`` the positions that never arrive are the
    dropped clips. Start and end markers delimit each pass over a finite
    dataset, so the count of a finished pass is exact (also with
    ``deterministic=False``, where a pass is only counted at its end). For a
    repeated (infinite) dataset drops are counted as they are noticed, which
    includes clips that prefetching decoded ahead of the consumer; with
    ``deterministic=False`` a missing position counts once ``window`` later
    positions have arrived (best effort). Several iterators running at the
    same time over one dataset share the counter and confuse it.

    Attributes:
        skipped: Total number of dropped clips over all passes.
        last_pass_skipped: Number dropped in the last finished pass (None
            before the first one ends).
        window: How far positions may arrive out of order: 0 (deterministic
            order), an int, or None (count only at the end of a pass). Set
            by :func:`make_clip_dataset`.
    """

    def __init__(self, description="clip"):
        self.description = description
        self.window = 0
        self.skipped = 0
        self.last_pass_skipped = None
        self._lock = threading.Lock()
        self._reset()

    def _reset(self):
        self._max_seen = -1
        self._pending = set()
        self._pass_skipped = 0

    def _confirm(self, missing):
        if missing:
            self.skipped += missing
            self._pass_skipped += missing
            logging.warning(
                "Skipped %d broken %s(s) (%d so far); the TensorFlow warnings above "
                "name the files.", missing, self.description, self.skipped,
            )

    def observe(self, position, kind):
        """Records one element; returns True for clips, False for markers.

        Args:
            position: Stream position of the element (for the end marker: the
                number of clips in a pass).
            kind: 0 for a clip, 1 for the start marker, 2 for the end marker.
        """
        position, kind = int(position), int(kind)
        with self._lock:
            if kind == 1:
                self._reset()
                return False
            if kind == 2:
                self._pending.update(range(self._max_seen + 1, position))
                self._confirm(len(self._pending))
                self.last_pass_skipped = self._pass_skipped
                if self._pass_skipped:
                    logging.warning(
                        "Pass over the dataset finished: %d of %d %ss skipped.",
                        self._pass_skipped, position, self.description,
                    )
                self._reset()
                return False
            if position > self._max_seen:
                self._pending.update(range(self._max_seen + 1, position))
                self._max_seen = position
            else:
                self._pending.discard(position)
            if self.window is not None and self._pending:
                limit = self._max_seen - self.window
                late = {p for p in self._pending if p < limit}
                self._pending -= late
                self._confirm(len(late))
            return True


def _clip_records(clips, with_label, with_flow):
    """Dict of string arrays (one row per clip) for ``from_tensor_slices``."""
    records = {
        "frame_paths": np.array([list(c.frame_paths) for c in clips], dtype=object),
        "clip_id": np.array([c.clip_id for c in clips], dtype=object),
    }
    if with_label:
        missing = [c.clip_id for c in clips if c.label_path is None]
        if missing:
            raise ValueError(f"Clips without a label map: {missing[:5]} ...")
        records["label_path"] = np.array([c.label_path for c in clips], dtype=object)
    if with_flow:
        missing = [c.clip_id for c in clips if c.flow_paths is None]
        if missing:
            raise ValueError(f"Clips without flows: {missing[:5]} ...")
        records["flow_paths"] = np.array([list(c.flow_paths) for c in clips], dtype=object)
    return records


def _zeros_like_spec(spec):
    if spec.dtype == tf.string:
        return tf.fill(spec.shape, "")
    return tf.zeros(spec.shape, spec.dtype)


def make_clip_dataset(
    clips,
    decode_fn,
    *,
    batch_size,
    shuffle=False,
    seed=None,
    repeat=False,
    deterministic=True,
    drop_remainder=False,
    on_error="raise",
    with_label=False,
    with_flow=False,
    skip_counter=None,
    description="clip",
):
    """Builds the batched tf.data pipeline shared by all readers.

    ``clips -> [shuffle] -> [repeat] -> parallel decode -> [ignore_errors]
    -> batch -> prefetch``.

    Args:
        clips: Non-empty sequence of :class:`Clip` with the same number of
            frames.
        decode_fn: Maps a record dict (``frame_paths`` ``[T]``, ``clip_id``,
            and ``label_path`` / ``flow_paths`` ``[T-1]`` when requested) to
            the element dict; every output must have a fully static shape.
        batch_size: Clips per batch.
        shuffle: Shuffle the clip list (full buffer), reshuffled every epoch.
        seed: Shuffle seed; equal seeds give equal orders.
        repeat: Repeat forever.
        deterministic: Passed to the parallel ``map``; False lets fast
            elements overtake slow ones.
        drop_remainder: Drop a final partial batch.
        on_error: "raise" (default) fails on the first broken clip with a
            message naming the file; "skip" drops broken clips
            (``ignore_errors``), counts them in ``skip_counter`` and logs the
            count.
        with_label: Put ``label_path`` in the records.
        with_flow: Put ``flow_paths`` in the records.
        skip_counter: Optional :class:`SkipCounter` to read the count of
            dropped clips from (``on_error="skip"`` only).
        description: Word used in log messages.

    Returns:
        A batched, prefetched ``tf.data.Dataset`` of dicts.
    """
    check_on_error(on_error)
    clips = list(clips)
    if not clips:
        raise ValueError(f"No {description}s to build a dataset from.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    lengths = sorted({c.num_frames for c in clips})
    if len(lengths) != 1:
        raise ValueError(f"All clips must have the same number of frames, got {lengths}.")
    num_clips = len(clips)
    records = _clip_records(clips, with_label, with_flow)

    ds = tf.data.Dataset.from_tensor_slices(records)
    if shuffle:
        ds = ds.shuffle(num_clips, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    map_kwargs = dict(num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)

    if on_error == "raise":
        ds = ds.map(decode_fn, **map_kwargs)
    else:
        counter = skip_counter if skip_counter is not None else SkipCounter(description)
        counter.description = description
        if deterministic:
            counter.window = 0
        else:
            counter.window = 1024 if repeat else None
        ds = ds.enumerate().map(lambda i, rec: (i, decode_fn(rec)), **map_kwargs)
        ds = ds.ignore_errors(log_warning=True)
        _, payload_spec = ds.element_spec

        def marker(kind, position):
            # The dummy payload is built by ops when the marker is produced, so no
            # large constant ends up in the dataset graph.
            ids = tf.data.Dataset.from_tensors(
                (tf.constant(position, tf.int64), tf.constant(kind, tf.int64))
            )
            return ids.map(
                lambda p, k: (p, k, tf.nest.map_structure(_zeros_like_spec, payload_spec))
            )

        ds = ds.map(lambda i, payload: (i, tf.constant(0, tf.int64), payload))
        ds = marker(1, -1).concatenate(ds)
        if not repeat:
            ds = ds.concatenate(marker(2, num_clips))

        def keep(position, kind, payload):
            del payload
            flag = tf.py_function(counter.observe, [position, kind], tf.bool)
            return tf.reshape(flag, [])

        ds = ds.filter(keep).map(lambda position, kind, payload: payload)

    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_frames_dataset(
    clips,
    *,
    channels,
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
    description="clip",
):
    """Dataset of clips made of frames only (KTH, UCF101, KITTI).

    Elements: ``video`` float32 ``[B, T, height, width, channels]`` in
    ``[0, 1]`` (frames resized bilinearly with antialiasing when their size
    differs) and ``clip_id`` string ``[B]``. The other arguments are those of
    :func:`make_clip_dataset`.
    """
    check_size(height, width)

    def decode(record):
        frames = load_frames(record["frame_paths"], channels)
        return {
            "video": resize_frames(frames, height, width),
            "clip_id": record["clip_id"],
        }

    return make_clip_dataset(
        clips,
        decode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        repeat=repeat,
        deterministic=deterministic,
        drop_remainder=drop_remainder,
        on_error=on_error,
        skip_counter=skip_counter,
        description=description,
    )


_FRAMES_DATASET_DOC = """{summary}

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


def make_frames_dataset_function(*, channels, description, summary, module):
    """The ``make_dataset`` of a reader whose clips are frames only (KTH, UCF101).

    Every such reader exposes the same public function; this builds it once:
    ``make_dataset(clips, *, height, width, batch_size, shuffle=False,
    seed=None, repeat=False, deterministic=True, drop_remainder=False,
    on_error="raise", skip_counter=None)``, which calls
    :func:`make_frames_dataset` with the reader's ``channels`` and
    ``description``.

    Args:
        channels: Frame channels of the reader (1 grayscale, 3 RGB).
        description: Word used in messages ("KTH clip", ...).
        summary: First line of the function's docstring.
        module: ``__name__`` of the reader (shown by ``help`` and in tracebacks).

    Returns:
        The ``make_dataset`` function.
    """

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
        return make_frames_dataset(
            clips,
            channels=channels,
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
            description=description,
        )

    make_dataset.__doc__ = _FRAMES_DATASET_DOC.format(summary=summary)
    make_dataset.__module__ = module
    make_dataset.__qualname__ = "make_dataset"
    return make_dataset


# ---------------------------------------------------------------------------
# Folder-of-videos discovery (KTH, UCF101).
# ---------------------------------------------------------------------------
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
    videos = []
    for category in found:
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
    if not videos:
        raise ValueError(
            f"{description}: no videos found under {data_dir} (expected frame folders "
            f"<category>/<video>/*.png|jpg or <category>/<video>.avi)."
        )
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


_VIDEO_BACKEND_HELP = (
    "imageio cannot decode videos here: neither imageio-ffmpeg nor PyAV is "
    "installed. Either extract the frames first (e.g. `ffmpeg -i {video} "
    "{frames_dir}/%05d.png`, giving <category>/<video>/<frames>), or "
    "`pip install imageio-ffmpeg`."
)


def _video_backend():
    """"ffmpeg", "pyav" or None: the imageio plugin able to read .avi files."""
    try:
        import imageio_ffmpeg  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        return "ffmpeg"
    except ImportError:
        pass
    try:
        import av  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        return "pyav"
    except ImportError:
        return None


def _iter_video_frames(video_path):
    """Yields the frames of a video file as uint8 numpy arrays (imageio)."""
    import imageio  # pylint: disable=import-outside-toplevel

    backend = _video_backend()
    if backend is None:
        raise RuntimeError(
            f"Cannot read {video_path}: "
            + _VIDEO_BACKEND_HELP.format(
                video=video_path, frames_dir=os.path.splitext(video_path)[0]
            )
        )
    if backend == "ffmpeg":
        reader = imageio.v2.get_reader(video_path, format="FFMPEG")
        try:
            for frame in reader:
                yield np.asarray(frame)
        finally:
            reader.close()
    else:
        for frame in imageio.v3.imiter(video_path, plugin="pyav"):
            yield np.asarray(frame)


def default_video_cache_dir(data_dir):
    """Where frames extracted from videos go by default (a temp-dir folder)."""
    digest = hashlib.sha1(os.path.abspath(os.fspath(data_dir)).encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), "seg2vid_tf_frames", digest)


def extract_video_frames(video_path, out_dir, grayscale=False):
    """Decodes a video file once into numbered PNG frames (cached).

    Frames go to ``out_dir/frame_00001.png, ...``; a ``.complete`` marker makes
    later calls reuse them.

    Args:
        video_path: The video file.
        out_dir: Folder for the frames.
        grayscale: Store single-channel frames.

    Returns:
        Sorted tuple of frame paths.

    Raises:
        RuntimeError: No imageio video backend is installed.
        ValueError: The video cannot be decoded or has no frames.
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel

    marker = os.path.join(out_dir, ".complete")
    if os.path.isfile(marker):
        return tuple(list_frame_files(out_dir))
    tmp_dir = f"{out_dir}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    count = 0
    try:
        frames = _iter_video_frames(video_path)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except (OSError, ValueError, IndexError, KeyError) as err:  # Decoder errors.
                raise ValueError(
                    f"Cannot decode video {video_path} (frame {count + 1}): {err}"
                ) from err
            count += 1
            frame = np.asarray(frame)
            if frame.ndim == 3 and frame.shape[-1] == 1:
                frame = frame[..., 0]
            image = Image.fromarray(frame.astype(np.uint8))
            image = image.convert("L" if grayscale else "RGB")
            image.save(os.path.join(tmp_dir, f"frame_{count:05d}.png"))
        if count == 0:
            raise ValueError(f"Video {video_path} has no frames.")
        with open(os.path.join(tmp_dir, ".complete"), "w", encoding="utf-8") as f:
            f.write(f"{count}\n")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(os.path.dirname(out_dir) or ".", exist_ok=True)
        os.replace(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return tuple(list_frame_files(out_dir))


def materialize_videos(videos, video_cache_dir, grayscale=False, description="dataset"):
    """Replaces video-file sources by their extracted frames.

    Args:
        videos: List of :class:`VideoSource`.
        video_cache_dir: Folder for extracted frames
            (``<cache>/<category>/<video>/``).
        grayscale: Store single-channel frames.
        description: Dataset name used in messages.

    Returns:
        List of :class:`VideoSource` that all have ``frame_paths``.

    Raises:
        RuntimeError: Video files are present but imageio has no video backend.
    """
    files = [v for v in videos if v.frame_paths is None]
    if not files:
        return list(videos)
    if _video_backend() is None:
        raise RuntimeError(
            f"{description}: found {len(files)} video file(s) such as {files[0].video_path}, but "
            + _VIDEO_BACKEND_HELP.format(
                video=files[0].video_path,
                frames_dir=os.path.splitext(files[0].video_path)[0],
            )
        )
    logging.info(
        "%s: extracting frames of %d video(s) to %s.", description, len(files), video_cache_dir
    )
    out = []
    for video in videos:
        if video.frame_paths is None:
            frames = extract_video_frames(
                video.video_path,
                os.path.join(video_cache_dir, video.category, video.name),
                grayscale=grayscale,
            )
            video = dataclasses.replace(video, frame_paths=frames)
        out.append(video)
    return out


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


def find_video_clips(
    data_dir,
    split,
    num_frames,
    frame_stride,
    *,
    split_file,
    categories,
    video_cache_dir,
    on_error,
    grayscale,
    description,
    split_of,
    splits,
    split_help,
    split_rule,
    name_key=None,
):
    """Every clip of one split of a ``ROOT/<category>/<video>`` dataset (KTH, UCF101).

    Lists the videos (:func:`find_videos`), selects the split (the names in
    ``split_file``, else ``split_of(name) == split``), extracts the frames of
    video files into ``video_cache_dir`` (:func:`materialize_videos`), cuts
    the clips (:func:`video_clips`) and checks their files
    (:func:`check_clip_files`).

    Args:
        data_dir: The dataset root.
        split: A name in ``splits``; with a ``split_file`` only a name used in
            messages.
        num_frames: Frames per clip.
        frame_stride: Step between the frames of a clip.
        split_file: Optional text file listing the videos of the split
            (:func:`read_split_file`), or None.
        categories: Optional category folders to keep, or None for all.
        video_cache_dir: Where frames of video files are extracted; None: the
            :func:`default_video_cache_dir` of ``data_dir``.
        on_error: "raise" on a missing or empty file, or "skip" the clip.
        grayscale: Extract single-channel frames.
        description: Dataset name used in messages ("KTH").
        split_of: Maps a video name to its split by the dataset's rule.
        splits: The split names the rule knows.
        split_help: What the splits mean, for the error on an unknown split
            ("persons 1-16 / 17-25").
        split_rule: The rule in words, for the error on an empty split.
        name_key: Optional normalization applied to the names of both the
            videos and the split file before comparing them.

    Returns:
        List of :class:`Clip`, sorted by category, video and start frame.

    Raises:
        FileNotFoundError: data_dir, a category or the split file is missing.
        ValueError: Unknown split, no videos in the split, no clip long enough.
        RuntimeError: Video files but no imageio video backend.
    """
    check_on_error(on_error)
    videos = find_videos(data_dir, categories, description)
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
    cache = video_cache_dir or default_video_cache_dir(data_dir)
    selected = materialize_videos(selected, cache, grayscale=grayscale, description=description)
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
