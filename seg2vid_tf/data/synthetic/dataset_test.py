"""generate_dataset: the files it writes, their independence of the worker and sequence counts."""

import glob
import json
import os

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.data import decode_errors, registry, synthetic
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.training.config import TrainConfig

H, W, F = 64, 128, 5


def _files_by_name(root):
    return {os.path.basename(p): open(p, "rb").read()
            for p in glob.glob(os.path.join(root, "**", "*.png"), recursive=True)}


def test_parallel_generation_writes_the_same_files(tmp_path):
    kwargs = dict(num_sequences=3, num_frames=2, height=H, width=W, seed=4)
    synthetic.generate_dataset(str(tmp_path / "one"), num_workers=1, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "two"), num_workers=2, **kwargs)
    assert _files_by_name(tmp_path / "one") == _files_by_name(tmp_path / "two")
    one = json.load(open(tmp_path / "one" / "synthetic.json"))
    two = json.load(open(tmp_path / "two" / "synthetic.json"))
    assert one == two
    with pytest.raises(ValueError, match="num_workers"):
        synthetic.generate_dataset(str(tmp_path / "bad"), num_workers=-1, **kwargs)


def test_dataset_sequences_independent_of_count(tmp_path):
    kwargs = dict(num_frames=3, height=H, width=W, seed=11)
    synthetic.generate_dataset(str(tmp_path / "two"), num_sequences=2, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "three"), num_sequences=3, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "other"), num_sequences=2, **dict(kwargs, seed=12))
    two = _files_by_name(tmp_path / "two")
    three = _files_by_name(tmp_path / "three")
    other = _files_by_name(tmp_path / "other")
    assert len(two) == 2 * (3 + 3 + 2)
    assert set(two) < set(three)
    for name, data in two.items():
        assert three[name] == data, name  # Same bytes, even across splits.
    frame = "synth_000000_000000_leftImg8bit.png"
    assert other[frame] != two[frame]


def test_written_files_match_render_sequence(tmp_path):
    """The files hold exactly what render_sequence returns for that sequence."""
    synthetic.generate_dataset(str(tmp_path), 1, F, H, W, seed=0)
    frames, labels, flows, valid = synthetic.render_sequence(synthetic.sequence_rng(0, 0), F, H, W)
    paths = synthetic.sequence_paths(str(tmp_path), "train", "synth", 0, F)
    for t in range(F):
        assert np.array_equal(np.asarray(Image.open(paths["frames"][t])), frames[t])
        assert np.array_equal(np.asarray(Image.open(paths["labels"][t])), labels[t])
    for t in range(F - 1):
        flow, ok = synthetic.read_kitti_flow(paths["flows"][t])
        assert np.array_equal(ok, valid[t])
        assert np.abs(flow - flows[t]).max() <= 1 / 128 + 1e-6


def test_api_validation():
    with pytest.raises(ValueError, match="val_fraction"):
        synthetic.generate_dataset("/nonexistent/x", 2, 2, 32, 32, 0, val_fraction=-0.1)


def test_split_counts():
    assert synthetic.split_counts(24, 0.25) == (18, 6)
    assert synthetic.split_counts(1, 0.25) == (1, 0)
    assert synthetic.split_counts(2, 0.25) == (1, 1)
    assert synthetic.split_counts(2, 0.0) == (2, 0)
    assert synthetic.split_counts(3, 0.1) == (2, 1)
    assert synthetic.split_counts(10, 0.99) == (1, 9)


def test_corrupt_file_of_the_synthetic_dataset_is_named_with_its_split(tmp_path):
    data_dir = str(tmp_path)
    synthetic.generate_dataset(data_dir, 2, 5, 32, 32, seed=0, val_fraction=0.5, num_workers=1)
    (frame,) = glob.glob(os.path.join(data_dir, "leftImg8bit_sequence", "val", "*",
                                      "*_000001_leftImg8bit.png"))
    corrupt_files.corrupt_png_data(frame)
    model = Img2VidConfig(height=128, width=128, label_mode="two_path", channels=3)
    config = TrainConfig(model=model, dataset="synthetic", data_dir=data_dir, batch_size=1,
                         loss_weights=(("vgg", 0.0),))
    for _ in registry.make_dataset(config, "train"):
        pass  # The train split is intact.
    with pytest.raises(decode_errors.DataFileError) as caught:
        with registry.naming_data_errors(config):
            for _ in registry.make_dataset(config, "val", with_flow="auto"):
                pass
    message = str(caught.value)
    assert f"Frame file {frame} (synthetic clip " in message and "split 'val'" in message
