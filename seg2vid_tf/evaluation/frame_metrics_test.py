"""The forward flow read where each start pixel goes (the flow EPE's comparison)."""

import numpy as np

from seg2vid_tf.evaluation.frame_metrics import predicted_forward_flow
from seg2vid_tf.ops.warp import pixel_to_normalized_flow


def _zoom(height, width, k, centre):
    """A camera zoom by `1 + k` about `centre` = (cy, cx).

    Returns the ground-truth forward flow at the start frame's pixels (dx, dy) and the
    reference-convention forward flow at the next frame's pixels (normalized units).
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = centre
    truth = np.stack([k * (x - cx), k * (y - cy)], axis=-1)  # p0 -> p0 + k (p0 - c)
    # At a pixel p1 of the next frame: p1 - p0 with p0 = c + (p1 - c) / (1 + k).
    at_target = np.stack([(x - cx), (y - cy)], axis=-1) * (k / (1.0 + k))
    normalized = pixel_to_normalized_flow(at_target[None, ..., ::-1].copy())
    return truth[None], np.asarray(normalized)


def test_forward_flow_is_read_where_the_start_pixel_goes():
    truth, predicted_flow = _zoom(64, 96, 0.08, (30.0, 50.0))
    read = predicted_forward_flow(predicted_flow, truth)
    y, x = np.mgrid[0:64, 0:96]
    inside = ((x + truth[0, ..., 0] >= 0) & (x + truth[0, ..., 0] <= 95)
              & (y + truth[0, ..., 1] >= 0) & (y + truth[0, ..., 1] <= 63))
    np.testing.assert_allclose(read[0][inside], truth[0][inside], atol=2e-3)
    # Comparing at the same pixel instead would be off by k/(1+k) of the flow, up to ~0.3 px.
    naive = np.asarray(predicted_flow)[0] * np.array([95 / 2.0, 63 / 2.0])
    assert np.abs(naive - truth[0])[inside].max() > 0.2


def test_constant_flow_is_unchanged():
    truth = np.zeros((1, 32, 32, 2), np.float32) + np.array([1.5, -2.0], np.float32)
    normalized = pixel_to_normalized_flow(truth[..., ::-1].copy())
    read = predicted_forward_flow(normalized, truth)
    np.testing.assert_allclose(read, truth, atol=1e-5)
