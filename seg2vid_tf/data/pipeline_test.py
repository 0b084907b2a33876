"""Tests for seg2vid_tf.data.pipeline, the compatibility module of the old import path."""

import inspect

import numpy as np
import pytest

from seg2vid_tf.data import datasets, decoding, kth, pipeline, ucf101
from seg2vid_tf.data.clips import Clip
from seg2vid_tf.testing.data_files import frame_clips, make_frames

# The names of `pipeline.__all__` before it was split into modules by role.
OLD_ALL = """Clip DataFileError IGNORE_ID IMAGE_EXTENSIONS NUM_CLASSES SkipCounter VOID_ID
VideoSource check_clip_files check_on_error check_size default_video_cache_dir extract_video_frames
find_video_clips find_videos list_frame_files load_frames load_image load_kitti_flow load_label
make_clip_dataset make_frames_dataset make_frames_dataset_function materialize_videos natural_key
read_split_file resize_flow resize_frames resize_label video_clips""".split()


def test_exports_every_old_name():
    assert sorted(pipeline.__all__) == sorted(OLD_ALL)
    missing = [name for name in OLD_ALL if not hasattr(pipeline, name)]
    assert not missing
    namespace = {}
    exec("from seg2vid_tf.data.pipeline import *", namespace)  # pylint: disable=exec-used
    assert set(OLD_ALL) <= set(namespace)
    # The names are the new modules' objects, not copies.
    assert pipeline.Clip is Clip and pipeline.SkipCounter is datasets.SkipCounter
    assert pipeline.load_kitti_flow is decoding.load_kitti_flow
    assert (pipeline.KITTI_FLOW_SCALE, pipeline.KITTI_FLOW_OFFSET) == (64.0, 2.0**15)


def test_frames_dataset_function_is_a_reader_make_dataset(tmp_path):
    make_dataset = pipeline.make_frames_dataset_function(
        channels=1, description="Test clip", summary="Builds the test dataset.", module="mod")
    assert make_dataset.__module__ == "mod" and make_dataset.__qualname__ == "make_dataset"
    assert make_dataset.__doc__.startswith("Builds the test dataset.")
    paths = make_frames(tmp_path, 4)
    clips = frame_clips([paths[i:i + 2] for i in range(3)])
    (batch,) = make_dataset(clips, height=8, width=12, batch_size=4)
    assert batch["video"].shape == (3, 2, 8, 12, 1)
    expected = pipeline.make_frames_dataset(clips, channels=1, height=8, width=12, batch_size=4)
    np.testing.assert_array_equal(batch["video"].numpy(), next(iter(expected))["video"].numpy())
    with pytest.raises(ValueError, match="No Test clips"):
        make_dataset([], height=8, width=12, batch_size=1)


def test_readers_make_dataset_keep_the_factory_signature():
    factory_made = pipeline.make_frames_dataset_function(
        channels=1, description="Test clip", summary="Builds the test dataset.", module="mod")
    for reader in (kth, ucf101):
        assert inspect.signature(reader.make_dataset) == inspect.signature(factory_made)
        assert reader.make_dataset.__module__ == reader.__name__
        assert reader.make_dataset.__qualname__ == "make_dataset"
