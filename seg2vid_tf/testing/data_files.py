"""Tiny image, label and flow files and dataset helpers for the data readers' tests.

The files are written with Pillow or by hand (16-bit KITTI flow PNGs), apart
from the code under test, so that the readers' tests check the readers
against independently made files.
"""

import os
import struct
import zlib

import numpy as np
from PIL import Image

from seg2vid_tf.data.clips import Clip
from seg2vid_tf.image_formats import PNG_SIGNATURE


def write_png16(path, array):
    """Writes a uint16 [H, W, 3] array as a 16-bit RGB PNG (colour type 2, filter 0)."""
    array = np.asarray(array, np.uint16)
    height, width, _ = array.shape
    raw = b"".join(b"\0" + array[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    data = PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
    data += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def kitti_flow_array(u, v, valid):
    """KITTI encoding of float u, v [H, W] and bool valid [H, W]."""
    out = np.zeros(u.shape + (3,), np.uint16)
    out[..., 0] = np.round(u * 64.0 + 2**15)
    out[..., 1] = np.round(v * 64.0 + 2**15)
    out[..., 2] = valid
    return out


def save(path, array, **kwargs):
    """Saves ``array`` with Pillow (format by extension), creating the folder; returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array)).save(path, **kwargs)
    return str(path)


def truncate(path, keep=0.5):
    """Cuts a file to the fraction ``keep`` of its bytes."""
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])


def frame_clips(paths_per_clip):
    """One :class:`Clip` per list of frame paths, with ids ``clip0, clip1, ...``."""
    return [Clip(frame_paths=tuple(p), clip_id=f"clip{i}") for i, p in enumerate(paths_per_clip)]


def make_frames(tmp_path, num, size=(8, 12), ext="png"):
    """``num`` constant RGB frames whose red value encodes their index (i * 20)."""
    paths = []
    for i in range(num):
        array = np.zeros(size + (3,), np.uint8)
        array[..., 0] = i * 20
        array[..., 1] = 100
        paths.append(save(os.path.join(tmp_path, f"f{i:02d}.{ext}"), array))
    return paths


def collect(dataset, key="clip_id"):
    """The values of ``key`` over all batches of ``dataset`` (bytes decoded to str)."""
    out = []
    for batch in dataset:
        out.extend(x.decode() if isinstance(x, bytes) else x for x in batch[key].numpy())
    return out


def iterate(dataset):
    """Runs through ``dataset`` (to trigger its errors)."""
    for _ in dataset:
        pass
