"""Temporal smoothing: a per-pixel majority over a window of frames."""

import numpy as np
import pytest

from seg2vid_tf.segmentation import smoothing


def test_a_one_frame_flicker_is_removed_and_a_lasting_change_kept():
    maps = np.zeros((6, 2, 2), np.int32)
    maps[2, 0, 0] = 13  # flicker: car for one frame only
    maps[3:, 1, 1] = 11  # lasting change: a person from frame 3 on
    smoothed = smoothing.smooth_sequence(maps, 3)
    assert (smoothed[:, 0, 0] == 0).all()
    np.testing.assert_array_equal(smoothed[:, 1, 1], [0, 0, 0, 11, 11, 11])


def test_ties_go_to_the_frame_own_label():
    # Window of 3 at the ends holds 2 frames: one vote each, the frame keeps its own label.
    maps = np.array([[[2]], [[8]], [[8]]])
    np.testing.assert_array_equal(smoothing.smooth_sequence(maps, 3)[:, 0, 0], [2, 8, 8])
    tie = np.array([[[1]], [[5]], [[9]]])  # three different labels: the centre's wins
    assert smoothing.majority_label(tie, 1)[0, 0] == 5


def test_window_one_changes_nothing_and_bad_windows_are_errors():
    maps = np.random.RandomState(0).randint(0, 20, (4, 3, 3))
    np.testing.assert_array_equal(smoothing.smooth_sequence(maps, 1), maps)
    for window in (0, 2, -1, 1.0, True):
        with pytest.raises(ValueError, match="--temporal_window must be an odd integer"):
            smoothing.smooth_sequence(maps, window)
