"""Tests for seg2vid_tf.data.ucf101 on a tiny official-layout tree."""

import os
import re

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import datasets, ucf101, video_frames
from seg2vid_tf.testing import corrupt_files

HEIGHT, WIDTH = 12, 16
VIDEOS = {
    # name: number of frames
    ("ApplyEyeMakeup", "v_ApplyEyeMakeup_g01_c01"): 5,  # test
    ("ApplyEyeMakeup", "v_ApplyEyeMakeup_g08_c01"): 6,  # train
    ("Biking", "v_Biking_g07_c03"): 5,  # test
    ("Biking", "v_Biking_g08_c02"): 5,  # train
    ("Biking", "v_Biking_g25_c01"): 7,  # train
}


def frame(video_index, i):
    """RGB frame: red encodes the frame index, green the video."""
    array = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    array[..., 0] = 10 * (i + 1)
    array[..., 1] = 30 * video_index
    array[..., 2] = 255
    return array


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("ucf101"))
    for k, ((cls, name), count) in enumerate(sorted(VIDEOS.items())):
        folder = os.path.join(root, cls, name)
        os.makedirs(folder)
        for i in range(count):
            Image.fromarray(frame(k, i)).save(os.path.join(folder, f"frame{i + 1:04d}.png"))
    return root


def ids(clips):
    return [c.clip_id for c in clips]


def test_group_split(root):
    train = ucf101.find_clips(root, "train")
    assert ids(train) == [
        "v_ApplyEyeMakeup_g08_c01/frame0001", "v_ApplyEyeMakeup_g08_c01/frame0002",
        "v_Biking_g08_c02/frame0001",
        "v_Biking_g25_c01/frame0001", "v_Biking_g25_c01/frame0002", "v_Biking_g25_c01/frame0003",
    ]
    test = ucf101.find_clips(root, "test")
    assert ids(test) == ["v_ApplyEyeMakeup_g01_c01/frame0001", "v_Biking_g07_c03/frame0001"]
    assert ucf101.split_of("v_X_g07_c01") == "test" and ucf101.split_of("v_X_g08_c01") == "train"


def test_classes_and_stride(root):
    clips = ucf101.find_clips(root, "train", num_frames=3, frame_stride=3, classes="Biking")
    assert ids(clips) == ["v_Biking_g25_c01/frame0001"]
    assert [os.path.basename(p) for p in clips[0].frame_paths] == [
        "frame0001.png", "frame0004.png", "frame0007.png"]
    with pytest.raises(FileNotFoundError, match="Basketball"):
        ucf101.find_clips(root, "train", classes=["Basketball"])


def test_official_split_files(root, tmp_path):
    trainlist = tmp_path / "trainlist01.txt"
    trainlist.write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\nBiking/v_Biking_g07_c03.avi 11\n"
                         "Basketball/v_Basketball_g08_c01.avi 8\n")
    clips = ucf101.find_clips(root, "train", split_file=trainlist)
    assert ids(clips) == ["v_ApplyEyeMakeup_g01_c01/frame0001", "v_Biking_g07_c03/frame0001"]
    testlist = tmp_path / "testlist01.txt"
    testlist.write_text("Biking/v_Biking_g25_c01.avi\n")
    assert len(ucf101.find_clips(root, "test", split_file=testlist, classes=["Biking"])) == 3
    with pytest.raises(ValueError, match="No UCF101 videos"):
        ucf101.find_clips(root, "test", split_file=testlist, classes=["ApplyEyeMakeup"])
    with pytest.raises(ValueError, match="split must be one of"):
        ucf101.find_clips(root, "validation")


def test_batch_format_order_and_resize(root):
    clips = ucf101.find_clips(root, "train")
    batches = list(ucf101.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=4))
    assert [b["video"].shape[0] for b in batches] == [4, 2]
    video = np.concatenate([b["video"].numpy() for b in batches])
    assert video.shape == (6, 5, HEIGHT, WIDTH, 3) and video.dtype == np.float32
    assert 0.0 <= video.min() and video.max() <= 1.0
    starts = [0, 1, 0, 0, 1, 2]
    np.testing.assert_allclose(
        video[:, :, 3, 3, 0] * 255, [[10 * (s + t + 1) for t in range(5)] for s in starts], atol=1e-3)
    np.testing.assert_allclose(video[:, 0, 0, 0, 1] * 255, [30, 30, 90, 120, 120, 120], atol=1e-3)
    assert batches[1]["clip_id"].numpy().tolist() == [b"v_Biking_g25_c01/frame0002", b"v_Biking_g25_c01/frame0003"]
    (small,) = ucf101.make_dataset(clips[:2], height=5, width=7, batch_size=2)
    assert small["video"].shape == (2, 5, 5, 7, 3)
    np.testing.assert_allclose(small["video"].numpy()[..., 2], 1.0, atol=1e-5)


def test_shuffle_determinism(root):
    clips = ucf101.find_clips(root, "train")

    def order(seed):
        ds = ucf101.make_dataset(clips, height=6, width=8, batch_size=6, shuffle=True, seed=seed)
        return [b["clip_id"].numpy().tolist() for b in ds][0]

    first = order(5)
    assert first == order(5) and first != order(6)


def test_non_image_frame_names_file_and_skip(tmp_path):
    root = str(tmp_path)
    folder = os.path.join(root, "Biking", "v_Biking_g09_c01")
    os.makedirs(folder)
    for i in range(6):
        Image.fromarray(frame(0, i)).save(os.path.join(folder, f"{i}.jpg"), quality=95)
    bad = os.path.join(folder, "5.jpg")
    with open(bad, "wb") as f:
        f.write(b"\x00" * 100)
    clips = ucf101.find_clips(root, "train")
    assert len(clips) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)not a JPEG.*" + re.escape(bad)):
        list(ucf101.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2))
    counter = datasets.SkipCounter()
    ds = ucf101.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2, on_error="skip",
                             skip_counter=counter)
    assert [x for b in ds for x in b["clip_id"].numpy().tolist()] == [b"v_Biking_g09_c01/0"]
    assert counter.skipped == 1


def test_avi_layout_without_backend(tmp_path, monkeypatch):
    os.makedirs(tmp_path / "Biking")
    (tmp_path / "Biking" / "v_Biking_g10_c01.avi").write_bytes(b"RIFF")
    monkeypatch.setattr(video_frames, "_video_backend", lambda: None)
    with pytest.raises(RuntimeError, match=r"(?s)v_Biking_g10_c01\.avi.*imageio-ffmpeg"):
        ucf101.find_clips(str(tmp_path), "train", video_cache_dir=str(tmp_path / "cache"))
    # Videos of the other split are not decoded at all.
    with pytest.raises(ValueError, match="No UCF101 videos of split 'test'"):
        ucf101.find_clips(str(tmp_path), "test", video_cache_dir=str(tmp_path / "cache"))


def test_avi_round_trip_through_the_real_decoder(tmp_path):
    """A real MPEG-4 AVI (UCF101's videos are Xvid, MPEG-4 Part 2, in AVI) decoded by
    imageio-ffmpeg, cached as PNGs and read back as RGB clips."""
    height, width, count = 32, 48, 6  # MPEG-4 codes 16 x 16 macroblocks
    rows, columns = np.mgrid[0:height, 0:width]
    frames = np.zeros((count, height, width, 3), np.uint8)
    frames[..., 0] = (30 * np.arange(count) + 40)[:, None, None]  # red: the frame index
    frames[..., 1] = columns * 5  # green and blue: where in the frame
    frames[..., 2] = rows * 7
    os.makedirs(tmp_path / "Biking")
    writer = imageio.get_writer(str(tmp_path / "Biking" / "v_Biking_g10_c01.avi"), format="FFMPEG",
                                fps=25, codec="mpeg4", quality=None, output_params=["-q:v", "2"])
    try:
        for frame in frames:
            writer.append_data(frame)
    finally:
        writer.close()
    clips = ucf101.find_clips(str(tmp_path), "train", video_cache_dir=str(tmp_path / "cache"))
    assert ids(clips) == ["v_Biking_g10_c01/frame_00001", "v_Biking_g10_c01/frame_00002"]
    (batch,) = ucf101.make_dataset(clips, height=height, width=width, batch_size=2)
    video = batch["video"].numpy() * 255
    expected = np.stack([frames[start:start + 5] for start in (0, 1)]).astype(np.float64)
    # The codec is lossy: YUV 4:2:0 (chroma at half resolution) and quantisation at
    # -q:v 2 (the finest) leave 2.2-2.4 levels per frame on average here, 16 at most on
    # the colour gradients. A frame off by one would be 10 levels off on average (30 red
    # levels between consecutive frames; 11.1-11.4 measured with the codec's loss), so the
    # bound of 4 separates the two.
    errors = np.abs(video - expected)
    assert errors.mean(axis=(2, 3, 4)).max() <= 4.0, errors.mean(axis=(2, 3, 4))
    assert errors.max() <= 24.0


def test_corrupt_frame_data_names_the_file_and_split(tmp_path):
    root = str(tmp_path)
    folder = os.path.join(root, "Biking", "v_Biking_g08_c02")
    os.makedirs(folder)
    for i in range(6):  # Same content, so all frames have the same byte count.
        Image.fromarray(frame(0, 0)).save(os.path.join(folder, f"frame{i + 1:04d}.png"))
    path = corrupt_files.corrupt_png_data(os.path.join(folder, "frame0006.png"))
    clips = ucf101.find_clips(root, "train")
    dataset = ucf101.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=1)
    message = corrupt_files.file_error_message(dataset, clips, "UCF101 clip")
    assert f"Frame file {path} (UCF101 clip 'v_Biking_g08_c02/frame0002', split 'train')" in message
    assert "Invalid PNG data" in message
