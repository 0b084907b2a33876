"""Frame metrics of predicted clips: per-clip, per-frame rows and their summaries.

PSNR and SSIM per predicted frame in [0, 1] (TensorFlow's 11x11 Gaussian SSIM;
infinite PSNRs of identical frames are left out of the means and counted in
`psnr_infinite_frames`); `flow_epe`, the endpoint error in pixels of the first
predicted forward flow against the ground-truth flow from the start frame to
frame 1 over its valid pixels, read where the ground truth sends each start
pixel (`predicted_forward_flow`), pixel-weighted over the clips.
"""

import numpy as np
import tensorflow as tf

from seg2vid_tf import metrics as metrics_lib
from seg2vid_tf.ops.warp import dense_image_warp, normalized_to_pixel_flow


def predicted_forward_flow(flow, truth_flow):
    """The model's forward flow at the start-frame pixels of the ground truth, in pixels.

    The reference's forward flow `flow[t]` lives on the pixels of the predicted frame:
    `frame_t(p) = start(p - flow(p))`, so it is the displacement `p_t - p_0` of the
    point seen at `p_t`. The ground truth `F` lives on the start frame's pixels and
    sends `p_0` to `p_0 + F(p_0)`. The comparable prediction is therefore the model's
    flow read (bilinearly, clamped at the border) at `p_0 + F(p_0)`.

    Args:
        flow: `[B, H, W, 2]` predicted forward flow in normalized units (x first).
        truth_flow: `[B, H, W, 2]` ground-truth forward flow in pixels (dx, dy).

    Returns:
        `[B, H, W, 2]` NumPy array in pixels (dx, dy).
    """
    pixels = normalized_to_pixel_flow(flow)  # (dy, dx)
    return read_at_destination(pixels[..., ::-1], truth_flow)


def read_at_destination(pixel_flow, truth_flow):
    """`pixel_flow` (dx, dy) read at `p + truth(p)`; see `predicted_forward_flow`."""
    truth = tf.convert_to_tensor(truth_flow, tf.float32)[..., ::-1]  # (dy, dx)
    pixels = tf.convert_to_tensor(pixel_flow, tf.float32)[..., ::-1]
    # dense_image_warp samples at p - offset, so -F reads the flow at p + F(p).
    sampled = dense_image_warp(pixels, -truth, padding="border")
    return sampled.numpy()[..., ::-1]


class Accumulator:
    """Per-clip, per-frame metric rows of one mode, plus pixel-weighted flow errors."""

    def __init__(self):
        self.psnr, self.ssim = [], []
        self.epe_sums, self.epe_counts = [], []

    def add(self, prediction, truth, flow=None, truth_flow=None, valid=None):
        self.psnr.append(metrics_lib.psnr_per_frame(prediction, truth))
        self.ssim.append(metrics_lib.ssim_per_frame(prediction, truth))
        if truth_flow is not None:
            predicted = read_at_destination(flow[:, 0], truth_flow)
            errors = np.linalg.norm(predicted - truth_flow, axis=-1)
            self.epe_sums.append(np.where(valid, errors, 0.0).sum(axis=(1, 2)))
            self.epe_counts.append(valid.sum(axis=(1, 2)))

    def arrays(self):
        result = {"psnr": np.concatenate(self.psnr), "ssim": np.concatenate(self.ssim)}
        if self.epe_sums:
            result["epe_sum"] = np.concatenate(self.epe_sums)
            result["epe_count"] = np.concatenate(self.epe_counts)
        return result


def summary(arrays, prefix=""):
    """Scalar means and per-frame means of `Accumulator.arrays()`."""
    psnr_mean, infinite = metrics_lib.finite_mean(arrays["psnr"])
    result = {
        f"{prefix}psnr": psnr_mean,
        f"{prefix}ssim": float(np.mean(arrays["ssim"])),
        f"{prefix}psnr_per_frame": [metrics_lib.finite_mean(column)[0]
                                    for column in arrays["psnr"].T],
        f"{prefix}ssim_per_frame": [float(value) for value in arrays["ssim"].mean(axis=0)],
    }
    if infinite:
        result[f"{prefix}psnr_infinite_frames"] = infinite
    if "epe_sum" in arrays:
        result[f"{prefix}flow_epe"] = float(arrays["epe_sum"].sum()
                                            / max(arrays["epe_count"].sum(), 1))
    return result


def best_of_k(samples):
    """Per clip, the best sample by mean PSNR, by mean SSIM and by EPE; their summaries."""
    psnr = np.stack([arrays["psnr"] for arrays in samples])  # [K, N, T]
    ssim = np.stack([arrays["ssim"] for arrays in samples])
    clip_psnr = np.where(np.isfinite(psnr), psnr, 1e9).mean(axis=2)
    best_psnr = psnr[np.argmax(clip_psnr, axis=0), np.arange(psnr.shape[1])]
    best_ssim = ssim[np.argmax(ssim.mean(axis=2), axis=0), np.arange(ssim.shape[1])]
    result = summary({"psnr": best_psnr, "ssim": best_ssim}, prefix="best_of_k_")
    if "epe_sum" in samples[0]:
        sums = np.stack([arrays["epe_sum"] for arrays in samples])  # [K, N]
        counts = samples[0]["epe_count"]
        per_clip = sums / np.maximum(counts, 1)
        best = per_clip.min(axis=0)
        result["best_of_k_flow_epe"] = float((best * counts).sum() / max(counts.sum(), 1))
    return result
