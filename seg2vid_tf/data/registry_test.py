"""The --dataset dispatch shared by training and evaluation."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.data import decode_errors, registry, synthetic
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.training.config import TrainConfig

NO_VGG = tuple(sorted({"vgg": 0.0}.items()))


def config_for(dataset, data_dir, label_mode="none", channels=3, **changes):
    model = Img2VidConfig(height=128, width=128, label_mode=label_mode, channels=channels)
    return TrainConfig(model=model, dataset=dataset, data_dir=data_dir, batch_size=2,
                       loss_weights=NO_VGG, **changes)


def write_frames(root, category, video, count, mode):
    """`count` frames of 12x16 whose value is 20 * (frame index + 1)."""
    folder = os.path.join(root, category, video)
    os.makedirs(folder)
    for index in range(count):
        image = Image.fromarray(np.full((12, 16), 20 * (index + 1), np.uint8)).convert(mode)
        image.save(os.path.join(folder, f"frame{index + 1:03d}.png"))


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synthetic"))
    synthetic.generate_dataset(path, 3, 6, 128, 128, seed=1, val_fraction=0.34)
    return path


@pytest.fixture(scope="module")
def kth_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("kth"))
    write_frames(root, "boxing", "person01_boxing_d1", 6, "L")  # train
    write_frames(root, "walking", "person17_walking_d1", 5, "L")  # test
    return root


@pytest.fixture(scope="module")
def ucf101_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("ucf101"))
    write_frames(root, "Biking", "v_Biking_g01_c01", 5, "RGB")  # split-1 test
    write_frames(root, "Biking", "v_Biking_g08_c01", 6, "RGB")  # split-1 train
    write_frames(root, "Diving", "v_Diving_g09_c02", 5, "RGB")  # split-1 train
    return root


def clip_ids(dataset):
    return [clip_id.decode() for batch in dataset for clip_id in batch["clip_id"].numpy()]


def test_labelled_datasets_give_label_maps_to_labelled_models_only(synthetic_dir):
    for dataset in ("synthetic", "cityscapes"):  # the synthetic data uses the Cityscapes layout
        config = config_for(dataset, synthetic_dir, label_mode="two_path")
        batch = next(iter(registry.make_dataset(config, "train")))
        assert set(batch) == {"video", "label_map", "clip_id"}
        assert batch["video"].shape == (2, 5, 128, 128, 3)
        assert batch["label_map"].shape == (2, 128, 128)
    evaluation = next(iter(registry.make_dataset(config, "val", with_flow="auto")))
    assert {"flow", "flow_valid", "label_map"} <= set(evaluation)
    unlabelled = config_for("synthetic", synthetic_dir, label_mode="none")
    batch = next(iter(registry.make_dataset(unlabelled, "train")))
    assert set(batch) == {"video", "clip_id"}


def test_kth_is_grayscale_without_label_maps_and_val_reads_the_test_persons(kth_dir):
    config = config_for("kth", kth_dir, channels=1)
    train = list(registry.make_dataset(config, "train"))
    assert set(train[0]) == {"video", "clip_id"}
    assert train[0]["video"].shape == (2, 5, 128, 128, 1)
    np.testing.assert_allclose(train[0]["video"].numpy()[0, :, 64, 64, 0] * 255,
                               [20, 40, 60, 80, 100], atol=0.6)
    assert clip_ids(train) == ["person01_boxing_d1/frame001", "person01_boxing_d1/frame002"]
    assert registry.reader_split("kth", "val") == "test"
    assert clip_ids(registry.make_dataset(config, "val")) == ["person17_walking_d1/frame001"]


def test_ucf101_split_files_and_classes(ucf101_dir, tmp_path):
    config = config_for("ucf101", ucf101_dir)
    assert clip_ids(registry.make_dataset(config, "val")) == ["v_Biking_g01_c01/frame001"]
    batch = next(iter(registry.make_dataset(config, "train")))
    assert set(batch) == {"video", "clip_id"} and batch["video"].shape == (2, 5, 128, 128, 3)
    trainlist = tmp_path / "trainlist01.txt"
    trainlist.write_text("Biking/v_Biking_g01_c01.avi 1\nDiving/v_Diving_g09_c02.avi 2\n")
    testlist = tmp_path / "testlist01.txt"
    testlist.write_text("Biking/v_Biking_g08_c01.avi\n")
    listed = config_for("ucf101", ucf101_dir, train_split_file=str(trainlist),
                        val_split_file=str(testlist))
    assert clip_ids(registry.make_dataset(listed, "train")) == [
        "v_Biking_g01_c01/frame001", "v_Diving_g09_c02/frame001"]
    assert clip_ids(registry.make_dataset(listed, "val")) == [
        "v_Biking_g08_c01/frame001", "v_Biking_g08_c01/frame002"]
    diving = config_for("ucf101", ucf101_dir, ucf101_classes=("Diving",))
    assert clip_ids(registry.make_dataset(diving, "train")) == ["v_Diving_g09_c02/frame001"]


@pytest.mark.parametrize("dataset, label_mode, channels, message", [
    ("kth", "two_path", 1, "--dataset=kth has no label maps.*set --label_mode=none"),
    ("ucf101", "one_path", 3, "--dataset=ucf101 has no label maps.*set --label_mode=none"),
    ("kth", "none", 3, "--dataset=kth is grayscale: set --channels=1"),
    ("ucf101", "none", 1, "--dataset=ucf101 is RGB: set --channels=3"),
    ("cityscapes", "two_path", 1, "--dataset=cityscapes is RGB: set --channels=3"),
    ("kitti", "none", 3, "--dataset must be one of"),
])
def test_model_and_dataset_mismatches_name_the_flags(dataset, label_mode, channels, message):
    with pytest.raises(ValueError, match=message):
        registry.check_model(dataset, label_mode, channels)


def test_options_of_other_datasets_name_the_flag():
    with pytest.raises(ValueError, match="--train_split_file applies to --dataset=kth or ucf101"):
        registry.check_options("cityscapes", train_split_file="list.txt")
    with pytest.raises(ValueError, match="--val_split_file applies"):
        registry.check_options("synthetic", val_split_file="list.txt")
    with pytest.raises(ValueError, match="--ucf101_classes applies to --dataset=ucf101 only"):
        registry.check_options("kth", ucf101_classes=("Biking",))
    registry.check_options("kth", train_split_file="list.txt", val_split_file="other.txt")
    with pytest.raises(ValueError, match="--label_files=labelIds applies to --dataset=cityscapes"):
        registry.check_options("synthetic", label_files="labelIds")
    with pytest.raises(ValueError, match="--label_files must be one of"):
        registry.check_options("cityscapes", label_files="labelids")
    registry.check_options("cityscapes", label_files="labelIds")


def test_data_errors_name_the_file_and_the_reader_split(tmp_path):
    root = str(tmp_path)
    write_frames(root, "boxing", "person01_boxing_d1", 5, "L")  # train
    write_frames(root, "walking", "person17_walking_d1", 5, "L")  # test
    bad = corrupt_files.corrupt_png_data(
        os.path.join(root, "walking", "person17_walking_d1", "frame003.png"))
    config = config_for("kth", root, channels=1)
    list(registry.make_dataset(config, "train"))
    with pytest.raises(decode_errors.DataFileError,
                       match=re.escape(f"{bad} (KTH clip 'person17_walking_d1/frame001', "
                                       "split 'test')")):
        with registry.naming_data_errors(config):
            list(registry.make_dataset(config, "val"))
    unrelated = tf.errors.InvalidArgumentError(None, None, "Incompatible shapes: [2] vs. [3]")
    assert registry.explain_data_error(unrelated, config) is None
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        with registry.naming_data_errors(config):
            raise unrelated
