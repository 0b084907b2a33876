"""Tests for seg2vid_tf.data.decode_errors (naming the file behind a tf.data error)."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import datasets, decode_errors
from seg2vid_tf.data.clips import Clip
from seg2vid_tf.testing import corrupt_files


def write_frames(folder, count, ext="png", size=(8, 12)):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index in range(count):
        array = np.random.default_rng(index).integers(0, 256, size + (3,), dtype=np.uint8)
        path = os.path.join(folder, f"f{index:02d}.{ext}")
        Image.fromarray(array).save(path)
        paths.append(path)
    return paths


def frames_dataset(clips):
    return datasets.make_frames_dataset(clips, channels=3, height=8, width=12, batch_size=2)


def run(clips, split="train"):
    with decode_errors.naming_files(clips, split=split, description="test clip"):
        for _ in frames_dataset(clips):
            pass


def test_happy_path_passes_through(tmp_path):
    paths = write_frames(str(tmp_path), 4)
    clips = [Clip(frame_paths=paths[i:i + 2], clip_id=f"c{i}") for i in range(3)]
    run(clips)


def test_corrupt_png_is_named_with_clip_split_and_expectation(tmp_path):
    paths = write_frames(str(tmp_path), 4)
    corrupt_files.corrupt_png_data(paths[2])
    clips = [Clip(frame_paths=paths[i:i + 2], clip_id=f"c{i}") for i in range(3)]
    with pytest.raises(decode_errors.DataFileError) as caught:
        run(clips, split="val")
    message = str(caught.value)
    assert paths[2] in message
    assert all(path not in message for path in paths[:2] + paths[3:])
    assert "test clip 'c1', split 'val'" in message  # The first clip using the file.
    assert "expected a complete PNG image" in message and "Invalid PNG data" in message
    assert isinstance(caught.value, ValueError)


def test_same_size_files_are_told_apart_by_decoding_them(tmp_path):
    # Constant frames compress to the same size: the size hint selects all of them.
    paths = []
    for index in range(4):
        path = os.path.join(str(tmp_path), f"c{index}.png")
        Image.fromarray(np.full((8, 12, 3), 9, np.uint8)).save(path)
        paths.append(path)
    assert len({os.path.getsize(path) for path in paths}) == 1
    corrupt_files.corrupt_png_data(paths[3])
    clips = [Clip(frame_paths=paths[i:i + 2], clip_id=f"c{i}") for i in range(3)]
    with pytest.raises(decode_errors.DataFileError, match=re.escape(paths[3])) as caught:
        run(clips)
    assert all(path not in str(caught.value) for path in paths[:3])


def test_broken_header_and_jpeg_without_size_hint_are_found(tmp_path):
    paths = write_frames(str(tmp_path / "png"), 3)
    with open(paths[1], "r+b") as handle:  # Damage the IHDR chunk: no size in the message.
        handle.seek(20)
        handle.write(b"\xff" * 4)
    jpegs = write_frames(str(tmp_path / "jpg"), 3, ext="jpg")
    corrupt_files.corrupt_jpeg_header(jpegs[2])
    for broken, frames in ((paths[1], paths), (jpegs[2], jpegs)):
        clips = [Clip(frame_paths=frames, clip_id="clip")]
        with pytest.raises(decode_errors.DataFileError, match=re.escape(broken)):
            run(clips)
    assert "a complete JPEG image" in str(
        decode_errors.explain(_error_of(jpegs), [Clip(frame_paths=jpegs, clip_id="clip")]))


def _error_of(paths):
    try:
        for _ in frames_dataset([Clip(frame_paths=paths, clip_id="clip")]):
            pass
    except tf.errors.OpError as error:
        return error
    raise AssertionError("no error")


def test_several_corrupt_files_are_listed(tmp_path):
    paths = write_frames(str(tmp_path), 4)
    for path in (paths[0], paths[3]):
        with open(path, "r+b") as handle:
            handle.seek(20)
            handle.write(b"\0" * 4)
    clips = [Clip(frame_paths=paths, clip_id="all")]
    with pytest.raises(decode_errors.DataFileError, match=r"2 files cannot be used") as caught:
        run(clips)
    assert paths[0] in str(caught.value) and paths[3] in str(caught.value)


def test_failed_reader_checks_become_data_file_errors(tmp_path):
    paths = write_frames(str(tmp_path), 2)
    with open(paths[1], "r+b") as handle:
        handle.truncate(40)
    clips = [Clip(frame_paths=paths, clip_id="short")]
    with pytest.raises(decode_errors.DataFileError) as caught:
        run(clips, split="train")
    message = str(caught.value)
    assert message.startswith("Frame file PNG is truncated or corrupt")
    assert f"{paths[1]} (test clip 'short', split 'train')" in message
    assert "{{" not in message and "[[" not in message


def test_other_errors_are_not_explained(tmp_path):
    paths = write_frames(str(tmp_path), 2)
    clips = [Clip(frame_paths=paths, clip_id="ok")]
    unrelated = tf.errors.InvalidArgumentError(None, None, "Matrix size-incompatible")
    assert decode_errors.explain(unrelated, clips) is None
    assert decode_errors.explain(ValueError("x"), clips) is None
    other_file = tf.errors.InvalidArgumentError(
        None, None, "assertion failed: [Frame file PNG is truncated:] [/elsewhere/x.png]")
    assert decode_errors.explain(other_file, clips) is None
    # A decoder failure none of these files reproduces is left to the caller.
    ghost = tf.errors.InvalidArgumentError(None, None, "Invalid PNG data, size 1")
    assert decode_errors.explain(ghost, clips) is None
    with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix"):
        with decode_errors.naming_files(clips):
            raise unrelated


def test_undecodable_files_reports_missing_and_corrupt_in_order(tmp_path):
    paths = write_frames(str(tmp_path), 3)
    corrupt_files.corrupt_png_data(paths[2])
    missing = str(tmp_path / "gone.png")
    assert decode_errors.undecodable_files(paths + [missing]) == [paths[2], missing]
    assert decode_errors.undecodable_files([]) == []
