"""Sample pictures for TensorBoard and the demo: start frame, prediction, truth, flow, mask."""

import numpy as np

from seg2vid_tf import visualization
from seg2vid_tf.ops.warp import normalized_to_pixel_flow


def _clip(video, outputs, index):
    """One clip's `(start, frames, flow in pixels (dx, dy), mask_fw, truth)` as NumPy."""
    flow = normalized_to_pixel_flow(outputs["flow"][index]).numpy()[..., ::-1]
    return (video[index, 0], outputs["frames"].numpy()[index], flow,
            outputs["mask_fw"].numpy()[index], video[index, 1:])


def _rows(video, outputs, index):
    """Per predicted frame: [prediction, ground truth (or blank), flow colour, forward mask]."""
    _, frames, flow, mask, truth = _clip(video, outputs, index)
    return visualization.comparison_panels(frames, flow, mask, truth)


def sample_frames(video, outputs, index=0):
    """Animation frames: start frame | prediction | ground truth | flow | mask, one per step."""
    return visualization.comparison_frames(*_clip(video, outputs, index))


def sample_grid(video, outputs, index=0):
    """One still picture: a row per predicted frame (prediction, truth, flow, mask), float [0, 1]."""
    rows = [np.concatenate(panel, axis=1) for panel in _rows(video, outputs, index)]
    return np.concatenate(rows, axis=0).astype(np.float32) / 255.0
