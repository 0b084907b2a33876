"""The true-flow oracle's tracks, splat and hole filling (tools/long_video_ceiling.py)."""

import numpy as np
import pytest

from tools import long_video_ceiling


def _uniform(dx, dy, height=4, width=6):
    flow = np.zeros((height, width, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_slow_motion_adds_up_instead_of_being_rounded_away():
    tracks = long_video_ceiling.FlowTracks(4, 6)
    valid = np.ones((4, 6), bool)
    for _ in range(5):
        tracks.step(_uniform(0.3, 0.0), valid)
    np.testing.assert_allclose(tracks.x - np.arange(6)[None, :], 1.5, atol=1e-6)
    image = np.arange(24, dtype=np.int32).reshape(4, 6)
    moved = long_video_ceiling.splat(image, tracks.x, tracks.y, tracks.alive)
    np.testing.assert_array_equal(moved[:, 2:], image[:, :4])  # 1.5 rounds to 2
    np.testing.assert_array_equal(moved[:, :2], image[:, :1].repeat(2, axis=1))


def test_tracks_end_where_the_flow_is_invalid_or_leaves_the_image():
    tracks = long_video_ceiling.FlowTracks(4, 6)
    valid = np.ones((4, 6), bool)
    valid[0, 0] = False
    tracks.step(_uniform(1.0, 0.0), valid)
    tracks.step(_uniform(1.0, 0.0), np.ones((4, 6), bool))
    tracks.step(_uniform(1.0, 0.0), np.ones((4, 6), bool))
    assert not tracks.alive[0, 0]
    assert tracks.alive[1, 0] and tracks.alive[1, 3]
    assert not tracks.alive[1, 4]  # at x = 6 after two steps: outside before the third


def test_colliding_pixels_keep_the_later_one_and_colour_images_move_too():
    image = np.random.default_rng(0).random((1, 3, 3))
    x = np.array([[0.0, 0.0, 2.0]])
    moved = long_video_ceiling.splat(image, x, np.zeros((1, 3)), np.ones((1, 3), bool))
    np.testing.assert_array_equal(moved[0, 0], image[0, 1])
    np.testing.assert_array_equal(moved[0, 2], image[0, 2])
    np.testing.assert_array_equal(moved[0, 1], moved[0, 0])  # filled from a neighbour


def test_holes_fill_from_the_nearest_drawn_pixel_without_wrapping():
    values = np.array([[1, 0, 0, 0, 5]], np.int32)
    hole = np.array([[False, True, True, True, False]])
    np.testing.assert_array_equal(long_video_ceiling.fill_holes(values, hole)[0, [1, 3]], [1, 5])
    column = np.array([[7], [0], [0]], np.int32)
    filled = long_video_ceiling.fill_holes(column, np.array([[False], [True], [True]]))
    np.testing.assert_array_equal(filled[:, 0], [7, 7, 7])


def test_holes_cannot_be_filled_from_nothing():
    with pytest.raises(ValueError, match="every pixel is a hole"):
        long_video_ceiling.fill_holes(np.zeros((2, 2)), np.ones((2, 2), bool))
