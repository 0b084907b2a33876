"""KITTI 2015 flow files: 16-bit PNGs of forward optical flow.

Flow file format
----------------
3-channel 16-bit PNG (colour type 2, bit depth 16): ``R = u * 64 + 2**15``,
``G = v * 64 + 2**15``, ``B = 1`` where the flow is valid else ``0``, with
``u, v`` in pixels (rounded to the nearest 1/64 px and clipped to the uint16
range). The dataset readers (:mod:`seg2vid_tf.data.pipeline`) use the same
``FLOW_SCALE`` and ``FLOW_OFFSET``.

Pillow cannot write 16-bit RGB, so the PNG codec is TensorFlow's
(``tf.io.encode_png`` / ``tf.io.decode_png`` with ``dtype=tf.uint16``, any
PNG filter type). TensorFlow is imported on the first read or write, so that
importing or rendering with :mod:`seg2vid_tf.data.synthetic` needs NumPy only.
Processes that only generate data call :func:`hide_gpus_from_tensorflow`
first (the dataset workers, the command line): the codec runs on the CPU, and
TensorFlow's first op would otherwise set up every visible GPU in each of them.
Before decoding, :func:`read_kitti_flow` walks the file's chunks, so that a
truncated, corrupt or not 16-bit RGB file is reported with its name and what is
wrong (the decoder would widen an 8-bit file to 16 bits silently).
"""

import os
import struct
import zlib

import numpy as np

from seg2vid_tf.image_formats import PNG_SIGNATURE

FLOW_SCALE = 64.0
FLOW_OFFSET = 2 ** 15


def hide_gpus_from_tensorflow():
    """Keeps TensorFlow in this process off the GPUs; call it before TensorFlow's first op.

    The flow codec runs on the CPU. Without this, the first flow PNG read or
    written would create a CUDA context (and reserve GPU memory) in a process
    that never computes on a GPU. No effect once TensorFlow has run an op.
    """
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"


def _png_header(blob, path):
    """The IHDR fields of a complete PNG, checking every chunk's length and CRC.

    Args:
        blob: The file's bytes.
        path: The file's path, for the messages.

    Returns:
        ``(width, height, bit depth, colour type, compression, filter, interlace)``.

    Raises:
        ValueError: Not a PNG, truncated (a chunk cut off, no ``IEND``), a CRC
            mismatch or no valid ``IHDR``; the message names ``path``.
    """
    if not blob.startswith(PNG_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file.")
    view = memoryview(blob)
    pos = len(PNG_SIGNATURE)
    header = None
    ended = False
    while pos < len(blob):
        if pos + 8 > len(blob):
            raise ValueError(f"{path}: truncated PNG (incomplete chunk header).")
        length, kind = struct.unpack(">I4s", view[pos:pos + 8])
        end = pos + 12 + length
        if end > len(blob):
            raise ValueError(f"{path}: truncated PNG (chunk {kind!r} is cut off).")
        data = view[pos + 8:end - 4]
        (crc,) = struct.unpack(">I", view[end - 4:end])
        if zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: corrupt PNG (CRC mismatch in chunk {kind!r}).")
        pos = end
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"{path}: invalid IHDR chunk.")
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IEND":
            ended = True
            break
    if header is None:
        raise ValueError(f"{path}: PNG without IHDR chunk.")
    if not ended:
        raise ValueError(f"{path}: truncated PNG (no IEND chunk).")
    return header


def _check_rgb16(header, path):
    depth, color = header[2], header[3]
    if depth != 16:
        raise ValueError(f"{path}: expected a 16-bit PNG, got bit depth {depth}.")
    if color != 2:
        raise ValueError(f"{path}: expected an RGB PNG (colour type 2), got colour type {color}.")


def write_kitti_flow(path, flow, valid):
    """Writes a flow field as a KITTI 16-bit PNG.

    Args:
        path: Output file path.
        flow: float ``[H, W, 2]``, channel 0 = u = dx, channel 1 = v = dy (pixels).
        valid: bool ``[H, W]``.

    Returns:
        ``path``.

    Raises:
        ValueError: If the shapes are not ``[H, W, 2]`` and ``[H, W]``.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    flow = np.asarray(flow, np.float64)
    valid = np.asarray(valid, bool)
    if flow.ndim != 3 or flow.shape[-1] != 2 or valid.shape != flow.shape[:2]:
        raise ValueError(f"flow must be [H, W, 2] and valid [H, W]; "
                         f"got {flow.shape}, {valid.shape}.")
    enc = np.clip(np.rint(np.nan_to_num(flow) * FLOW_SCALE + FLOW_OFFSET), 0, 65535)
    img = np.empty(flow.shape[:2] + (3,), np.uint16)
    img[..., :2] = enc.astype(np.uint16)
    img[..., 2] = valid.astype(np.uint16)
    data = tf.io.encode_png(img).numpy()
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def read_kitti_flow(path):
    """Reads a KITTI 16-bit flow PNG.

    Args:
        path: File path (any 16-bit RGB PNG).

    Returns:
        ``(flow, valid)``: float32 ``[H, W, 2]`` (u, v in pixels) and bool
        ``[H, W]`` (the blue channel is non-zero). Invalid pixels keep the
        values stored in the file (this generator stores the geometric flow
        there too; KITTI ground truth stores 0, i.e. -512 px): mask with
        ``valid``.

    Raises:
        ValueError: If the file is not a PNG, is truncated or corrupt, or is
            not 16-bit RGB; the message names the file.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    with open(path, "rb") as fh:
        blob = fh.read()
    _check_rgb16(_png_header(blob, path), path)
    try:
        img = tf.io.decode_png(blob, channels=3, dtype=tf.uint16).numpy()
    except tf.errors.InvalidArgumentError as exc:
        raise ValueError(f"{path}: corrupt PNG image data ({exc.message}).") from None
    flow = (img[..., :2].astype(np.float32) - FLOW_OFFSET) / FLOW_SCALE
    return flow, img[..., 2] > 0
