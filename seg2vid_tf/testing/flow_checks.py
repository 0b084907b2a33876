"""NumPy checks of an optical flow against the frames and label maps it moves (tests only).

Independent of the synthetic renderer: plain bilinear sampling and
nearest-neighbour label lookups along the flow.
"""

import numpy as np


def bilinear(image, x, y):
    """Bilinear sample of image [H, W, C] at float coordinates x, y [H, W]."""
    height, width = image.shape[:2]
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    x0 = np.clip(np.floor(x).astype(np.int64), 0, width - 2)
    y0 = np.clip(np.floor(y).astype(np.int64), 0, height - 2)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    img = image.astype(np.float64)
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)


def near_edges(labels, frame, texture_threshold=24.0):
    """Pixels within 1 px of a label edge or of a strong texture discontinuity.

    A texture discontinuity is a 3x3 neighbourhood whose grey-level range
    exceeds `texture_threshold` (window frames, lane markings, tile grout...).
    """
    height, width = labels.shape
    lab = np.pad(labels, 1, mode="edge")
    grey = np.pad(frame.astype(np.float64).mean(-1), 1, mode="edge")
    edge = np.zeros((height, width), bool)
    lo = np.full((height, width), np.inf)
    hi = np.full((height, width), -np.inf)
    for dy in range(3):
        for dx in range(3):
            edge |= lab[dy:dy + height, dx:dx + width] != labels
            lo = np.minimum(lo, grey[dy:dy + height, dx:dx + width])
            hi = np.maximum(hi, grey[dy:dy + height, dx:dx + width])
    return edge | (hi - lo > texture_threshold)


def label_agreement(labels_t, labels_t1, flow, valid):
    """Fraction of valid pixels p with labels_t1[round(p + flow)] == labels_t[p]."""
    height, width = labels_t.shape
    yy, xx = np.mgrid[0:height, 0:width]
    qx = np.clip(np.rint(xx + flow[..., 0]), 0, width - 1).astype(np.int64)
    qy = np.clip(np.rint(yy + flow[..., 1]), 0, height - 1).astype(np.int64)
    return float((labels_t1[qy, qx] == labels_t)[valid].mean())


def warp_mae(frame_t, frame_t1, flow, mask):
    """Mean |frame_t - frame_t1 sampled at p + flow| over mask (0..255 units)."""
    height, width = frame_t.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    warped = bilinear(frame_t1, xx + flow[..., 0], yy + flow[..., 1])
    return float(np.abs(warped - frame_t).mean(-1)[mask].mean())
