"""Tests for seg2vid_tf.data.video_frames (extraction of video files to cached PNGs)."""

import os

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.data import video_frames
from seg2vid_tf.data.videos import VideoSource


def test_video_extraction_with_fake_reader(tmp_path, monkeypatch):
    frames = [np.full((6, 8, 3), 30 * i, np.uint8) for i in range(4)]
    monkeypatch.setattr(video_frames, "_video_backend", lambda: "fake")
    monkeypatch.setattr(video_frames, "_iter_video_frames", lambda path: iter(frames))
    out = video_frames.extract_video_frames("v.avi", str(tmp_path / "cache" / "v"), grayscale=True)
    assert [os.path.basename(p) for p in out] == [f"frame_{i:05d}.png" for i in range(1, 5)]
    assert np.asarray(Image.open(out[3])).tolist() == np.full((6, 8), 90).tolist()
    monkeypatch.setattr(video_frames, "_iter_video_frames", lambda path: iter(()))
    # Cached: the empty fake reader is not used again.
    assert video_frames.extract_video_frames("v.avi", str(tmp_path / "cache" / "v")) == out


def test_video_decode_error_names_file(tmp_path, monkeypatch):
    def broken(path):
        yield np.zeros((4, 4, 3), np.uint8)
        raise OSError("corrupt stream")

    monkeypatch.setattr(video_frames, "_video_backend", lambda: "fake")
    monkeypatch.setattr(video_frames, "_iter_video_frames", broken)
    with pytest.raises(ValueError, match=r"(?s)bad\.avi \(frame 2\).*corrupt stream"):
        video_frames.extract_video_frames("bad.avi", str(tmp_path / "v"))
    assert not os.path.exists(tmp_path / "v")


def test_video_without_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(video_frames, "_video_backend", lambda: None)
    videos = [VideoSource("walking", "person01_walking_d1", video_path="x/p.avi")]
    with pytest.raises(RuntimeError, match=r"(?s)p\.avi.*extract the frames.*imageio-ffmpeg"):
        video_frames.materialize_videos(videos, "/nonexistent-cache")
