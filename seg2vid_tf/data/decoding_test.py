"""Tests for seg2vid_tf.data.decoding (checked in-graph loaders whose errors name the file)."""

import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import datasets, decoding
from seg2vid_tf.testing.data_files import (
    frame_clips,
    iterate,
    kitti_flow_array,
    make_frames,
    save,
    truncate,
    write_png16,
)


# ---------------------------------------------------------------------------
# Loaders.
# ---------------------------------------------------------------------------
def test_load_image_png_rgb_and_grayscale(tmp_path):
    array = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = save(tmp_path / "a.png", array)
    rgb = decoding.load_image(path, 3).numpy()
    assert rgb.dtype == np.float32 and rgb.shape == (5, 7, 3)
    np.testing.assert_allclose(rgb, array / 255.0, atol=1e-6)
    gray = decoding.load_image(path, 1).numpy()
    assert gray.shape == (5, 7, 1)
    expected = (0.299 * array[..., 0] + 0.587 * array[..., 1] + 0.114 * array[..., 2]) / 255.0
    np.testing.assert_allclose(gray[..., 0], expected, atol=2.5 / 255)


def test_load_image_16bit_png_and_jpeg(tmp_path):
    values = np.array([[0, 65535], [32768, 1000]], np.uint16)
    path16 = tmp_path / "deep.png"
    Image.fromarray(values).save(path16)  # Pillow mode I;16 -> 16-bit grey PNG.
    image = decoding.load_image(str(path16), 1).numpy()
    np.testing.assert_allclose(image[..., 0], values / 65535.0, atol=1e-6)

    flat = np.full((16, 16, 3), (200, 50, 10), np.uint8)
    jpeg = save(tmp_path / "a.jpg", flat, quality=100)
    image = decoding.load_image(jpeg, 3).numpy()
    np.testing.assert_allclose(image, flat / 255.0, atol=4 / 255)


def test_load_label_maps_255_to_void(tmp_path):
    label = np.array([[0, 5, 18], [19, 255, 3]], np.uint8)
    path = save(tmp_path / "l.png", label)
    out = decoding.load_label(path).numpy()
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 5, 18], [19, 19, 3]])


def test_load_label_reads_cityscapes_label_ids(tmp_path):
    # labelIds: road 7 -> 0, car 26 -> 13, sky 23 -> 10, unlabeled 0 / caravan 29 -> void 19.
    path = save(tmp_path / "x_gtFine_labelIds.png", np.array([[7, 26, 23], [0, 29, 33]], np.uint8))
    out = decoding.load_label(path, ids="cityscapes").numpy()
    np.testing.assert_array_equal(out, [[0, 13, 10], [19, 19, 18]])


def test_label_files_of_the_other_kind_are_errors_naming_file_and_flag(tmp_path):
    # A labelTrainIds file (255 = void) read as label ids, and a labelIds file (ids up to 33)
    # read as train ids: each error names the file and points at --label_files.
    train_ids = save(tmp_path / "a_labelTrainIds.png", np.array([[0, 255]], np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"(?s)outside 0\.\.33.*255.*a_labelTrainIds\.png.*--label_files"):
        decoding.load_label(train_ids, ids="cityscapes")
    label_ids = save(tmp_path / "b_labelIds.png", np.array([[7, 26]], np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"(?s)26.*b_labelIds\.png.*--label_files"):
        decoding.load_label(label_ids)


def test_load_kitti_flow_exact(tmp_path):
    u = np.array([[0.0, 1.5, -2.25], [100.0, -0.015625, 7.0]])
    v = np.array([[-1.0, 0.5, 3.0], [-300.25, 0.0, 2.0]])
    valid = np.array([[1, 1, 0], [1, 1, 1]], bool)
    path = str(tmp_path / "flow.png")
    write_png16(path, kitti_flow_array(u, v, valid))
    flow, got_valid = decoding.load_kitti_flow(path)
    assert flow.dtype == tf.float32 and flow.shape == (2, 3, 2)
    np.testing.assert_array_equal(got_valid.numpy(), valid)
    expected = np.stack([u, v], -1) * valid[..., None]  # Invalid pixels are zeroed.
    np.testing.assert_array_equal(flow.numpy(), expected.astype(np.float32))


# ---------------------------------------------------------------------------
# In-graph validation, through a dataset, naming the file.
# ---------------------------------------------------------------------------
def dataset_of(paths, **kwargs):
    return datasets.make_frames_dataset(
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
        decoding.load_label(bad_id)
    rgb = save(tmp_path / "rgb_label.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)single-channel.*rgb_label\.png"):
        decoding.load_label(rgb)
    # Inside a tf.data map function as well.
    ds = tf.data.Dataset.from_tensor_slices([bad_id]).map(decoding.load_label)
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape("id42.png")):
        iterate(ds)


def test_flow_must_be_16bit_rgb(tmp_path):
    path = save(tmp_path / "flow8.png", np.zeros((2, 3, 3), np.uint8))
    ds = tf.data.Dataset.from_tensor_slices([path]).map(decoding.load_kitti_flow)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)16-bit 3-channel.*flow8\.png"):
        iterate(ds)
    truncated = str(tmp_path / "flow_cut.png")
    write_png16(truncated, kitti_flow_array(np.zeros((4, 4)), np.zeros((4, 4)), np.ones((4, 4))))
    truncate(truncated)
    ds = tf.data.Dataset.from_tensor_slices([truncated]).map(decoding.load_kitti_flow)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)truncated.*flow_cut\.png"):
        iterate(ds)
