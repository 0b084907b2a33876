"""KITTI 16-bit flow PNGs: round trip, PNG filter types, older files, errors naming the file."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.data.synthetic.flow_png import read_kitti_flow, write_kitti_flow
from seg2vid_tf.testing import corrupt_files


def test_kitti_flow_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    flow = rng.uniform(-300, 300, (17, 23, 2)).astype(np.float32)
    valid = rng.random((17, 23)) < 0.7
    path = write_kitti_flow(str(tmp_path / "f.png"), flow, valid)
    back, back_valid = read_kitti_flow(path)
    assert back.dtype == np.float32 and back.shape == flow.shape
    assert np.abs(back - flow).max() <= 1 / 64
    assert np.array_equal(back_valid, valid)
    # Values beyond the uint16 range are clipped.
    write_kitti_flow(path, np.full((2, 3, 2), 1e4, np.float32), np.ones((2, 3), bool))
    back, _ = read_kitti_flow(path)
    assert np.allclose(back, (65535 - 2 ** 15) / 64)


def test_written_file_is_a_16_bit_rgb_png_holding_the_exact_codes(tmp_path):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 65536, (9, 14, 2))
    flow = (codes - 2 ** 15) / 64.0  # Exactly representable: the file holds these codes.
    valid = rng.random((9, 14)) < 0.5
    path = tmp_path / "f.png"
    write_kitti_flow(str(path), flow, valid)
    data = path.read_bytes()
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">IIBB", data[16:26]) == (14, 9, 16, 2)  # width, height, depth, RGB
    back, back_valid = read_kitti_flow(str(path))
    assert np.array_equal(back, flow.astype(np.float32)) and np.array_equal(back_valid, valid)


def _filtered_png16(image, filter_types):
    """Independent 16-bit RGB PNG encoder with the given per-row filter types.

    With every filter type 0 its bytes are those of the hand-written encoder that
    wrote the flow files before TensorFlow's (one IDAT chunk, zlib level 6).
    """
    height, width, _ = image.shape
    raw = np.ascontiguousarray(image, ">u2").view(np.uint8).reshape(height, width * 6).astype(np.int64)
    bpp = 6
    rows = []
    for r in range(height):
        cur = raw[r]
        prev = raw[r - 1] if r > 0 else np.zeros_like(cur)
        a = np.concatenate([np.zeros(bpp, np.int64), cur[:-bpp]])
        c = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        b = prev
        ft = filter_types[r]
        if ft == 0:
            pred = 0
        elif ft == 1:
            pred = a
        elif ft == 2:
            pred = b
        elif ft == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
            pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        rows.append(bytes([ft]) + ((cur - pred) & 255).astype(np.uint8).tobytes())

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("filters", ["mixed", "sub_up", "none"])
def test_read_kitti_flow_all_png_filters(tmp_path, filters):
    """Any filter type; "none" is the layout of the flow files written by earlier versions."""
    rng = np.random.default_rng(1)
    height, width = 13, 19
    image = rng.integers(0, 65536, (height, width, 3)).astype(np.uint16)
    image[..., 2] = rng.random((height, width)) < 0.5
    # Smooth-ish rows too, so that the predictors matter.
    image[5:9, :, 0] = np.arange(width, dtype=np.uint16) * 300
    choices = {"mixed": [0, 1, 2, 3, 4], "sub_up": [0, 1, 2], "none": [0]}[filters]
    filter_types = [choices[r % len(choices)] for r in range(height)]
    path = tmp_path / "f.png"
    path.write_bytes(_filtered_png16(image, filter_types))
    flow, valid = read_kitti_flow(str(path))
    assert np.array_equal(flow[..., 0], (image[..., 0].astype(np.float32) - 2 ** 15) / 64)
    assert np.array_equal(flow[..., 1], (image[..., 1].astype(np.float32) - 2 ** 15) / 64)
    assert np.array_equal(valid, image[..., 2] > 0)


def test_read_kitti_flow_errors_name_the_file(tmp_path):
    good = tmp_path / "good_flow.png"
    write_kitti_flow(str(good), np.zeros((8, 8, 2)), np.ones((8, 8), bool))
    data = good.read_bytes()
    truncated = tmp_path / "truncated_flow.png"
    truncated.write_bytes(data[: len(data) // 2])
    not_png = tmp_path / "text_flow.png"
    not_png.write_text("hello")
    rgb8 = tmp_path / "rgb8_flow.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(rgb8)
    gray16 = tmp_path / "gray16_flow.png"
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(gray16)
    for path, what in ((truncated, "truncated"), (not_png, "not a PNG"),
                       (rgb8, "bit depth"), (gray16, "colour type")):
        with pytest.raises(ValueError, match=what) as info:
            read_kitti_flow(str(path))
        assert str(path) in str(info.value)
    corrupt = tmp_path / "corrupt_flow.png"
    corrupt.write_bytes(data)
    corrupt_files.corrupt_png_data(str(corrupt))
    with pytest.raises(ValueError, match=r"corrupt PNG \(CRC mismatch in chunk b'IDAT'\)") as info:
        read_kitti_flow(str(corrupt))
    assert str(corrupt) in str(info.value)
