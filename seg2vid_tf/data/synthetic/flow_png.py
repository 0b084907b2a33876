"""KITTI 2015 flow files: 16-bit PNGs of forward optical flow.

Flow file format
----------------
3-channel 16-bit PNG (colour type 2, bit depth 16): ``R = u * 64 + 2**15``,
``G = v * 64 + 2**15``, ``B = 1`` where the flow is valid else ``0``, with
``u, v`` in pixels (rounded to the nearest 1/64 px and clipped to the uint16
range). Pillow cannot write 16-bit RGB, so :func:`write_kitti_flow` and
:func:`read_kitti_flow` implement a small PNG codec with ``zlib`` and
``struct`` (the reader handles all five PNG filter types).
"""

import struct
import zlib

import numpy as np

FLOW_SCALE = 64.0
FLOW_OFFSET = 2 ** 15

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _encode_png_rgb16(image):
    """Encodes a uint16 [H, W, 3] array as a PNG (colour type 2, 16-bit, filter 0)."""
    image = np.ascontiguousarray(image, dtype=">u2")
    height, width, _ = image.shape
    raw = np.zeros((height, 1 + width * 6), np.uint8)
    raw[:, 1:] = image.view(np.uint8).reshape(height, width * 6)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr) +
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _png_chunk(b"IEND", b""))


def _unfilter(filt_types, data, bpp):
    """Reverses PNG filtering. data: uint8 [H, stride]; returns uint8 [H, stride]."""
    height, stride = data.shape
    if not np.any(filt_types):
        return data
    if np.all(filt_types <= 2):
        out = np.empty_like(data)
        prev = np.zeros(stride, np.uint8)
        for r in range(height):
            row = data[r]
            ft = filt_types[r]
            if ft == 0:
                cur = row
            elif ft == 2:
                cur = row + prev  # uint8 wraps modulo 256
            else:
                pad = (-stride) % bpp
                cur = np.concatenate([row, np.zeros(pad, np.uint8)]).reshape(-1, bpp)
                cur = (np.cumsum(cur, axis=0, dtype=np.int64) & 255).astype(np.uint8).ravel()[:stride]
            out[r] = cur
            prev = out[r]
        return out
    # General case (Average / Paeth): wavefront over pixel diagonals. Pixel
    # (r, x) depends on (r, x-1), (r-1, x) and (r-1, x-1) only.
    npx = -(-stride // bpp)
    pad = npx * bpp - stride
    filt = np.concatenate([data, np.zeros((height, pad), np.uint8)], axis=1)
    filt = filt.reshape(height, npx, bpp).astype(np.int32)
    rec = np.zeros((height + 1, npx + 1, bpp), np.int32)  # 1-padded top and left
    ft_all = filt_types.astype(np.int32)
    for d in range(height + npx - 1):
        r = np.arange(max(0, d - npx + 1), min(height - 1, d) + 1)
        x = d - r
        a = rec[r + 1, x]
        b = rec[r, x + 1]
        c = rec[r, x]
        ft = ft_all[r][:, None]
        p = a + b - c
        pa = np.abs(p - a)
        pb = np.abs(p - b)
        pc = np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        pred = np.select([ft == 1, ft == 2, ft == 3, ft == 4],
                         [a, b, (a + b) >> 1, paeth], 0)
        rec[r + 1, x + 1] = (filt[r, x] + pred) & 255
    out = rec[1:, 1:].reshape(height, npx * bpp)[:, :stride]
    return out.astype(np.uint8)


def _decode_png_rgb16(path):
    """Decodes a 16-bit RGB PNG into uint16 [H, W, 3]; ValueError naming path."""
    with open(path, "rb") as fh:
        blob = fh.read()
    if not blob.startswith(_PNG_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file.")
    pos = len(_PNG_SIGNATURE)
    header = None
    idat = []
    ended = False
    while pos < len(blob):
        if pos + 8 > len(blob):
            raise ValueError(f"{path}: truncated PNG (incomplete chunk header).")
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        end = pos + 12 + length
        if end > len(blob):
            raise ValueError(f"{path}: truncated PNG (chunk {kind!r} is cut off).")
        data = blob[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", blob[end - 4:end])
        if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: corrupt PNG (CRC mismatch in chunk {kind!r}).")
        pos = end
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"{path}: invalid IHDR chunk.")
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            ended = True
            break
    if header is None:
        raise ValueError(f"{path}: PNG without IHDR chunk.")
    if not ended:
        raise ValueError(f"{path}: truncated PNG (no IEND chunk).")
    width, height, depth, color, comp, filt_method, interlace = header
    if depth != 16:
        raise ValueError(f"{path}: expected a 16-bit PNG, got bit depth {depth}.")
    if color != 2:
        raise ValueError(f"{path}: expected an RGB PNG (colour type 2), got colour type {color}.")
    if comp != 0 or filt_method != 0:
        raise ValueError(f"{path}: unsupported PNG compression/filter method.")
    if interlace != 0:
        raise ValueError(f"{path}: interlaced PNGs are not supported.")
    if width == 0 or height == 0:
        raise ValueError(f"{path}: empty PNG image.")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ValueError(f"{path}: corrupt PNG image data ({exc}).") from None
    stride = width * 6
    if len(raw) < height * (stride + 1):
        raise ValueError(f"{path}: truncated PNG image data.")
    rows = np.frombuffer(raw, np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    filt_types = rows[:, 0]
    if np.any(filt_types > 4):
        raise ValueError(f"{path}: invalid PNG filter type {int(filt_types.max())}.")
    data = _unfilter(filt_types, rows[:, 1:], bpp=6)
    return np.ascontiguousarray(data).view(">u2").reshape(height, width, 3).astype(np.uint16)


def write_kitti_flow(path, flow, valid):
    """Writes a flow field as a KITTI 16-bit PNG.

    Args:
        path: Output file path.
        flow: float ``[H, W, 2]``, channel 0 = u = dx, channel 1 = v = dy (pixels).
        valid: bool ``[H, W]``.

    Returns:
        ``path``.
    """
    flow = np.asarray(flow, np.float64)
    valid = np.asarray(valid, bool)
    if flow.ndim != 3 or flow.shape[-1] != 2 or valid.shape != flow.shape[:2]:
        raise ValueError(f"flow must be [H, W, 2] and valid [H, W]; got {flow.shape}, {valid.shape}.")
    enc = np.clip(np.rint(np.nan_to_num(flow) * FLOW_SCALE + FLOW_OFFSET), 0, 65535)
    img = np.empty(flow.shape[:2] + (3,), np.uint16)
    img[..., :2] = enc.astype(np.uint16)
    img[..., 2] = valid.astype(np.uint16)
    data = _encode_png_rgb16(img)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def read_kitti_flow(path):
    """Reads a KITTI 16-bit flow PNG.

    Args:
        path: File path (any 16-bit RGB PNG with filter types 0..4).

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
    img = _decode_png_rgb16(path)
    flow = (img[..., :2].astype(np.float32) - FLOW_OFFSET) / FLOW_SCALE
    return flow, img[..., 2] > 0
