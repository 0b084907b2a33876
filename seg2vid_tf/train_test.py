"""The training commands print `error: ...` naming a corrupt data file (no training is run)."""

import glob
import os
import types

import pytest

from seg2vid_tf import train, train_label2image
from seg2vid_tf.data import cityscapes, registry, synthetic
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.testing.commands import exit_status
from seg2vid_tf.training import config as config_lib
from seg2vid_tf.training import label2image, trainer
from seg2vid_tf.training.config import TrainConfig


@pytest.fixture()
def corrupt_data(tmp_path):
    """A tiny synthetic dataset whose second train frame of one sequence is corrupt."""
    data_dir = str(tmp_path / "data")
    synthetic.generate_dataset(data_dir, 2, 5, 32, 32, seed=0, val_fraction=0.5, num_workers=1)
    (frame,) = glob.glob(os.path.join(data_dir, "leftImg8bit_sequence", "train", "*",
                                      "*_000000_leftImg8bit.png"))
    corrupt_files.corrupt_png_data(frame)
    return data_dir, frame


def command_flags(module, monkeypatch, data_dir, model_dir):
    monkeypatch.setattr(module, "flags", types.SimpleNamespace(
        FLAGS=types.SimpleNamespace(data_dir=data_dir, model_dir=model_dir)))


def test_train_names_the_corrupt_file(corrupt_data, tmp_path, monkeypatch, capsys):
    data_dir, frame = corrupt_data
    model = Img2VidConfig(height=128, width=128, label_mode="two_path", channels=3)
    config = TrainConfig(model=model, dataset="synthetic", data_dir=data_dir, batch_size=1,
                         loss_weights=(("vgg", 0.0),))

    def read_the_data(config, workdir):  # Stands in for training: iterates its dataset.
        del workdir
        for _ in registry.make_dataset(config, "train"):
            pass

    command_flags(train, monkeypatch, data_dir, str(tmp_path / "model"))
    monkeypatch.setattr(config_lib, "config_from_flags", lambda: config)
    monkeypatch.setattr(trainer, "train_and_evaluate", read_the_data)
    assert exit_status(train.main, ["train"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: Frame file {frame} (synthetic clip ")
    assert "split 'train'" in error and "expected a complete PNG image" in error


def test_train_label2image_names_the_corrupt_file(corrupt_data, tmp_path, monkeypatch,
                                                    capsys):
    data_dir, frame = corrupt_data

    def read_the_data(config, workdir):  # Stands in for training: iterates its frames.
        del workdir
        clips = cityscapes.find_clips(config.data_dir, "train", num_frames=1)
        for _ in cityscapes.make_dataset(clips, height=32, width=32, batch_size=1):
            pass

    command_flags(train_label2image, monkeypatch, data_dir, str(tmp_path / "model"))
    monkeypatch.setattr(label2image, "config_from_flags",
                        lambda values: types.SimpleNamespace(data_dir=values.data_dir))
    monkeypatch.setattr(label2image, "train", read_the_data)
    assert exit_status(train_label2image.main, ["train_label2image"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: Frame file {frame} (labelled frame ")
    assert "split 'train'" in error
