"""Checked in-graph loaders: image, label and KITTI-flow files whose errors name the file.

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

Conventions: flows are in pixels, channel 0 = u = dx, channel 1 = v = dy.
"""

import tensorflow as tf

from seg2vid_tf import labels
from seg2vid_tf.data.synthetic.flow_png import FLOW_OFFSET, FLOW_SCALE
from seg2vid_tf.image_formats import JPEG_SOI, PNG_IEND, PNG_SIGNATURE

__all__ = [
    "IGNORE_ID",
    "KITTI_FLOW_OFFSET",
    "KITTI_FLOW_SCALE",
    "NUM_CLASSES",
    "VOID_ID",
    "load_frames",
    "load_image",
    "load_kitti_flow",
    "load_label",
]

JPEG_EOI_WINDOW = 32

NUM_CLASSES = labels.NUM_LABELS  # Cityscapes train ids 0..18 plus 19 = void.
VOID_ID = labels.VOID_ID
IGNORE_ID = labels.IGNORE_ID  # Cityscapes' ignore value in *_labelTrainIds.png.
LABEL_ID_KINDS = ("train", "cityscapes")

# The KITTI flow PNG encoding, defined once beside the writer of the synthetic flow files.
KITTI_FLOW_SCALE = FLOW_SCALE
KITTI_FLOW_OFFSET = float(FLOW_OFFSET)


# ---------------------------------------------------------------------------
# In-graph byte checks.
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


def _read_checked_png(path, what, bit_depth, color_type, expected):
    """Reads a PNG file and validates its bytes and its IHDR bit depth and colour type.

    Args:
        path: Scalar string tensor, the PNG file.
        what: Word naming the file in error messages.
        bit_depth: The bit depth the file must have.
        color_type: The PNG colour type the file must have.
        expected: What such a file is, in words, for the error message.

    Returns:
        The file's bytes, a scalar string tensor that depends on the checks.
    """
    contents = tf.io.read_file(path)
    checks = _png_asserts(contents, path, f"{what} file")
    with tf.control_dependencies(checks):  # Report "not a PNG" before header problems.
        header_check = _png_header_asserts(
            contents, path, f"{what} PNG", bit_depth, color_type, expected
        )
    return _with_deps(checks + [header_check], contents)


# ---------------------------------------------------------------------------
# Loaders.
# ---------------------------------------------------------------------------
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


def _decode_checked_png(path, what, bit_depth, color_type, expected, dtype, channels):
    """Decodes a PNG checked by `_read_checked_png`; (when run) fails unless it has `channels`."""
    decoded = tf.io.decode_png(_read_checked_png(path, what, bit_depth, color_type, expected),
                               channels=0, dtype=dtype)
    channel_check = tf.debugging.Assert(
        tf.equal(tf.shape(decoded)[-1], channels),
        [f"{what} PNG must have {'a single channel' if channels == 1 else f'{channels} channels'}"
         ", got", tf.shape(decoded)[-1], "channels in", path])
    return _with_deps([channel_check], decoded[..., :channels])


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
    label = _decode_checked_png(path, what, 8, 0, "an 8-bit single-channel (grayscale) image",
                                tf.uint8, 1)
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
    ``G = v * 64 + 2**15`` and ``B = valid`` (non-zero where valid).

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
    raw = tf.cast(_decode_checked_png(path, what, 16, 2, "a KITTI 16-bit 3-channel (uint16 RGB) "
                                      "PNG", tf.uint16, 3), tf.float32)
    raw = tf.ensure_shape(raw, [None, None, 3])
    valid = raw[..., 2] > 0
    flow = (raw[..., :2] - KITTI_FLOW_OFFSET) / KITTI_FLOW_SCALE
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
