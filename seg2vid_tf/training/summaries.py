"""Sample pictures for TensorBoard and the demo: start frame, prediction, truth, flow, mask."""

import numpy as np

from seg2vid_tf import visualization
from seg2vid_tf.ops.warp import normalized_to_pixel_flow


def _rows(video, outputs, index):
    """Per predicted frame: [prediction, ground truth (or blank), flow colour, forward mask]."""
    frames = outputs["frames"].numpy()[index]
    flow = normalized_to_pixel_flow(outputs["flow"][index]).numpy()[..., ::-1]  # (dx, dy)
    masks = outputs["mask_fw"].numpy()[index]
    largest = max(float(np.abs(flow).max()), 1e-3)
    panels = []
    for t in range(frames.shape[0]):
        truth = (visualization.to_uint8(video[index, t + 1]) if video.shape[1] > t + 1
                 else np.full(frames.shape[1:3] + (3,), 255, np.uint8))
        panels.append([visualization.to_uint8(frames[t]), truth,
                       visualization.flow_to_color(flow[t], largest),
                       visualization.mask_to_image(masks[t])])
    return panels


def sample_frames(video, outputs, index=0):
    """Animation frames: start frame | prediction | ground truth | flow | mask, one per step."""
    start = visualization.to_uint8(video[index, 0])
    frames = [np.concatenate([start, start, start, np.full_like(start, 255),
                              np.full_like(start, 255)], axis=1)]
    for prediction, truth, flow, mask in _rows(video, outputs, index):
        frames.append(np.concatenate([start, prediction, truth, flow, mask], axis=1))
    return np.stack(frames)


def sample_grid(video, outputs, index=0):
    """One still picture: a row per predicted frame (prediction, truth, flow, mask), float [0, 1]."""
    rows = [np.concatenate(panel, axis=1) for panel in _rows(video, outputs, index)]
    return np.concatenate(rows, axis=0).astype(np.float32) / 255.0
