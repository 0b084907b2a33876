"""Tests for seg2vid_tf.data.kitti on a tiny official-layout tree."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import datasets, kitti
from seg2vid_tf.testing import corrupt_files

SIZES = {"000000": (20, 60), "000001": (22, 62), "000002": (20, 60)}


def color(index, pair):
    return (40 * index + 20 * pair, 100, 250)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("kitti"))
    for split in ("training", "testing"):
        folder = os.path.join(root, split, "image_2")
        os.makedirs(folder)
        for index, (name, size) in enumerate(sorted(SIZES.items())):
            if split == "testing" and index > 0:
                continue
            for pair in (10, 11):
                array = np.zeros(size + (3,), np.uint8)
                array[...] = color(index, pair - 10)
                Image.fromarray(array).save(os.path.join(folder, f"{name}_{pair}.png"))
    return root


def ids(frames):
    return [f.clip_id for f in frames]


def test_find_frames(root):
    frames = kitti.find_frames(root, "training")
    assert ids(frames) == [f"{n}_{p}" for n in sorted(SIZES) for p in (10, 11)]
    assert ids(kitti.find_frames(root, "training", pattern="*_10.png")) == ["000000_10", "000001_10", "000002_10"]
    assert ids(kitti.find_frames(root, "testing")) == ["000000_10", "000000_11"]
    folder = os.path.join(root, "training", "image_2")
    assert ids(kitti.find_frames(folder, pattern="000001_*")) == ["000001_10", "000001_11"]
    assert all(len(f.frame_paths) == 1 for f in frames)


def test_find_frames_errors(root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)image_2.*\['testing', 'training'\]"):
        kitti.find_frames(root, "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        kitti.find_frames(str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match=r"No images matching '\*\.jpg'"):
        kitti.find_frames(root, "training", pattern="*.jpg")
    (tmp_path / "calib.txt").write_text("P0: 1 0 0")
    with pytest.raises(ValueError, match="calib.txt"):
        kitti.find_frames(str(tmp_path), pattern="*")


def test_batch_format_and_resize(root):
    frames = kitti.find_frames(root, "training", pattern="*_10.png")
    batches = list(kitti.make_dataset(frames, height=10, width=30, batch_size=2))
    assert [b["video"].shape for b in batches] == [(2, 1, 10, 30, 3), (1, 1, 10, 30, 3)]
    video = np.concatenate([b["video"].numpy() for b in batches])
    assert video.dtype == np.float32 and 0.0 <= video.min() and video.max() <= 1.0
    for i in range(3):  # Flat colours survive the (different) resizes.
        np.testing.assert_allclose(video[i, 0] * 255, np.broadcast_to(color(i, 0), (10, 30, 3)), atol=1e-3)
    assert [x for b in batches for x in b["clip_id"].numpy().tolist()] == [b"000000_10", b"000001_10", b"000002_10"]


def test_shuffle_determinism(root):
    frames = kitti.find_frames(root, "training")

    def order(seed):
        ds = kitti.make_dataset(frames, height=4, width=12, batch_size=6, shuffle=True, seed=seed)
        return [b["clip_id"].numpy().tolist() for b in ds][0]

    assert order(21) == order(21) and order(21) != order(22)


def test_broken_image_names_file_and_skip(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 50 * i, np.uint8)).save(tmp_path / f"{i:06d}_10.png")
    bad = tmp_path / "000001_10.png"
    bad.write_bytes(bad.read_bytes()[:-30])
    frames = kitti.find_frames(str(tmp_path))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)truncated.*" + re.escape(str(bad))):
        list(kitti.make_dataset(frames, height=8, width=8, batch_size=3))
    counter = datasets.SkipCounter()
    ds = kitti.make_dataset(frames, height=8, width=8, batch_size=3, on_error="skip", skip_counter=counter)
    assert [b["clip_id"].numpy().tolist() for b in ds] == [[b"000000_10", b"000002_10"]]
    assert counter.skipped == 1
    with pytest.raises(ValueError, match="single-frame"):
        kitti.make_dataset([kitti.Clip(frame_paths=("a", "b"), clip_id="x")], height=8, width=8, batch_size=1)


def test_corrupt_image_data_names_the_file(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).save(tmp_path / f"{i:06d}_10.png")
    bad = corrupt_files.corrupt_png_data(str(tmp_path / "000002_10.png"))
    frames = kitti.find_frames(str(tmp_path))
    dataset = kitti.make_dataset(frames, height=8, width=8, batch_size=2, shuffle=True, seed=1)
    message = corrupt_files.file_error_message(dataset, frames, "KITTI frame", split="training")
    assert f"Frame file {bad} (KITTI frame '000002_10', split 'training')" in message
    assert "000000_10.png" not in message
