"""Flags and flagfiles -> `TrainConfig`."""

import glob
import os

import pytest
from absl import flags

from seg2vid_tf.training import config as config_lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Flagfiles of other commands (they define their own flags).
OTHER_COMMANDS = ("segmenter_", "label2image_",)


def parse(*args):
    """Fresh flags of the seg2vid commands parsed from `args`."""
    values = flags.FlagValues()
    config_lib.define_flags(values)
    values(["train", *args])
    return values


def img2vid_configs():
    paths = sorted(glob.glob(os.path.join(REPO, "configs", "*.cfg")))
    return [p for p in paths if not os.path.basename(p).startswith(OTHER_COMMANDS)]


def test_the_img2vid_configs_are_there():
    names = {os.path.basename(path) for path in img2vid_configs()}
    assert {"synthetic.cfg", "cityscapes_128x256.cfg", "kth.cfg", "ucf101.cfg"} <= names


@pytest.mark.parametrize("path", img2vid_configs(), ids=os.path.basename)
def test_every_config_parses_into_a_train_config(path, tmp_path):
    values = parse(f"--flagfile={path}", f"--data_dir={tmp_path}", f"--model_dir={tmp_path}")
    if values.weight_vgg > 0 and not values.vgg19_weights:
        with pytest.raises(ValueError, match="--vgg19_weights"):
            config_lib.config_from_flags(values)
        values.vgg19_weights = str(tmp_path / "vgg19.pth")  # the user's file
    config = config_lib.config_from_flags(values)
    assert config.data_dir == str(tmp_path) and values.model_dir == str(tmp_path)
    assert config.dataset == os.path.basename(path).split("_")[0].split(".")[0]


def test_the_paper_and_dataset_settings():
    cityscapes = parse(f"--flagfile={REPO}/configs/cityscapes_128x256.cfg",
                       "--vgg19_weights=vgg19.pth")
    config = config_lib.config_from_flags(cityscapes)
    assert (config.model.height, config.model.width) == (128, 256)
    assert config.model.label_mode == "two_path" and config.model.width_multiplier == 1.0
    assert (config.batch_size, config.learning_rate, config.beta_1, config.beta_2) == (
        8, 1e-3, 0.9, 0.999)
    assert config.weights == config_lib.losses.DEFAULT_WEIGHTS
    for name, channels in (("kth", 1), ("ucf101", 3)):
        values = parse(f"--flagfile={REPO}/configs/{name}.cfg", "--vgg19_weights=vgg19.pth")
        config = config_lib.config_from_flags(values)
        assert (config.model.height, config.model.width) == (128, 128)
        assert config.model.label_mode == "none" and config.model.channels == channels
        assert config.weights["vgg"] == 1.0


@pytest.mark.parametrize("args, message", [
    (["--dataset=kth", "--channels=1"], "--dataset=kth has no label maps.*--label_mode=none"),
    (["--dataset=kth", "--label_mode=none"], "--dataset=kth is grayscale: set --channels=1"),
    (["--dataset=ucf101"], "--dataset=ucf101 has no label maps.*--label_mode=none"),
    (["--dataset=cityscapes", "--train_split_file=list.txt"], "--train_split_file applies"),
    (["--dataset=kth", "--label_mode=none", "--channels=1", "--ucf101_classes=Biking"],
     "--ucf101_classes applies"),
])
def test_flags_that_do_not_fit_the_dataset_are_named(args, message):
    values = parse("--weight_vgg=0", *args)
    with pytest.raises(ValueError, match=message):
        config_lib.config_from_flags(values)


def test_dataset_flags_reach_the_config():
    values = parse("--weight_vgg=0", "--dataset=ucf101", "--label_mode=none",
                   "--train_split_file=train.txt", "--val_split_file=test.txt",
                   "--ucf101_classes=Biking,Diving")
    config = config_lib.config_from_flags(values)
    assert (config.train_split_file, config.val_split_file) == ("train.txt", "test.txt")
    assert config.ucf101_classes == ("Biking", "Diving")
    with pytest.raises(flags.IllegalFlagValueError):
        parse("--dataset=kitti")


def test_define_flags_keeps_flags_another_command_defined():
    values = flags.FlagValues()
    flags.DEFINE_string("data_dir", "elsewhere", "Defined by another command.", flag_values=values)
    config_lib.define_flags(values)
    config_lib.define_flags(values)  # again: nothing redefined
    values(["train"])
    assert values.data_dir == "elsewhere" and values.dataset == "synthetic"


def test_the_cosine_schedule_falls_from_the_learning_rate_to_zero_at_the_last_step():
    from seg2vid_tf.training import trainer  # pylint: disable=import-outside-toplevel

    values = parse("--weight_vgg=0", "--learning_rate=2e-3", "--train_steps=100",
                   "--learning_rate_schedule=cosine")
    schedule = trainer.learning_rate(config_lib.config_from_flags(values))
    assert [round(float(schedule(step)), 9) for step in (0, 50, 100, 150)] == [
        2e-3, 1e-3, 0.0, 0.0]
    constant = trainer.learning_rate(config_lib.config_from_flags(parse("--weight_vgg=0")))
    assert constant == 1e-3  # the reference's fixed rate stays the default


def test_an_unknown_learning_rate_schedule_is_named():
    with pytest.raises(flags.IllegalFlagValueError, match="learning_rate_schedule"):
        parse("--learning_rate_schedule=step")
    with pytest.raises(ValueError, match="--learning_rate_schedule must be one of"):
        config_lib.TrainConfig(learning_rate_schedule="step", loss_weights=(("vgg", 0.0),))


def test_mixed_precision_falls_back_to_float32_where_bfloat16_would_be_emulated(
        monkeypatch, tmp_path, capsys):
    from seg2vid_tf.models import precision  # pylint: disable=import-outside-toplevel

    values = parse(f"--flagfile={REPO}/configs/synthetic.cfg", f"--data_dir={tmp_path}",
                   "--precision=mixed_bfloat16")
    monkeypatch.setattr(precision, "_gpu_has_bfloat16", lambda: False)
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: False)
    assert config_lib.config_from_flags(values).precision == "float32"
    assert "running float32" in capsys.readouterr().err
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)
    assert config_lib.config_from_flags(values).precision == "mixed_bfloat16"


def test_recon_coarse_factors_reach_the_config_and_bad_ones_are_named():
    config = config_lib.config_from_flags(parse("--weight_vgg=0", "--recon_coarse_factors=2,4"))
    assert config.recon_coarse_factors == (2, 4)
    assert config_lib.config_from_flags(parse("--weight_vgg=0")).recon_coarse_factors == (
        2, 4, 8, 16)
    with pytest.raises(ValueError, match="--recon_coarse_factors must be comma-separated "
                                         "integers, got '2,x'"):
        config_lib.config_from_flags(parse("--weight_vgg=0", "--recon_coarse_factors=2,x"))
    # Checked where the term is on: 128 is more than half of a 128x128 frame.
    too_coarse = ("--weight_vgg=0", "--height=128", "--width=128", "--recon_coarse_factors=2,128")
    assert config_lib.config_from_flags(parse(*too_coarse)).recon_coarse_factors == (2, 128)
    with pytest.raises(ValueError, match="from 2 to 64 \\(half of the 128x128 frame\\) that "
                                         "divide 128 and 128, got \\[2, 128\\]"):
        config_lib.config_from_flags(parse(*too_coarse, "--weight_recon_coarse=1"))
