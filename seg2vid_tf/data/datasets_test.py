"""Tests for seg2vid_tf.data.datasets (batching, order, shuffling, skipping broken clips)."""

import re

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.data import datasets
from seg2vid_tf.data.clips import Clip
from seg2vid_tf.testing.data_files import collect, frame_clips, iterate, make_frames, truncate


def test_batches_keep_frame_order(tmp_path):
    paths = make_frames(tmp_path, 6)
    clips = frame_clips([paths[i:i + 3] for i in range(4)])
    ds = datasets.make_frames_dataset(clips, channels=3, height=8, width=12, batch_size=3)
    batches = list(ds)
    assert [b["video"].shape[0] for b in batches] == [3, 1]
    video = np.concatenate([b["video"].numpy() for b in batches])
    assert video.shape == (4, 3, 8, 12, 3) and video.dtype == np.float32
    red = np.round(video[:, :, 0, 0, 0] * 255 / 20).astype(int)
    np.testing.assert_array_equal(red, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    ds = datasets.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=3, drop_remainder=True
    )
    assert [b["video"].shape[0] for b in ds] == [3]


def test_shuffle_is_seeded_and_reshuffles(tmp_path):
    paths = make_frames(tmp_path, 1)
    clips = frame_clips([paths] * 10)

    def order(seed, **kw):
        ds = datasets.make_frames_dataset(
            clips, channels=3, height=8, width=12, batch_size=4, shuffle=True, seed=seed, **kw
        )
        return collect(ds), collect(ds)

    first, second = order(7)
    assert sorted(first) == sorted(c.clip_id for c in clips)
    assert (first, second) == order(7)
    assert first != second  # Reshuffled each epoch.
    assert order(8)[0] != first
    repeated = datasets.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=5, shuffle=True, seed=7, repeat=True
    )
    ids = [x.decode() for b in repeated.take(4) for x in b["clip_id"].numpy()]
    assert ids == first + second


@pytest.mark.parametrize("deterministic", [True, False])
def test_skip_drops_exactly_the_broken_clip(tmp_path, deterministic):
    paths = make_frames(tmp_path, 6)
    truncate(paths[5])
    clips = frame_clips([paths[i:i + 2] for i in range(5)])  # clip4 uses the broken f05.
    truncate_also = make_frames(tmp_path / "other", 2)
    with open(truncate_also[0], "wb") as f:
        f.write(b"garbage")
    clips.insert(1, Clip(frame_paths=tuple(truncate_also), clip_id="garbage"))
    counter = datasets.SkipCounter()
    ds = datasets.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=2, on_error="skip",
        deterministic=deterministic, skip_counter=counter,
    )
    ids = collect(ds)
    expected = ["clip0", "clip1", "clip2", "clip3"]
    assert (ids if deterministic else sorted(ids)) == expected
    assert counter.skipped == 2 and counter.last_pass_skipped == 2
    assert sorted(collect(ds)) == expected  # A second pass counts again.
    assert counter.skipped == 4 and counter.last_pass_skipped == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape("f05.png")):
        iterate(datasets.make_frames_dataset(clips[-1:], channels=3, height=8, width=12, batch_size=2))


def test_skip_counts_when_repeated_and_when_last_clip_breaks(tmp_path):
    paths = make_frames(tmp_path, 3)
    truncate(paths[2])
    clips = frame_clips([[p] for p in paths])
    counter = datasets.SkipCounter()
    ds = datasets.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=1, on_error="skip", skip_counter=counter,
    )
    assert collect(ds) == ["clip0", "clip1"] and counter.skipped == 1  # Last one found at the end.
    counter = datasets.SkipCounter()
    ds = datasets.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=1, on_error="skip", repeat=True,
        skip_counter=counter,
    )
    assert [x.decode() for b in ds.take(5) for x in b["clip_id"].numpy()] == [
        "clip0", "clip1", "clip0", "clip1", "clip0"]
    assert counter.skipped >= 2  # Prefetching may have decoded (and dropped) more.


def test_argument_validation():
    clips = [Clip(frame_paths=("a",), clip_id="a"), Clip(frame_paths=("a", "b"), clip_id="b")]
    with pytest.raises(ValueError, match="same number of frames"):
        datasets.make_frames_dataset(clips, channels=3, height=4, width=4, batch_size=1)
    with pytest.raises(ValueError, match="height"):
        datasets.make_frames_dataset(clips[:1], channels=3, height=0, width=4, batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        datasets.make_frames_dataset(clips[:1], channels=3, height=4, width=4, batch_size=0)
