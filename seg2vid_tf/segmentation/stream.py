"""Segmenting a stream of frames in batches, with resume and temporal smoothing.

`SegmentationStream` takes frames one at a time (a long video is never held
whole), segments those it needs in batches, and hands each finished frame and
its train-id map to a writer. A frame is *needed* when it is not written yet
or lies within the smoothing window of one that is not; a frame is written as
soon as the predictions of its whole window are in.
"""

import numpy as np

from seg2vid_tf.segmentation import smoothing


class SegmentationStream:
    """Batches frames through a segmenter and writes the results in order.

    Args:
        segment: Function from uint8 frames `[N, H, W, 3]` to train ids `[N, H, W]`.
        is_done: Function from a frame index to whether its files exist.
        write: Function `(index, frame, train_ids)` that writes one frame.
        batch_size: Frames per call of `segment`.
        temporal_window: Odd window of the per-pixel majority (1: off).
    """

    def __init__(self, segment, is_done, write, batch_size=8, temporal_window=1):
        smoothing.check_window(temporal_window)
        self.segment, self.is_done, self.write = segment, is_done, write
        self.batch_size = batch_size
        self.radius = temporal_window // 2
        self.predicted, self.pending, self.batch, self.waiting = {}, {}, [], []
        self.counts = {"frames": 0, "written": 0, "skipped": 0, "segmented": 0}

    def _needed(self, index, last=None):
        stop = index + self.radius if last is None else min(index + self.radius, last)
        return any(not self.is_done(j) for j in range(max(0, index - self.radius), stop + 1))

    def add(self, index, frame):
        """Takes frame `index` (frames must come in order 0, 1, 2, ...).

        A frame waits until the frames of its window after it have arrived (or
        `finish`), so that the last frames are not segmented for nothing.
        """
        self.counts["frames"] += 1
        self.waiting.append((index, frame))
        while self.waiting and self.waiting[0][0] + self.radius <= index:
            self._decide(*self.waiting.pop(0))

    def _decide(self, index, frame, last=None):
        if self.is_done(index):
            self.counts["skipped"] += 1
        else:
            self.pending[index] = frame
        if self._needed(index, last):
            if self.batch and self.batch[0][1].shape != frame.shape:
                self._predict()
            self.batch.append((index, frame))
        if len(self.batch) >= self.batch_size:
            self._predict()
            self._flush(max(self.predicted))

    def finish(self):
        """Segments what is left and writes every pending frame; returns the counts."""
        last = self.counts["frames"] - 1
        for index, frame in self.waiting:
            self._decide(index, frame, last)
        self.waiting = []
        self._predict()
        self._flush(last, final=True)
        return dict(self.counts)

    def _predict(self):
        if not self.batch:
            return
        ids = self.segment(np.stack([frame for _, frame in self.batch]))
        for (index, _), train_ids in zip(self.batch, ids):
            self.predicted[index] = train_ids
        self.counts["segmented"] += len(self.batch)
        self.batch = []

    def _flush(self, last_index, final=False):
        """Writes every pending frame whose window is complete, then forgets old predictions."""
        for index in sorted(self.pending):
            if not final and index + self.radius > last_index:
                break
            first = max(0, index - self.radius)
            window = [self.predicted[j] for j in range(first, index + self.radius + 1)
                      if j in self.predicted]
            train_ids = (smoothing.majority_label(np.stack(window), index - first)
                         if self.radius else self.predicted[index])
            self.write(index, self.pending.pop(index), train_ids)
            self.counts["written"] += 1
        for index in [key for key in self.predicted if key < last_index - 2 * self.radius]:
            del self.predicted[index]
