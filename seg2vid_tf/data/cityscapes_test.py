"""Tests for seg2vid_tf.data.cityscapes on tiny official-layout trees."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import cityscapes, datasets
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.testing.data_files import write_png16

HEIGHT, WIDTH = 16, 24


# ---------------------------------------------------------------------------
# Tree builder.
# ---------------------------------------------------------------------------
def flow_values(frame):
    """Known flow of a frame: u, v and valid, [H, W] each."""
    u = np.full((HEIGHT, WIDTH), 0.25 * (frame + 1))
    v = np.full((HEIGHT, WIDTH), -0.5 * frame)
    u[:, WIDTH // 2:] = 3.0  # Right half moves 3 px right.
    valid = np.ones((HEIGHT, WIDTH), bool)
    valid[0] = False
    return u, v, valid


def label_values(frame):
    """Label of a start frame: left half = frame % 19, right half 7, one 255 pixel."""
    label = np.full((HEIGHT, WIDTH), 7, np.uint8)
    label[:, : WIDTH // 2] = frame % 19
    label[1, 1] = 255
    return label


def frame_values(seq, frame, size=(HEIGHT, WIDTH)):
    """RGB frame whose red channel encodes the frame number and green the sequence."""
    array = np.zeros(size + (3,), np.uint8)
    array[..., 0] = frame * 10
    array[..., 1] = seq * 40
    array[..., 2] = 200
    return array


def frame_path(root, split, city, seq, n):
    name = f"{city}_{seq:06d}_{n:06d}_leftImg8bit.png"
    return os.path.join(root, "leftImg8bit_sequence", split, city, name)


def label_path(root, split, city, seq, n):
    name = f"{city}_{seq:06d}_{n:06d}_gtFine_labelTrainIds.png"
    return os.path.join(root, "gtFine_sequence", split, city, name)


def flow_path(root, split, city, seq, n):
    return os.path.join(root, "flow", split, city, f"{city}_{seq:06d}_{n:06d}_flow.png")


def kitti_encoding(u, v, valid):
    return np.stack([np.round(u * 64 + 2**15), np.round(v * 64 + 2**15), valid], -1)


def build(root, split, city, seq, frames, labels, flows=False):
    """Writes frames (and labels / flows) of one sequence in the official layout."""
    paths = [frame_path, label_path] + ([flow_path] if flows else [])
    for path_fn in paths:
        os.makedirs(os.path.dirname(path_fn(root, split, city, seq, 0)), exist_ok=True)
    for n in frames:
        Image.fromarray(frame_values(seq, n)).save(frame_path(root, split, city, seq, n))
        if flows:
            write_png16(flow_path(root, split, city, seq, n), kitti_encoding(*flow_values(n)))
    for n in labels:
        Image.fromarray(label_values(n)).save(label_path(root, split, city, seq, n))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cityscapes"))
    # aachen seq 1: frames 0..7, labels at 0, 1, 3, 4 -> starts 0, 1, 3 (4 needs frame 8).
    build(root, "train", "aachen", 1, range(8), [0, 1, 3, 4], flows=True)
    # bochum seq 2: frames 10..14, label at 10 -> start 10.
    build(root, "train", "bochum", 2, range(10, 15), [10], flows=True)
    # bochum seq 3: a gap (no frame 3) -> labels at 0 and 2 give no clip.
    build(root, "train", "bochum", 3, [0, 1, 2, 4, 5, 6], [0, 2], flows=True)
    build(root, "val", "frankfurt", 0, range(5), [0])
    return root


def ids(clips):
    return [c.clip_id for c in clips]


def batches(dataset):
    return [{k: v.numpy() for k, v in b.items()} for b in dataset]


# ---------------------------------------------------------------------------
# Discovery.
# ---------------------------------------------------------------------------
def test_find_clips_every_valid_start_frame(root):
    clips = cityscapes.find_clips(root, "train")
    assert ids(clips) == [
        "aachen_000001_000000_leftImg8bit",
        "aachen_000001_000001_leftImg8bit",
        "aachen_000001_000003_leftImg8bit",
        "bochum_000002_000010_leftImg8bit",
    ]
    clip = clips[2]
    assert clip.frame_paths == tuple(frame_path(root, "train", "aachen", 1, n) for n in range(3, 8))
    assert clip.label_path == label_path(root, "train", "aachen", 1, 3)
    assert [os.path.basename(p) for p in clip.flow_paths] == [
        f"aachen_000001_{n:06d}_flow.png" for n in range(3, 7)]
    assert all("/train/" in p for c in clips for p in c.frame_paths)
    # Shorter clips: more start frames, including the one before the gap.
    assert ids(cityscapes.find_clips(root, "train", num_frames=3))[-2:] == [
        "bochum_000002_000010_leftImg8bit", "bochum_000003_000000_leftImg8bit"]


def test_val_split_is_separate(root):
    clips = cityscapes.find_clips(root, "val")
    assert ids(clips) == ["frankfurt_000000_000000_leftImg8bit"]
    assert clips[0].flow_paths is None  # No flow/val folder.
    assert all("/val/" in p for p in clips[0].frame_paths)


def test_find_clips_errors(root, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        cityscapes.find_clips(str(tmp_path / "nowhere"), "train")
    with pytest.raises(FileNotFoundError, match=r"(?s)training.*available splits.*'train', 'val'"):
        cityscapes.find_clips(root, "training")
    with pytest.raises(ValueError, match="no label PNGs"):
        cityscapes.find_clips(root, "train", label_suffix="gtFine_labelIds")
    with pytest.raises(ValueError, match=r"longest run of consecutive frames: 8; num_frames=9"):
        cityscapes.find_clips(root, "train", num_frames=9)
    empty = tmp_path / "empty"
    os.makedirs(empty / "leftImg8bit_sequence" / "train" / "x")
    with pytest.raises(ValueError, match="No Cityscapes frames"):
        cityscapes.find_clips(str(empty), "train")


def test_find_time_file_checks(tmp_path):
    root = str(tmp_path)
    build(root, "train", "ulm", 0, range(4), [0, 1], flows=True)
    flow2 = flow_path(root, "train", "ulm", 0, 2)
    os.remove(flow2)  # Needed by the clip starting at frame 1 only.
    with pytest.raises(FileNotFoundError, match=r"ulm_000000_000002_flow\.png"):
        cityscapes.find_clips(root, "train", num_frames=3)
    assert ids(cityscapes.find_clips(root, "train", num_frames=3, on_error="skip")) == [
        "ulm_000000_000000_leftImg8bit"]
    write_png16(flow2, np.zeros((HEIGHT, WIDTH, 3)))
    open(label_path(root, "train", "ulm", 0, 0), "wb").close()  # Empty label file.
    with pytest.raises(ValueError, match=r"ulm_000000_000000_gtFine_labelTrainIds\.png.*empty"):
        cityscapes.find_clips(root, "train", num_frames=3)
    assert ids(cityscapes.find_clips(root, "train", num_frames=3, on_error="skip")) == [
        "ulm_000000_000001_leftImg8bit"]


# ---------------------------------------------------------------------------
# Elements.
# ---------------------------------------------------------------------------
def test_batch_format_order_labels_and_flows(root):
    clips = cityscapes.find_clips(root, "train")
    out = batches(cityscapes.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=3))
    assert [b["video"].shape[0] for b in out] == [3, 1]
    first = out[0]
    assert set(first) == {"video", "label_map", "flow", "flow_valid", "clip_id"}
    assert first["video"].shape == (3, 5, HEIGHT, WIDTH, 3) and first["video"].dtype == np.float32
    assert first["label_map"].shape == (3, HEIGHT, WIDTH) and first["label_map"].dtype == np.int32
    assert first["flow"].shape == (3, 4, HEIGHT, WIDTH, 2) and first["flow"].dtype == np.float32
    assert first["flow_valid"].shape == (3, 4, HEIGHT, WIDTH) and first["flow_valid"].dtype == bool
    assert first["clip_id"].dtype == object and first["clip_id"][2] == b"aachen_000001_000003_leftImg8bit"
    video = np.concatenate([b["video"] for b in out])
    assert 0.0 <= video.min() and video.max() <= 1.0
    starts = [0, 1, 3, 10]
    np.testing.assert_allclose(
        video[:, :, 0, 0, 0] * 255, [[10 * (s + t) for t in range(5)] for s in starts], atol=1e-3)
    np.testing.assert_allclose(video[3, :, 5, 5, 1] * 255, 80, atol=1e-3)  # Sequence 2.
    labels = np.concatenate([b["label_map"] for b in out])
    for label, start in zip(labels, starts):
        expected = label_values(start).astype(np.int32)
        expected[expected == 255] = 19
        np.testing.assert_array_equal(label, expected)
    assert labels[0, 1, 1] == 19
    flows = np.concatenate([b["flow"] for b in out])
    valid = np.concatenate([b["flow_valid"] for b in out])
    for i, start in enumerate(starts):
        for t in range(4):
            u, v, ok = flow_values(start + t)
            np.testing.assert_array_equal(valid[i, t], ok)
            np.testing.assert_array_equal(flows[i, t, ..., 0], np.where(ok, u, 0))
            np.testing.assert_array_equal(flows[i, t, ..., 1], np.where(ok, v, 0))


def test_resize_frames_labels_and_flows(root):
    clips = cityscapes.find_clips(root, "train")[:1]
    (out,) = batches(cityscapes.make_dataset(clips, height=HEIGHT // 2, width=WIDTH // 2, batch_size=1))
    assert out["video"].shape == (1, 5, HEIGHT // 2, WIDTH // 2, 3)
    np.testing.assert_allclose(out["video"][0, :, 3, 3, 0] * 255, [0, 10, 20, 30, 40], atol=1e-3)
    np.testing.assert_allclose(out["video"][0, ..., 2] * 255, 200, atol=1e-3)
    label = out["label_map"][0]
    assert label.shape == (HEIGHT // 2, WIDTH // 2)
    np.testing.assert_array_equal(label[:, WIDTH // 4:], 7)
    assert set(np.unique(label[:, : WIDTH // 4])) <= {0, 19}  # Nearest, ids only.
    flow = out["flow"][0, 1]  # Frame 1: u = 0.5 px, v = -0.5 px at full size.
    assert out["flow"].shape == (1, 4, HEIGHT // 2, WIDTH // 2, 2)
    np.testing.assert_allclose(flow[2:, : WIDTH // 4 - 1, 0], 0.25)
    np.testing.assert_allclose(flow[2:, WIDTH // 4 + 1:, 0], 1.5)
    np.testing.assert_allclose(flow[2:, :, 1], -0.25)
    assert out["flow_valid"].shape == (1, 4, HEIGHT // 2, WIDTH // 2)
    assert out["flow_valid"][0, 1, 2:].all()


def test_with_flow_options(root):
    train = cityscapes.find_clips(root, "train")
    ds = cityscapes.make_dataset(train, height=8, width=8, batch_size=2, with_flow=False)
    assert set(ds.element_spec) == {"video", "label_map", "clip_id"}
    val = cityscapes.find_clips(root, "val")
    assert "flow" not in cityscapes.make_dataset(val, height=8, width=8, batch_size=1).element_spec
    with pytest.raises(ValueError, match="with_flow=True"):
        cityscapes.make_dataset(val, height=8, width=8, batch_size=1, with_flow=True)


def test_shuffle_determinism(root):
    clips = cityscapes.find_clips(root, "train", num_frames=2)
    assert len(clips) == 6

    def order(seed):
        ds = cityscapes.make_dataset(
            clips, height=8, width=12, batch_size=6, shuffle=True, seed=seed, with_flow=False)
        return [list(b["clip_id"].numpy()) for b in ds][0]

    first = order(3)
    assert first == order(3)
    assert first != order(4)
    assert sorted(first) == sorted(c.clip_id.encode() for c in clips)


# ---------------------------------------------------------------------------
# In-graph errors name the file; on_error="skip" drops the broken clip.
# ---------------------------------------------------------------------------
@pytest.fixture()
def small(tmp_path):
    root = str(tmp_path)
    build(root, "train", "jena", 0, range(5), [0, 1, 2])
    return root


def iterate(root, **kwargs):
    clips = cityscapes.find_clips(root, "train", num_frames=3)
    for _ in cityscapes.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2, **kwargs):
        pass


def test_truncated_frame(small):
    path = frame_path(small, "train", "jena", 0, 3)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-20])
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(os.path.basename(path))):
        iterate(small)


def test_non_image_label(small):
    path = label_path(small, "train", "jena", 0, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write("<html>not found</html>")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)not a PNG.*" + re.escape(os.path.basename(path))):
        iterate(small)


def write_label_with_id_42(root, n, pixel):
    """Rewrites label `n` of train/jena sequence 0 with the unknown id 42 at `pixel`."""
    path = label_path(root, "train", "jena", 0, n)
    label = label_values(n)
    label[pixel] = 42
    Image.fromarray(label).save(path)
    return path


def test_label_with_id_42(small):
    path = write_label_with_id_42(small, 2, (3, 4))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)id.*42.*" + re.escape(os.path.basename(path))):
        iterate(small)


def test_wrong_size_label(small):
    path = label_path(small, "train", "jena", 0, 0)
    Image.fromarray(np.zeros((HEIGHT, WIDTH + 2), np.uint8)).save(path)
    pattern = r"(?s)Label map size.*" + re.escape(os.path.basename(path)) + ".*differs from the size"
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        iterate(small, shuffle=True, seed=0)


def test_wrong_size_frame(small):
    path = frame_path(small, "train", "jena", 0, 4)
    Image.fromarray(frame_values(0, 4, size=(HEIGHT, WIDTH - 1))).save(path)
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(os.path.basename(path))):
        iterate(small)


def test_skip_drops_exactly_the_broken_clip(small):
    write_label_with_id_42(small, 1, (0, 0))
    clips = cityscapes.find_clips(small, "train", num_frames=3)
    counter = datasets.SkipCounter()
    ds = cityscapes.make_dataset(
        clips, height=HEIGHT, width=WIDTH, batch_size=2, on_error="skip", skip_counter=counter)
    got = [x.decode() for b in ds for x in b["clip_id"].numpy()]
    assert got == ["jena_000000_000000_leftImg8bit", "jena_000000_000002_leftImg8bit"]
    assert counter.skipped == 1


def test_flow_png_must_be_16bit(tmp_path):
    root = str(tmp_path)
    build(root, "train", "ulm", 0, range(3), [0], flows=True)
    path = flow_path(root, "train", "ulm", 0, 1)
    Image.fromarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8)).save(path)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)16-bit.*ulm_000000_000001_flow\.png"):
        iterate(root)


@pytest.mark.parametrize("kind, expected", [
    ("frame", "expected a complete PNG image"),
    ("label", "expected a complete 8-bit single-channel label PNG"),
    ("flow", "expected a complete KITTI 16-bit 3-channel flow PNG"),
])
def test_corrupt_png_data_names_the_file_clip_and_split(tmp_path, kind, expected):
    # Bytes overwritten inside the image data: only the decoder notices (``Invalid PNG
    # data, size N``), and the frames all have the same size.
    root = str(tmp_path)
    build(root, "train", "ulm", 0, range(4), [0, 1], flows=True)
    path_of = {"frame": frame_path, "label": label_path, "flow": flow_path}[kind]
    path = corrupt_files.corrupt_png_data(path_of(root, "train", "ulm", 0, 1))
    clips = cityscapes.find_clips(root, "train", num_frames=3)
    dataset = cityscapes.make_dataset(clips, height=HEIGHT, width=WIDTH, batch_size=2,
                                      with_flow="auto")
    message = corrupt_files.file_error_message(dataset, clips, "Cityscapes clip")
    assert f"{kind.capitalize()} file {path} (Cityscapes clip " in message
    assert "split 'train'" in message and expected in message
    others = [p for p in (frame_path(root, "train", "ulm", 0, 0),
                          label_path(root, "train", "ulm", 0, 0)) if p != path]
    assert all(other not in message for other in others)
