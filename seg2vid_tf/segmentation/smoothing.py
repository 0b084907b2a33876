"""Temporal smoothing of per-frame label maps: a per-pixel majority over a window.

Segmenting a video frame by frame makes labels flicker where the network is
unsure (the complaint vid2vid users raise most). `majority_label` replaces a
pixel's label by the most frequent one among the frames `t - r .. t + r`
(truncated at the ends); a tie goes to the frame's own label.
"""

import numpy as np

from seg2vid_tf import labels


def check_window(window):
    """ValueError naming `--temporal_window` unless it is an odd integer >= 1."""
    if isinstance(window, bool) or not isinstance(window, int) or window < 1 or window % 2 == 0:
        raise ValueError(f"--temporal_window must be an odd integer >= 1 (1: off), got {window!r}.")


def majority_label(window_maps, center):
    """The per-pixel majority of train-id maps `[K, H, W]`, ties to `window_maps[center]`.

    Returns:
        int32 `[H, W]`.
    """
    window_maps = np.asarray(window_maps)
    votes = np.zeros((labels.NUM_LABELS,) + window_maps.shape[1:], np.float32)
    rows, cols = np.indices(window_maps.shape[1:])
    for label_map in window_maps:
        np.add.at(votes, (label_map, rows, cols), 1.0)
    np.add.at(votes, (window_maps[center], rows, cols), 0.5)  # the frame's own label wins ties
    return np.argmax(votes, axis=0).astype(np.int32)


def smooth_sequence(label_maps, window):
    """Every frame of `[T, H, W]` train-id maps smoothed over `window` frames."""
    check_window(window)
    label_maps = np.asarray(label_maps)
    if window == 1:
        return label_maps.astype(np.int32)
    radius = window // 2
    smoothed = []
    for t in range(len(label_maps)):
        start = max(0, t - radius)
        smoothed.append(majority_label(label_maps[start:t + radius + 1], t - start))
    return np.stack(smoothed)
