"""The synthetic renderer's ground-truth flow moves labels and pixels where they go."""

import numpy as np
import pytest

from seg2vid_tf.data.synthetic import classes, render, sampling
from seg2vid_tf.testing.flow_checks import label_agreement, near_edges, warp_mae

H, W, F = 64, 128, 5


@pytest.fixture(scope="module")
def sequences():
    """A few rendered sequences (frames, labels, flows, valid), cached per module."""
    return [render.render_sequence(render.sequence_rng(0, k), F, H, W) for k in range(3)]


def test_flow_labels_nearest_neighbour(sequences):
    """labels_{t+1}[round(p + flow)] == labels_t[p] on >= 99% of valid pixels;
    zero flow and sign-flipped flow are clearly worse."""
    for frames, labels, flows, valid in sequences:
        exact, zero, flipped = [], [], []
        for t in range(F - 1):
            exact.append(label_agreement(labels[t], labels[t + 1], flows[t], valid[t]))
            zero.append(label_agreement(labels[t], labels[t + 1], 0 * flows[t], valid[t]))
            flipped.append(label_agreement(labels[t], labels[t + 1], -flows[t], valid[t]))
        assert min(exact) >= 0.99, exact
        assert np.mean(zero) <= 0.98 and np.mean(zero) < np.mean(exact) - 0.01, (zero, exact)
        assert np.mean(flipped) <= 0.97 and np.mean(flipped) < np.mean(exact) - 0.02, (flipped, exact)


def test_flow_backward_warp_reproduces_frame(sequences):
    """Bilinear sampling of frame t+1 at p + flow(p) reproduces frame t."""
    for frames, labels, flows, valid in sequences:
        for t in range(F - 1):
            mask = valid[t] & ~near_edges(labels[t], frames[t])
            assert mask.mean() > 0.25  # The test covers a large part of the image.
            mae = warp_mae(frames[t], frames[t + 1], flows[t], mask)
            mae_zero = warp_mae(frames[t], frames[t + 1], 0 * flows[t], mask)
            mae_flip = warp_mae(frames[t], frames[t + 1], -flows[t], mask)
            assert mae < 2.0, (t, mae)
            assert mae_zero > 2.5 * mae and mae_zero > 3.0, (t, mae, mae_zero)
            assert mae_flip > 2.5 * mae, (t, mae, mae_flip)


def test_there_is_motion_and_invalid_pixels(sequences):
    for frames, labels, flows, valid in sequences:
        magnitude = np.hypot(flows[..., 0], flows[..., 1])
        assert magnitude[valid].mean() > 0.5
        assert 0.3 < valid.mean() < 0.98  # Occlusions and borders are invalid.
        assert (~valid).sum(axis=(1, 2)).min() > 0
        assert not np.array_equal(frames[0], frames[-1])


def test_flow_physics(sequences):
    """The sky moves uniformly (by the camera's turn alone); the static road moves down (the
    camera drives forward); the ground expands away from the vanishing point."""
    for frames, labels, flows, valid in sequences:
        sky = labels[:-1] == classes.SKY
        assert sky.any()
        assert np.all(np.abs(flows[..., 1][sky]) < 0.2)
        road = (labels[:-1] == classes.ROAD) & valid
        assert road.any()
        assert np.all(flows[..., 1][road] >= -1e-4)
        # Pixels of the lowest road rows move faster than those near the horizon.
        rows = np.nonzero(road.any(axis=(0, 2)))[0]
        v = flows[..., 1]
        near = v[:, rows[-3:], :][road[:, rows[-3:], :]].mean()
        far = v[:, rows[:3], :][road[:, rows[:3], :]].mean()
        assert near > far


def _first_scene(turning):
    """The first of dataset seed 3's scenes that turns (or drives straight)."""
    for k in range(40):
        scene = sampling.sample_scene(render.sequence_rng(3, k), F, H, W)
        if (scene.yaw_rate != 0.0) == turning:
            return k, scene
    raise AssertionError("no such scene in 40 draws")


@pytest.mark.parametrize("turning", [False, True])
def test_sky_moves_by_the_turn_alone(turning):
    """At infinity only rotation shows: a ray at angle atan((x - cx) / f) from the optical axis
    is seen at that angle minus the heading change (pinhole geometry, not the renderer's code)."""
    k, _ = _first_scene(turning)
    _, labels, flows, valid, scene = render.render_sequence_full(render.sequence_rng(3, k), F, H, W)
    for t in range(F - 1):
        turn = scene.heading[t + 1] - scene.heading[t]
        rows, cols = np.nonzero((labels[t] == classes.SKY) & valid[t])
        assert rows.size > 50
        angle = np.arctan((cols - scene.cx) / scene.f)
        expected_x = scene.cx + scene.f * np.tan(angle - turn) - cols
        expected_y = (rows - scene.cy) * (np.cos(angle) / np.cos(angle - turn)) - (rows - scene.cy)
        np.testing.assert_allclose(flows[t][rows, cols, 0], expected_x, atol=1e-3)
        np.testing.assert_allclose(flows[t][rows, cols, 1], expected_y, atol=1e-3)
        if turning:
            assert abs(np.median(expected_x)) > 0.05  # the test sees the turn


def test_a_turning_camera_has_flow_that_reproduces_the_frames():
    """Bilinear sampling of frame t+1 at p + flow(p) reproduces frame t while turning too."""
    k, _ = _first_scene(True)
    frames, labels, flows, valid = render.render_sequence(render.sequence_rng(3, k), F, H, W)
    for t in range(F - 1):
        mask = valid[t] & ~near_edges(labels[t], frames[t])
        mae = warp_mae(frames[t], frames[t + 1], flows[t], mask)
        mae_zero = warp_mae(frames[t], frames[t + 1], 0 * flows[t], mask)
        assert mae < 2.0 and mae_zero > 2.5 * mae, (t, mae, mae_zero)
