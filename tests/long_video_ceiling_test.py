"""The true-flow oracle's splat and hole filling (tools/long_video_ceiling.py)."""

import numpy as np
import pytest

from tools import long_video_ceiling


def test_a_uniform_shift_moves_every_pixel_and_fills_what_came_into_view():
    image = np.arange(20, dtype=np.int32).reshape(4, 5)
    flow = np.zeros((4, 5, 2), np.float32)
    flow[..., 0] = 1.0  # one pixel to the right
    moved = long_video_ceiling.splat_forward(image, flow, np.ones((4, 5), bool))
    np.testing.assert_array_equal(moved[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(moved[:, 0], image[:, 0])  # nearest carried neighbour


def test_invalid_pixels_are_dropped_and_their_targets_filled():
    image = np.array([[1, 2, 3]], np.int32)
    valid = np.array([[True, False, True]])
    moved = long_video_ceiling.splat_forward(image, np.zeros((1, 3, 2), np.float32), valid)
    assert moved[0, 0] == 1 and moved[0, 2] == 3 and moved[0, 1] in (1, 3)


def test_colour_images_move_as_label_maps_do():
    image = np.random.default_rng(0).random((6, 6, 3))
    flow = np.zeros((6, 6, 2), np.float32)
    flow[..., 1] = -2.0  # two rows up
    moved = long_video_ceiling.splat_forward(image, flow, np.ones((6, 6), bool))
    np.testing.assert_array_equal(moved[:4], image[2:])
    np.testing.assert_array_equal(moved[4], image[5])
    np.testing.assert_array_equal(moved[5], image[5])


def test_holes_cannot_be_filled_from_nothing():
    with pytest.raises(ValueError, match="every pixel is a hole"):
        long_video_ceiling.fill_holes(np.zeros((2, 2)), np.ones((2, 2), bool))
