"""The drawn scenes: camera motions and the classes that appear."""

import numpy as np

from seg2vid_tf.data.synthetic import classes, dataset, render, sampling

H, W = 64, 128


def test_camera_motion_spans_stopped_to_fast_and_straight_to_turning():
    """The drawn camera motions: mean speeds over a wide range with near-stopped sequences,
    half the sequences straight, the others turning gently both ways."""
    speeds, yaws = [], []
    for k in range(400):
        scene = sampling.sample_scene(render.sequence_rng(7, k), 9, 32, 32)
        motion = dataset.sequence_motion(scene)
        speeds.append(np.mean(motion["camera_speed"]))
        yaws.append(motion["yaw_rate"])
        np.testing.assert_allclose(motion["yaw_rate"], np.mean(np.diff(scene.heading)), atol=1e-6)
    speeds, yaws = np.array(speeds), np.array(yaws)
    assert np.percentile(speeds, 90) > 3 * np.percentile(speeds, 25)
    assert 0.08 < np.mean(speeds < 0.16) < 0.25  # near-stopped: at most a few km/h
    assert speeds.max() > 1.2
    straight = yaws == 0.0
    assert 0.4 < straight.mean() < 0.6
    assert 0.35 < np.mean(yaws[~straight] > 0) < 0.65  # left and right
    # Gentle: at most 2 degrees per frame at the fastest.
    assert np.abs(yaws).max() < np.radians(2.0)


def test_all_main_classes_appear():
    seen = set()
    for k in range(5):
        _, labels, _, _ = render.render_sequence(render.sequence_rng(1, k), 2, H, W)
        seen |= set(np.unique(labels).tolist())
    wanted = {classes.ROAD, classes.SIDEWALK, classes.BUILDING, classes.SKY,
              classes.VEGETATION, classes.CAR, classes.PERSON, classes.POLE}
    assert wanted <= seen, sorted(wanted - seen)
    assert max(seen) <= classes.VOID_ID
