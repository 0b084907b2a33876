"""Damaging image files the way a bad disk or download does (tests only).

Both helpers keep the file's size, its signature and its end marker, so the
readers' cheap byte checks pass and only the decoder can tell.
"""

import struct

from seg2vid_tf.data import decode_errors
from seg2vid_tf.image_formats import PNG_SIGNATURE

_JPEG_START_OF_FRAME = (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2")


def _damage(path, change):
    """Applies `change(bytearray)` to the bytes of `path` in place; returns `path`."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    change(data)
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    return path


def corrupt_png_data(path):
    """Overwrites bytes in the middle of the first IDAT chunk of a PNG (CRC left stale).

    Returns:
        ``path``.
    """

    def change(data):
        if not data.startswith(PNG_SIGNATURE):
            raise ValueError(f"{path} is not a PNG file.")
        position = len(PNG_SIGNATURE)
        while position + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            if kind == b"IDAT":
                middle = position + 8 + length // 2
                for index in range(middle, middle + max(1, min(8, length // 2))):
                    data[index] ^= 0xA5
                return
            position += 12 + length
        raise ValueError(f"{path} has no IDAT chunk.")

    return _damage(path, change)


def corrupt_jpeg_header(path):
    """Zeroes the start-of-frame segment of a JPEG (its length, precision and size).

    Returns:
        ``path``.
    """

    def change(data):
        positions = [data.find(marker) for marker in _JPEG_START_OF_FRAME]
        positions = [position for position in positions if position > 0]
        if not positions:
            raise ValueError(f"{path} has no start-of-frame segment.")
        start = min(positions) + 2
        data[start:start + 8] = bytes(8)

    return _damage(path, change)


def file_error_message(dataset, clips, description, split="train"):
    """The `DataFileError` message of iterating `dataset` (built from `clips`) to its end.

    Raises:
        AssertionError: The dataset read through without a file error.
    """
    try:
        with decode_errors.naming_files(clips, split=split, description=description):
            for _ in dataset:
                pass
    except decode_errors.DataFileError as error:
        return str(error)
    raise AssertionError(f"Reading the {description}s raised no DataFileError.")
