"""Naming the dataset file behind an error raised while iterating a tf.data pipeline.

The readers decode their files inside tf.data map functions (:mod:`decoding`).
Their cheap byte checks (``tf.debugging.Assert``) already carry the file's
path, but TensorFlow's image decoders report a corrupt file only as, e.g.,
``Invalid PNG data, size 22508``: a map function cannot catch an op's error,
and guarding every decode with a nested ``ignore_errors`` dataset roughly
doubles the cost of a clip of small frames. So nothing is added to the
happy path; the file is found when the error happens:

* an assertion of the readers names its file already: :func:`explain` adds
  the clip and the split and returns it as a :class:`DataFileError`;
* a decoder failure is traced back by rescanning the files of the clips the
  dataset was built from, in stages, cheapest first: the files whose byte
  count is the ``size N`` of the message (the decoder was given the whole
  file), then the PNGs whose signature or header chunk is broken, then every
  other file. Each stage decodes its files with the same TensorFlow decoder
  in one parallel tf.data pass that drops the failures (``ignore_errors``);
  the indices missing from its output are the corrupt files.

:class:`DataFileError` is a ``ValueError``, so the command-line tools print
``error: ...`` for it. Use :func:`naming_files` around any loop over a
dataset, or :func:`explain` in an ``except`` clause.
"""

import contextlib
import os
import re
import struct
import zlib

import tensorflow as tf
from absl import logging

from seg2vid_tf.image_formats import PNG_SIGNATURE

__all__ = ["DataFileError", "explain", "naming_files", "undecodable_files"]

_PNG_HEADER_BYTES = 33  # Signature, then the IHDR chunk: length, type, 13 bytes, CRC.
_JPEG_EXTENSIONS = (".jpg", ".jpeg")
# Messages of TensorFlow's PNG / JPEG decode ops for data they cannot decode.
_DECODER_FAILURE = re.compile(
    r"Invalid (PNG|JPEG)|jpeg::Uncompress failed|Unknown image file format|"
    r"Failed to initialize decoder")
_SIZE = re.compile(r"size (\d+)")
_MAX_LISTED = 10

_EXPECTED = {
    "frame": "a complete {format} image",
    "label": "a complete 8-bit single-channel label PNG",
    "flow": "a complete KITTI 16-bit 3-channel flow PNG",
}


class DataFileError(ValueError):
    """A dataset file that is corrupt or not what its reader expects.

    The message names the file, the clip and split that use it, and what was
    expected.
    """


def _file_owners(clips):
    """Maps every file of ``clips`` to ``(kind, first clip id)``, in clip order."""
    owners = {}
    for clip in clips:
        files = [("frame", path) for path in clip.frame_paths]
        if clip.label_path is not None:
            files.append(("label", clip.label_path))
        files.extend(("flow", path) for path in (clip.flow_paths or ()))
        for kind, path in files:
            owners.setdefault(str(path), (kind, clip.clip_id))
    return owners


def _decoder_text(message):
    """The first line of a TensorFlow error message without the function and op tags."""
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", message).strip()
    text = text.splitlines()[0] if text else text
    return re.sub(r"\s*\[Op:[^\]]*\].*$", "", text).strip()


def _assertion_text(message):
    """The data of a failed ``tf.debugging.Assert`` as one line, or None."""
    found = re.search(r"assertion failed: (.*)", message)
    if not found:
        return None
    text = found.group(1).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return " ".join(piece.strip() for piece in text.split("] ["))


def _where(owners, path, description, split):
    kind, clip_id = owners[path]
    place = f"{description} {clip_id!r}"
    if split:
        place += f", split {split!r}"
    return kind, place


def _file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _png_header_broken(path):
    """Whether a ``.png`` file's signature or IHDR chunk (with its CRC) is wrong."""
    if path.lower().endswith(_JPEG_EXTENSIONS):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(_PNG_HEADER_BYTES)
    except OSError:
        return True
    if len(head) < _PNG_HEADER_BYTES or not head.startswith(PNG_SIGNATURE):
        return True
    length, kind = struct.unpack(">I4s", head[8:16])
    (crc,) = struct.unpack(">I", head[29:33])
    return length != 13 or kind != b"IHDR" or zlib.crc32(head[12:29]) & 0xFFFFFFFF != crc


def undecodable_files(paths):
    """The files of ``paths`` that TensorFlow cannot read or decode as an image.

    Decodes them all with ``tf.io.decode_image`` (PNG of any bit depth, JPEG)
    in one parallel tf.data pass that drops the failures.

    Args:
        paths: File paths.

    Returns:
        The paths that failed, in the order given.
    """
    paths = [str(path) for path in paths]
    if not paths:
        return []

    def probe(index, path):
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
        return index, tf.size(image, out_type=tf.int64)

    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.range(len(paths), dtype=tf.int64), tf.constant(paths)))
    dataset = dataset.map(probe, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    decoded = {int(index) for index, _ in dataset.as_numpy_iterator()}
    return [path for index, path in enumerate(paths) if index not in decoded]


def _rescan(paths, size):
    """The corrupt files among ``paths``, found by the cheapest stage that finds any."""
    stages = []
    if size is not None:
        stages.append(("of the reported size", lambda: [p for p in paths if _file_size(p) == size]))
    stages.append(("with a broken PNG header", lambda: [p for p in paths if _png_header_broken(p)]))
    stages.append(("in all", lambda: paths))
    checked = set()
    for name, select in stages:
        candidates = [path for path in select() if path not in checked]
        if not candidates:
            continue
        logging.info("Decode error: rescanning %d file(s) %s to name the corrupt one(s).",
                     len(candidates), name)
        bad = undecodable_files(candidates)
        if bad:
            return bad
        checked.update(candidates)
    return []


def _corrupt_message(bad, owners, description, split, decoder_message):
    """The message of a :class:`DataFileError` for the undecodable files ``bad``."""
    lines = []
    for path in bad[:_MAX_LISTED]:
        kind, place = _where(owners, path, description, split)
        file_format = "JPEG" if path.lower().endswith(_JPEG_EXTENSIONS) else "PNG"
        problem = "does not exist" if not os.path.isfile(path) else "cannot be decoded"
        expected = _EXPECTED[kind].format(format=file_format)
        lines.append(f"{kind.capitalize()} file {path} ({place}) {problem}; expected {expected}")
    if len(bad) > _MAX_LISTED:
        lines.append(f"... and {len(bad) - _MAX_LISTED} more")
    advice = ("replace {it} with an intact copy from the dataset (or skip broken clips with "
              "on_error='skip').")
    if len(bad) == 1:
        return (f"{lines[0]} (TensorFlow: {decoder_message}). The file is corrupt: "
                + advice.format(it="it"))
    return (f"{len(bad)} files cannot be used (TensorFlow: {decoder_message}):\n  "
            + "\n  ".join(lines) + "\nThe files are corrupt: " + advice.format(it="them"))


def explain(error, clips, *, split=None, description="clip"):
    """The :class:`DataFileError` naming the file behind ``error``, or None.

    Args:
        error: An exception raised while iterating a dataset built from
            ``clips`` (e.g. ``tf.errors.InvalidArgumentError``).
        clips: The :class:`clips.Clip` list the dataset was built from.
        split: Split name for the message, or None.
        description: What a clip is, for the message ("Cityscapes clip").

    Returns:
        A :class:`DataFileError` whose message names the file(s), their clip
        and split and what was expected; None when ``error`` is not a failed
        check of one of these files nor a decoder failure traced back to them
        (the caller then re-raises ``error``).
    """
    if not isinstance(error, tf.errors.OpError):
        return None
    owners = _file_owners(clips)
    assertion = _assertion_text(error.message)
    if assertion is not None:
        named = [path for path in owners if path in assertion]
        if not named:
            return None
        _, place = _where(owners, named[0], description, split)
        return DataFileError(f"{assertion.rstrip('.')} ({place}).")
    if not _DECODER_FAILURE.search(error.message):
        return None
    size = _SIZE.search(error.message)
    bad = _rescan(list(owners), int(size.group(1)) if size else None)
    if not bad:
        return None
    return DataFileError(
        _corrupt_message(bad, owners, description, split, _decoder_text(error.message)))


@contextlib.contextmanager
def naming_files(clips, *, split=None, description="clip"):
    """Re-raises a dataset's file errors as :class:`DataFileError` naming the file.

    Wrap the loop over a dataset built from ``clips``::

        with decode_errors.naming_files(clips, split="train"):
            for batch in dataset:
                ...

    Args:
        clips: The clips the dataset was built from.
        split: Split name for the message, or None.
        description: What a clip is, for the message.

    Raises:
        DataFileError: Iterating failed on a file of ``clips`` (see
            :func:`explain`); other errors pass unchanged.
    """
    try:
        yield
    except tf.errors.OpError as error:
        named = explain(error, clips, split=split, description=description)
        if named is None:
            raise
        raise named from error
