"""The segmentation stream: batches, resume and smoothing give what one pass over all frames gives."""

import numpy as np
import pytest

from seg2vid_tf.segmentation import smoothing
from seg2vid_tf.segmentation.stream import SegmentationStream


def frames_and_ids(count=10, seed=0):
    """Frames whose 'segmentation' is their first channel (ids 0..3), flickering at random."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 4, (count, 3, 4, 3)).astype(np.uint8)
    return frames, frames[..., 0].astype(np.int32)


@pytest.mark.parametrize("window, batch_size, done", [
    (1, 4, set()), (3, 4, set()), (5, 3, {0, 1, 4, 5, 6, 9}), (3, 1, {2, 3, 4, 5, 6, 7}),
    (3, 16, set(range(10)))])
def test_stream_writes_what_one_pass_over_all_frames_gives(window, batch_size, done):
    frames, ids = frames_and_ids()
    segmented, written = [], {}

    def segment(batch):
        segmented.extend(batch[:, 0, 0, 1].tolist())  # not an id: just to count calls
        return batch[..., 0].astype(np.int32)

    stream = SegmentationStream(segment, lambda index: index in done,
                                lambda index, frame, train_ids: written.update(
                                    {index: (frame, train_ids)}),
                                batch_size=batch_size, temporal_window=window)
    for index, frame in enumerate(frames):
        stream.add(index, frame)
    counts = stream.finish()
    expected = smoothing.smooth_sequence(ids, window)
    todo = [index for index in range(10) if index not in done]
    assert sorted(written) == todo
    for index in todo:
        np.testing.assert_array_equal(written[index][0], frames[index])
        np.testing.assert_array_equal(written[index][1], expected[index])
    # Only frames inside the window of a frame to write are segmented (and each once).
    radius = window // 2
    needed = {j for i in todo for j in range(max(0, i - radius), min(10, i + radius + 1))}
    assert counts == {"frames": 10, "written": len(todo), "skipped": len(done),
                      "segmented": len(needed)}
