"""Tests for seg2vid_tf.data.clips (the Clip record, file checks, natural order)."""

import pytest

from seg2vid_tf.data.clips import Clip, check_clip_files, natural_key
from seg2vid_tf.testing.data_files import make_frames


def test_check_clip_files(tmp_path):
    good = make_frames(tmp_path, 2)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    missing = str(tmp_path / "missing.png")
    clips = [
        Clip(frame_paths=tuple(good), clip_id="ok"),
        Clip(frame_paths=(good[0], str(empty)), clip_id="empty"),
        Clip(frame_paths=tuple(good), label_path=missing, clip_id="nolabel"),
    ]
    with pytest.raises(ValueError, match=r"(?s)empty\.png.*empty"):
        check_clip_files(clips[:2])
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        check_clip_files([clips[0], clips[2]])
    assert check_clip_files(clips, on_error="skip") == clips[:1]
    with pytest.raises(ValueError, match="on_error"):
        check_clip_files(clips, on_error="ignore")


def test_clip_validation():
    with pytest.raises(ValueError, match="flows"):
        Clip(frame_paths=("a", "b"), flow_paths=("x", "y"), clip_id="c")


def test_natural_sort():
    names = ["img10.png", "img2.png", "img1.png"]
    assert sorted(names, key=natural_key) == ["img1.png", "img2.png", "img10.png"]
