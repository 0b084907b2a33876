"""Tests for seg2vid_tf.data.kth on a tiny official-layout tree."""

import os
import re
import sys

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import datasets, kth, video_frames
from seg2vid_tf.testing import corrupt_files

HEIGHT, WIDTH = 12, 16


def write_video(root, action, name, names, mode="L"):
    """Frames whose grey value is 20 * (index + 1)."""
    folder = os.path.join(root, action, name)
    os.makedirs(folder, exist_ok=True)
    for i, frame_name in enumerate(names):
        value = 20 * (i + 1)
        image = Image.fromarray(np.full((HEIGHT, WIDTH), value, np.uint8))
        image.convert(mode).save(os.path.join(folder, frame_name), quality=100)
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("kth"))
    write_video(root, "boxing", "person01_boxing_d1", [f"image-{i:04d}.png" for i in range(1, 8)])
    write_video(root, "boxing", "person17_boxing_d1", [f"image-{i:04d}.png" for i in range(1, 7)], "RGB")
    write_video(root, "walking", "person16_walking_d2", [f"frame{i}.png" for i in range(1, 12)])
    write_video(root, "walking", "person25_walking_d4", [f"{i:03d}.jpg" for i in range(3)])
    write_video(root, "handwaving", "custom_video", [f"{i:02d}.png" for i in range(5)])
    os.makedirs(os.path.join(root, "walking", "person02_walking_d1"))  # No frames: ignored.
    with open(os.path.join(root, "walking", "person02_walking_d1", "notes.txt"), "w") as f:
        f.write("x")
    return root


def ids(clips):
    return [c.clip_id for c in clips]


def test_person_split_and_every_start_frame(root):
    train = kth.find_clips(root, "train")
    assert ids(train) == (
        [f"person01_boxing_d1/image-{i:04d}" for i in range(1, 4)]
        + ["custom_video/00"]
        + [f"person16_walking_d2/frame{i}" for i in range(1, 8)]
    )
    # Natural order: frame2 comes before frame10.
    assert [os.path.basename(p) for p in train[-1].frame_paths] == [f"frame{i}.png" for i in range(7, 12)]
    test = kth.find_clips(root, "test")
    assert ids(test) == ["person17_boxing_d1/image-0001", "person17_boxing_d1/image-0002"]
    assert not set(ids(train)) & set(ids(test))
    assert ids(kth.find_clips(root, "test", num_frames=3))[-1] == "person25_walking_d4/000"
    assert kth.split_of("person16_x") == "train" and kth.split_of("Person17_x") == "test"


def test_frame_stride_and_actions(root):
    clips = kth.find_clips(root, "train", num_frames=3, frame_stride=2, actions=["boxing"])
    assert ids(clips) == [f"person01_boxing_d1/image-{i:04d}" for i in range(1, 4)]
    assert [os.path.basename(p) for p in clips[1].frame_paths] == [
        "image-0002.png", "image-0004.png", "image-0006.png"]


def test_split_file_and_errors(root, tmp_path):
    split_file = tmp_path / "my_split.txt"
    split_file.write_text("person17_boxing_d1_uncomp.avi\ncustom_video\n")
    clips = kth.find_clips(root, "mine", split_file=split_file)
    assert ids(clips) == ["person17_boxing_d1/image-0001", "person17_boxing_d1/image-0002", "custom_video/00"]
    with pytest.raises(ValueError, match="KTH split must be one of"):
        kth.find_clips(root, "val")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        kth.find_clips(str(tmp_path / "missing"), "train")
    with pytest.raises(FileNotFoundError, match="jogging"):
        kth.find_clips(root, "train", actions=["jogging"])
    with pytest.raises(ValueError, match="longest of the 2 videos has 6"):
        kth.find_clips(root, "test", num_frames=7, actions=["boxing", "walking"])
    (tmp_path / "nobody.txt").write_text("person99_running_d1\n")
    with pytest.raises(ValueError, match="No KTH videos"):
        kth.find_clips(root, "train", split_file=tmp_path / "nobody.txt")


def test_batch_format_and_frame_order(root):
    clips = kth.find_clips(root, "test")
    batches = list(kth.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2))
    assert len(batches) == 1
    video = batches[0]["video"].numpy()
    assert video.shape == (2, 5, HEIGHT, WIDTH, 1) and video.dtype == np.float32
    assert 0.0 <= video.min() and video.max() <= 1.0
    # RGB frames are converted to grey; pixel value encodes the frame index.
    np.testing.assert_allclose(video[:, :, 4, 4, 0] * 255, [[20, 40, 60, 80, 100], [40, 60, 80, 100, 120]],
                               atol=0.6)
    assert batches[0]["clip_id"].numpy().tolist() == [
        b"person17_boxing_d1/image-0001", b"person17_boxing_d1/image-0002"]
    (small,) = kth.make_dataset(clips[:1], height=6, width=10, batch_size=4)
    assert small["video"].shape == (1, 5, 6, 10, 1)
    np.testing.assert_allclose(small["video"].numpy()[0, :, 2, 3, 0] * 255, [20, 40, 60, 80, 100], atol=0.6)


def test_jpeg_frames(root):
    clips = kth.find_clips(root, "test", num_frames=3)
    (batch,) = kth.make_dataset(clips[-1:], height=HEIGHT, width=WIDTH, batch_size=1)
    np.testing.assert_allclose(batch["video"].numpy()[0, :, 5, 5, 0] * 255, [20, 40, 60], atol=2)


def test_shuffle_determinism(root):
    clips = kth.find_clips(root, "train")

    def order(seed):
        ds = kth.make_dataset(clips, height=6, width=8, batch_size=len(clips), shuffle=True, seed=seed)
        return [b["clip_id"].numpy().tolist() for b in ds][0]

    first = order(11)
    assert first == order(11) and first != order(12)
    assert sorted(first) == sorted(c.encode() for c in ids(clips))


def test_broken_frame_names_file(tmp_path):
    root = str(tmp_path)
    folder = write_video(root, "running", "person05_running_d1", [f"{i}.png" for i in range(6)])
    with open(os.path.join(folder, "3.png"), "r+b") as f:
        f.truncate(40)
    clips = kth.find_clips(root, "train")
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(os.path.join(folder, "3.png"))):
        list(kth.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=1))
    counter = datasets.SkipCounter()
    ds = kth.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=1, on_error="skip",
                          skip_counter=counter)
    assert [b["clip_id"].numpy()[0] for b in ds] == []  # Both clips use 3.png.
    assert counter.skipped == 2



@pytest.mark.parametrize("extension, corrupt, expected", [
    ("png", corrupt_files.corrupt_png_data, "expected a complete PNG image"),
    ("jpg", corrupt_files.corrupt_jpeg_header, "expected a complete JPEG image"),
])
def test_corrupt_frame_data_names_the_file_and_split(tmp_path, extension, corrupt, expected):
    root = str(tmp_path)
    folder = write_video(root, "running", "person05_running_d1",
                         [f"{i}.{extension}" for i in range(6)])
    path = corrupt(os.path.join(folder, f"4.{extension}"))
    clips = kth.find_clips(root, "train")
    dataset = kth.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=1)
    message = corrupt_files.file_error_message(dataset, clips, "KTH clip")
    assert f"Frame file {path} (KTH clip 'person05_running_d1/0', split 'train')" in message
    assert expected in message

def _hide_video_backends(monkeypatch):
    """Makes `import imageio_ffmpeg` and `import av` fail, as on a machine without them."""
    for module in ("imageio_ffmpeg", "av"):
        monkeypatch.setitem(sys.modules, module, None)


def test_avi_without_video_backend(tmp_path, monkeypatch):
    root = tmp_path / "kth"
    os.makedirs(root / "walking")
    (root / "walking" / "person03_walking_d1_uncomp.avi").write_bytes(b"RIFF fake avi")
    _hide_video_backends(monkeypatch)  # the real backend detection, not a stub
    assert video_frames._video_backend() is None  # pylint: disable=protected-access
    with pytest.raises(RuntimeError, match=r"(?s)person03_walking_d1_uncomp\.avi.*extract.*imageio-ffmpeg"):
        kth.find_clips(str(root), "train", video_cache_dir=str(tmp_path / "cache"))


def write_avi(path, frames):
    """An uncompressed AVI (rawvideo, bgr24: KTH's `_uncomp` files are uncompressed), with
    the imageio-ffmpeg the project declares."""
    writer = imageio.get_writer(str(path), format="FFMPEG", fps=25, codec="rawvideo",
                                pixelformat="bgr24", macro_block_size=1)
    try:
        for frame in frames:
            writer.append_data(frame)
    finally:
        writer.close()


def colour_frames(count):
    """RGB frames whose three channels differ (so the grey conversion matters) and whose
    red channel encodes the frame index (30 levels apart)."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    frames = np.zeros((count, HEIGHT, WIDTH, 3), np.uint8)
    frames[..., 0] = (30 * np.arange(count) + 40)[:, None, None]
    frames[..., 1] = columns * 15
    frames[..., 2] = rows * 20
    return frames


def test_avi_round_trip_through_the_real_decoder(tmp_path):
    """A real AVI decoded by imageio-ffmpeg, cached as PNGs, read back as grey clips."""
    root = tmp_path / "kth"
    os.makedirs(root / "walking")
    frames = colour_frames(6)
    write_avi(root / "walking" / "person03_walking_d1_uncomp.avi", frames)
    clips = kth.find_clips(str(root), "train", video_cache_dir=str(tmp_path / "cache"))
    assert ids(clips) == ["person03_walking_d1_uncomp/frame_00001", "person03_walking_d1_uncomp/frame_00002"]
    assert clips[0].frame_paths[0].startswith(str(tmp_path / "cache" / "walking"))
    (batch,) = kth.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2)
    video = batch["video"].numpy()
    assert video.shape == (2, 5, HEIGHT, WIDTH, 1)
    # rawvideo is lossless; the grey level is ITU-R BT.601 luma, which PIL computes in
    # fixed point: within one level of the float formula.
    luma = frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    expected = np.stack([luma[start:start + 5] for start in (0, 1)])[..., None]
    np.testing.assert_allclose(video * 255, expected, rtol=0, atol=1.0)
