"""Long-horizon curves: oracle rollouts give the values the definitions demand."""

import types

import numpy as np
import pytest

from seg2vid_tf.data import synthetic
from seg2vid_tf.evaluation import label_maps as label_maps_lib
from seg2vid_tf.evaluation import long_horizon
from seg2vid_tf.models import segmenter as segmenter_lib

SIZE, FRAMES = 32, 7


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("long"))
    synthetic.generate_dataset(path, 3, FRAMES, SIZE, SIZE, seed=11, val_fraction=0.67)
    sequences = label_maps_lib.labelled_sequences(path, "val", SIZE, SIZE)
    segmenter = segmenter_lib.build_segmenter(segmenter_lib.SegmenterConfig(base_filters=4,
                                                                             depth=2))
    return path, sequences, segmenter


class _Oracle:
    """A stand-in pipeline: `truth` returns the real frames and maps, `copy` the first ones."""

    height = width = SIZE

    def __init__(self, sequences, mode):
        self.real = np.stack([frames for frames, _ in sequences])
        self.maps = np.stack([maps for _, maps in sequences])
        self.mode = mode
        self.calls = []

    def generate(self, num_frames, seeds, label_map=None, first_frame=None):
        self.calls.append((num_frames, list(seeds), first_frame is None))
        rows = [int(np.argmax([np.array_equal(m[0], row) for m in self.maps]))
                for row in label_map]
        real, maps = self.real[rows, :num_frames + 1], self.maps[rows, :num_frames + 1]
        if self.mode == "copy":
            real = np.repeat(real[:, :1], num_frames + 1, axis=1)
            maps = np.repeat(maps[:, :1], num_frames + 1, axis=1)
        return {"video": real, "label_maps": maps}


def test_laplacian_variance_of_a_checkerboard_and_of_a_flat_image():
    board = (np.indices((10, 12)).sum(axis=0) % 2).astype(np.float32)
    images = np.stack([np.repeat(board[..., None], 3, -1), np.full((10, 12, 3), 0.4)])
    # Every interior pixel: 4 * (1 - v) - 4 * v = +-4, so the variance is 16.
    np.testing.assert_allclose(long_horizon.laplacian_variance(images), [16.0, 0.0], atol=1e-5)


def test_a_perfect_rollout_scores_like_the_truth_and_a_frozen_one_like_copying(data):
    path, sequences, segmenter = data
    num_frames = FRAMES - 1
    perfect = long_horizon.evaluate_long_horizon(_Oracle(sequences, "truth"), segmenter, path,
                                                 num_frames, sequences=sequences)
    frozen_pipeline = _Oracle(sequences, "copy")
    frozen = long_horizon.evaluate_long_horizon(frozen_pipeline, segmenter, path, num_frames,
                                                from_label_map=True, seed=2, sequences=sequences)
    for key in long_horizon.KEYS:
        assert len(perfect[key]) == num_frames + 1, key
    assert perfect["long_num_frames"] == num_frames and perfect["long_num_videos"] == 2
    assert all(value is None for value in perfect["long_psnr_per_frame"])  # exact frames
    assert perfect["long_label_miou_per_frame"] == [1.0] * (num_frames + 1)
    assert perfect["long_fcn_miou_per_frame"] == perfect["long_fcn_miou_real_per_frame"]
    np.testing.assert_allclose(perfect["long_sharpness_ratio_per_frame"], 1.0)
    # The frozen video is the copy baseline, frame for frame.
    assert frozen["long_psnr_per_frame"][1:] == frozen["long_psnr_copy_per_frame"][1:]
    assert frozen["long_label_miou_per_frame"] == frozen["long_label_miou_copy_per_frame"]
    assert frozen["long_label_miou_per_frame"][-1] < 1.0  # the scene did move
    # One rollout per sequence, from the label map (no first frame given), seeded per video.
    assert frozen_pipeline.calls == [(num_frames, [2 * 1_000_003, 2 * 1_000_003 + 1], True)]


def test_sequences_shorter_than_the_request_name_the_flag(data):
    path, sequences, segmenter = data
    with pytest.raises(ValueError, match=r"--num_frames=9 needs held-out sequences of at least 10"):
        long_horizon.evaluate_long_horizon(types.SimpleNamespace(height=SIZE, width=SIZE),
                                           segmenter, path, 9, sequences=sequences)
