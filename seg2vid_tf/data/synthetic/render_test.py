"""render_sequence: shapes, determinism, argument checks and the motion settings."""

import numpy as np
import pytest

from seg2vid_tf.data import synthetic
from seg2vid_tf.data.synthetic import camera, raycast, render

H, W, F = 64, 128, 5


def test_render_shapes_and_dtypes():
    frames, labels, flows, valid = synthetic.render_sequence(synthetic.sequence_rng(0, 0), F, H, W)
    assert frames.shape == (F, H, W, 3) and frames.dtype == np.uint8
    assert labels.shape == (F, H, W) and labels.dtype == np.uint8
    assert flows.shape == (F - 1, H, W, 2) and flows.dtype == np.float32
    assert valid.shape == (F - 1, H, W) and valid.dtype == bool
    assert labels.max() <= synthetic.VOID_ID
    assert np.all(np.isfinite(flows))


def test_render_is_deterministic():
    a = synthetic.render_sequence(7, 3, H, W)
    b = synthetic.render_sequence(7, 3, H, W)
    c = synthetic.render_sequence(8, 3, H, W)
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()
    assert a[0].tobytes() != c[0].tobytes()
    d = synthetic.render_sequence(np.random.default_rng(7), 3, H, W)
    assert a[0].tobytes() == d[0].tobytes()


def test_api_validation():
    with pytest.raises(ValueError, match="height"):
        synthetic.render_sequence(0, 3, 40, 64)
    with pytest.raises(ValueError, match="num_frames"):
        synthetic.render_sequence(0, 1, 32, 64)


def test_motion_scale_keeps_the_scene_and_scales_its_motion():
    frames, labels, flows, valid = synthetic.render_sequence(5, 3, 64, 96)
    slow_frames, slow_labels, slow_flows, slow_valid = synthetic.render_sequence(
        5, 3, 64, 96, motion_scale=0.5)
    # Same layout and start frame; the later frames differ.
    np.testing.assert_array_equal(slow_frames[0], frames[0])
    np.testing.assert_array_equal(slow_labels[0], labels[0])
    assert np.abs(slow_frames[2].astype(int) - frames[2]).mean() > 0.5
    both = valid[0] & slow_valid[0]
    fast = np.hypot(*np.moveaxis(flows[0][both], -1, 0)).mean()
    slow = np.hypot(*np.moveaxis(slow_flows[0][both], -1, 0)).mean()
    # Under perspective the flow is not exactly linear in the speed, but close to it.
    assert 0.4 < slow / fast < 0.6
    with pytest.raises(ValueError, match="motion_scale"):
        synthetic.render_sequence(5, 3, 64, 96, motion_scale=0.0)
    with pytest.raises(ValueError, match="motion_scale"):
        synthetic.generate_dataset("/nonexistent/x", 2, 2, 32, 32, 0, motion_scale=-1.0)


def test_speed_variation_keeps_the_scenes_and_narrows_the_camera_speeds():
    def camera_speeds(speed_variation):
        speeds, starts = [], []
        for k in range(6):
            _, _, _, _, scene = render.render_sequence_full(
                render.sequence_rng(0, k), 3, 64, 96, speed_variation=speed_variation)
            speeds.append(np.hypot(scene.cam_x[1] - scene.cam_x[0], scene.cam_z[1] - scene.cam_z[0]))
            starts.append(raycast.render_frame(scene, 0).rgb)
        return np.array(speeds), starts

    full, full_starts = camera_speeds(1.0)
    narrow, narrow_starts = camera_speeds(0.25)
    none, _ = camera_speeds(0.0)
    for a, b in zip(full_starts, narrow_starts):
        np.testing.assert_array_equal(a, b)  # the same scenes
    mean = camera.MEAN_CAMERA_SPEED
    np.testing.assert_allclose(narrow - mean, 0.25 * (full - mean), atol=1e-9)
    np.testing.assert_allclose(none, mean)
    with pytest.raises(ValueError, match="speed_variation"):
        synthetic.render_sequence(5, 3, 64, 96, speed_variation=1.5)
