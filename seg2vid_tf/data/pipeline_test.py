"""Tests for seg2vid_tf.data.pipeline (in-graph loaders, checks, clip batching)."""

import os
import re
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import pipeline
from seg2vid_tf.data.pipeline import Clip


# ---------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------
def write_png16(path, array):
    """Writes a uint16 [H, W, 3] array as a 16-bit RGB PNG (colour type 2, filter 0)."""
    array = np.asarray(array, np.uint16)
    height, width, _ = array.shape
    raw = b"".join(b"\0" + array[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    data = pipeline.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
    data += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def kitti_flow_array(u, v, valid):
    """KITTI encoding of float u, v [H, W] and bool valid [H, W]."""
    out = np.zeros(u.shape + (3,), np.uint16)
    out[..., 0] = np.round(u * 64.0 + 2**15)
    out[..., 1] = np.round(v * 64.0 + 2**15)
    out[..., 2] = valid
    return out


def save(path, array, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array)).save(path, **kwargs)
    return str(path)


def truncate(path, keep=0.5):
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])


def frame_clips(paths_per_clip):
    return [Clip(frame_paths=tuple(p), clip_id=f"clip{i}") for i, p in enumerate(paths_per_clip)]


def make_frames(tmp_path, num, size=(8, 12), ext="png"):
    """``num`` constant RGB frames whose red value encodes their index (i * 20)."""
    paths = []
    for i in range(num):
        array = np.zeros(size + (3,), np.uint8)
        array[..., 0] = i * 20
        array[..., 1] = 100
        paths.append(save(os.path.join(tmp_path, f"f{i:02d}.{ext}"), array))
    return paths


def collect(dataset, key="clip_id"):
    out = []
    for batch in dataset:
        out.extend(x.decode() if isinstance(x, bytes) else x for x in batch[key].numpy())
    return out


def iterate(dataset):
    for _ in dataset:
        pass


# ---------------------------------------------------------------------------
# Loaders.
# ---------------------------------------------------------------------------
def test_load_image_png_rgb_and_grayscale(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = save(tmp_path / "a.png", array)
    rgb = pipeline.load_image(path, 3).numpy()
    assert rgb.dtype == np.float32 and rgb.shape == (5, 7, 3)
    np.testing.assert_allclose(rgb, array / 255.0, atol=1e-6)
    gray = pipeline.load_image(path, 1).numpy()
    assert gray.shape == (5, 7, 1)
    expected = (0.299 * array[..., 0] + 0.587 * array[..., 1] + 0.114 * array[..., 2]) / 255.0
    np.testing.assert_allclose(gray[..., 0], expected, atol=2.5 / 255)


def test_load_image_16bit_png_and_jpeg(tmp_path):
    values = np.array([[0, 65535], [32768, 1000]], np.uint16)
    path16 = tmp_path / "deep.png"
    Image.fromarray(values).save(path16)  # Pillow mode I;16 -> 16-bit grey PNG.
    image = pipeline.load_image(str(path16), 1).numpy()
    np.testing.assert_allclose(image[..., 0], values / 65535.0, atol=1e-6)

    flat = np.full((16, 16, 3), (200, 50, 10), np.uint8)
    jpeg = save(tmp_path / "a.jpg", flat, quality=100)
    image = pipeline.load_image(jpeg, 3).numpy()
    np.testing.assert_allclose(image, flat / 255.0, atol=4 / 255)


def test_load_label_maps_255_to_void(tmp_path):
    label = np.array([[0, 5, 18], [19, 255, 3]], np.uint8)
    path = save(tmp_path / "l.png", label)
    out = pipeline.load_label(path).numpy()
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 5, 18], [19, 19, 3]])


def test_load_label_reads_cityscapes_label_ids(tmp_path):
    # labelIds: road 7 -> 0, car 26 -> 13, sky 23 -> 10, unlabeled 0 / caravan 29 -> void 19.
    path = save(tmp_path / "x_gtFine_labelIds.png", np.array([[7, 26, 23], [0, 29, 33]], np.uint8))
    out = pipeline.load_label(path, ids="cityscapes").numpy()
    np.testing.assert_array_equal(out, [[0, 13, 10], [19, 19, 18]])


def test_label_files_of_the_other_kind_are_errors_naming_file_and_flag(tmp_path):
    # A labelTrainIds file (255 = void) read as label ids, and a labelIds file (ids up to 33)
    # read as train ids: each error names the file and points at --label_files.
    train_ids = save(tmp_path / "a_labelTrainIds.png", np.array([[0, 255]], np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"(?s)outside 0\.\.33.*255.*a_labelTrainIds\.png.*--label_files"):
        pipeline.load_label(train_ids, ids="cityscapes")
    label_ids = save(tmp_path / "b_labelIds.png", np.array([[7, 26]], np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"(?s)26.*b_labelIds\.png.*--label_files"):
        pipeline.load_label(label_ids)


def test_load_kitti_flow_exact(tmp_path):
    u = np.array([[0.0, 1.5, -2.25], [100.0, -0.015625, 7.0]])
    v = np.array([[-1.0, 0.5, 3.0], [-300.25, 0.0, 2.0]])
    valid = np.array([[1, 1, 0], [1, 1, 1]], bool)
    path = str(tmp_path / "flow.png")
    write_png16(path, kitti_flow_array(u, v, valid))
    flow, got_valid = pipeline.load_kitti_flow(path)
    assert flow.dtype == tf.float32 and flow.shape == (2, 3, 2)
    np.testing.assert_array_equal(got_valid.numpy(), valid)
    expected = np.stack([u, v], -1) * valid[..., None]  # Invalid pixels are zeroed.
    np.testing.assert_array_equal(flow.numpy(), expected.astype(np.float32))


def test_resize_helpers():
    flow = tf.constant(np.stack([np.full((4, 8), 2.0), np.full((4, 8), -4.0)], -1), tf.float32)
    valid = tf.constant(np.tile([True, False], (4, 4)))
    out, out_valid = pipeline.resize_flow(flow, valid, 2, 2)
    np.testing.assert_allclose(out.numpy()[..., 0], 0.5)  # u * 2 / 8
    np.testing.assert_allclose(out.numpy()[..., 1], -2.0)  # v * 2 / 4
    assert out_valid.dtype == tf.bool and out_valid.shape == (2, 2)

    label = tf.constant([[1, 1, 2, 2], [3, 3, 4, 4]], tf.int32)
    np.testing.assert_array_equal(pipeline.resize_label(label, 2, 2).numpy(), [[1, 2], [3, 4]])

    frames = tf.random.uniform([2, 3, 5, 3], seed=1)
    np.testing.assert_array_equal(pipeline.resize_frames(frames, 3, 5).numpy(), frames.numpy())
    assert pipeline.resize_frames(frames, 6, 10).shape == (2, 6, 10, 3)


# ---------------------------------------------------------------------------
# In-graph validation, through a dataset, naming the file.
# ---------------------------------------------------------------------------
def dataset_of(paths, **kwargs):
    return pipeline.make_frames_dataset(
        frame_clips([paths]), channels=3, height=8, width=12, batch_size=1, **kwargs
    )


def test_truncated_png_names_file(tmp_path):
    paths = make_frames(tmp_path, 3)
    truncate(paths[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)truncated.*f01\.png"):
        iterate(dataset_of(paths))


def test_non_image_png_names_file(tmp_path):
    paths = make_frames(tmp_path, 2)
    with open(paths[1], "w", encoding="utf-8") as f:
        f.write("this is not an image, just text")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)not a PNG.*f01\.png"):
        iterate(dataset_of(paths))


def test_jpeg_checks_name_file(tmp_path):
    paths = make_frames(tmp_path, 2, ext="jpg")
    iterate(dataset_of(paths))  # Valid JPEGs pass.
    truncate(paths[0], 0.7)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)JPEG is truncated.*f00\.jpg"):
        iterate(dataset_of(paths))
    with open(paths[0], "wb") as f:
        f.write(b"GIF89a not a jpeg at all")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)not a JPEG.*f00\.jpg"):
        iterate(dataset_of(paths))


def test_frames_of_different_size_name_file(tmp_path):
    paths = make_frames(tmp_path, 3)
    save(paths[2], np.zeros((9, 12, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)differ in size.*f02\.png"):
        iterate(dataset_of(paths))


def test_label_errors_name_file(tmp_path):
    bad_id = save(tmp_path / "id42.png", np.array([[1, 42], [3, 255]], np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)42.*id42\.png"):
        pipeline.load_label(bad_id)
    rgb = save(tmp_path / "rgb_label.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)single-channel.*rgb_label\.png"):
        pipeline.load_label(rgb)
    # Inside a tf.data map function as well.
    ds = tf.data.Dataset.from_tensor_slices([bad_id]).map(pipeline.load_label)
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape("id42.png")):
        iterate(ds)


def test_flow_must_be_16bit_rgb(tmp_path):
    path = save(tmp_path / "flow8.png", np.zeros((2, 3, 3), np.uint8))
    ds = tf.data.Dataset.from_tensor_slices([path]).map(pipeline.load_kitti_flow)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)16-bit 3-channel.*flow8\.png"):
        iterate(ds)
    truncated = str(tmp_path / "flow_cut.png")
    write_png16(truncated, kitti_flow_array(np.zeros((4, 4)), np.zeros((4, 4)), np.ones((4, 4))))
    truncate(truncated)
    ds = tf.data.Dataset.from_tensor_slices([truncated]).map(pipeline.load_kitti_flow)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)truncated.*flow_cut\.png"):
        iterate(ds)


# ---------------------------------------------------------------------------
# make_clip_dataset: order, shuffling, skipping.
# ---------------------------------------------------------------------------
def test_batches_keep_frame_order(tmp_path):
    paths = make_frames(tmp_path, 6)
    clips = frame_clips([paths[i:i + 3] for i in range(4)])
    ds = pipeline.make_frames_dataset(clips, channels=3, height=8, width=12, batch_size=3)
    batches = list(ds)
    assert [b["video"].shape[0] for b in batches] == [3, 1]
    video = np.concatenate([b["video"].numpy() for b in batches])
    assert video.shape == (4, 3, 8, 12, 3) and video.dtype == np.float32
    red = np.round(video[:, :, 0, 0, 0] * 255 / 20).astype(int)
    np.testing.assert_array_equal(red, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    ds = pipeline.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=3, drop_remainder=True
    )
    assert [b["video"].shape[0] for b in ds] == [3]


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


def test_shuffle_is_seeded_and_reshuffles(tmp_path):
    paths = make_frames(tmp_path, 1)
    clips = frame_clips([paths] * 10)

    def order(seed, **kw):
        ds = pipeline.make_frames_dataset(
            clips, channels=3, height=8, width=12, batch_size=4, shuffle=True, seed=seed, **kw
        )
        return collect(ds), collect(ds)

    first, second = order(7)
    assert sorted(first) == sorted(c.clip_id for c in clips)
    assert (first, second) == order(7)
    assert first != second  # Reshuffled each epoch.
    assert order(8)[0] != first
    repeated = pipeline.make_frames_dataset(
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
    counter = pipeline.SkipCounter()
    ds = pipeline.make_frames_dataset(
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
        iterate(pipeline.make_frames_dataset(clips[-1:], channels=3, height=8, width=12, batch_size=2))


def test_skip_counts_when_repeated_and_when_last_clip_breaks(tmp_path):
    paths = make_frames(tmp_path, 3)
    truncate(paths[2])
    clips = frame_clips([[p] for p in paths])
    counter = pipeline.SkipCounter()
    ds = pipeline.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=1, on_error="skip", skip_counter=counter,
    )
    assert collect(ds) == ["clip0", "clip1"] and counter.skipped == 1  # Last one found at the end.
    counter = pipeline.SkipCounter()
    ds = pipeline.make_frames_dataset(
        clips, channels=3, height=8, width=12, batch_size=1, on_error="skip", repeat=True,
        skip_counter=counter,
    )
    assert [x.decode() for b in ds.take(5) for x in b["clip_id"].numpy()] == [
        "clip0", "clip1", "clip0", "clip1", "clip0"]
    assert counter.skipped >= 2  # Prefetching may have decoded (and dropped) more.


# ---------------------------------------------------------------------------
# Python-side helpers.
# ---------------------------------------------------------------------------
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
        pipeline.check_clip_files(clips[:2])
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        pipeline.check_clip_files([clips[0], clips[2]])
    assert pipeline.check_clip_files(clips, on_error="skip") == clips[:1]
    with pytest.raises(ValueError, match="on_error"):
        pipeline.check_clip_files(clips, on_error="ignore")


def test_clip_and_argument_validation(tmp_path):
    with pytest.raises(ValueError, match="flows"):
        Clip(frame_paths=("a", "b"), flow_paths=("x", "y"), clip_id="c")
    clips = [Clip(frame_paths=("a",), clip_id="a"), Clip(frame_paths=("a", "b"), clip_id="b")]
    with pytest.raises(ValueError, match="same number of frames"):
        pipeline.make_frames_dataset(clips, channels=3, height=4, width=4, batch_size=1)
    with pytest.raises(ValueError, match="height"):
        pipeline.make_frames_dataset(clips[:1], channels=3, height=0, width=4, batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        pipeline.make_frames_dataset(clips[:1], channels=3, height=4, width=4, batch_size=0)


def test_natural_sort_and_split_file(tmp_path):
    names = ["img10.png", "img2.png", "img1.png"]
    assert sorted(names, key=pipeline.natural_key) == ["img1.png", "img2.png", "img10.png"]
    split = tmp_path / "trainlist01.txt"
    split.write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n\n# comment\nperson01_walking_d1\n"
    )
    assert pipeline.read_split_file(split) == {"v_ApplyEyeMakeup_g08_c01", "person01_walking_d1"}


def test_video_extraction_with_fake_reader(tmp_path, monkeypatch):
    frames = [np.full((6, 8, 3), 30 * i, np.uint8) for i in range(4)]
    monkeypatch.setattr(pipeline, "_video_backend", lambda: "fake")
    monkeypatch.setattr(pipeline, "_iter_video_frames", lambda path: iter(frames))
    out = pipeline.extract_video_frames("v.avi", str(tmp_path / "cache" / "v"), grayscale=True)
    assert [os.path.basename(p) for p in out] == [f"frame_{i:05d}.png" for i in range(1, 5)]
    assert np.asarray(Image.open(out[3])).tolist() == np.full((6, 8), 90).tolist()
    monkeypatch.setattr(pipeline, "_iter_video_frames", lambda path: iter(()))
    # Cached: the empty fake reader is not used again.
    assert pipeline.extract_video_frames("v.avi", str(tmp_path / "cache" / "v")) == out


def test_video_decode_error_names_file(tmp_path, monkeypatch):
    def broken(path):
        yield np.zeros((4, 4, 3), np.uint8)
        raise OSError("corrupt stream")

    monkeypatch.setattr(pipeline, "_video_backend", lambda: "fake")
    monkeypatch.setattr(pipeline, "_iter_video_frames", broken)
    with pytest.raises(ValueError, match=r"(?s)bad\.avi \(frame 2\).*corrupt stream"):
        pipeline.extract_video_frames("bad.avi", str(tmp_path / "v"))
    assert not os.path.exists(tmp_path / "v")


def test_video_without_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(pipeline, "_video_backend", lambda: None)
    videos = [pipeline.VideoSource("walking", "person01_walking_d1", video_path="x/p.avi")]
    with pytest.raises(RuntimeError, match=r"(?s)p\.avi.*extract the frames.*imageio-ffmpeg"):
        pipeline.materialize_videos(videos, "/nonexistent-cache")
