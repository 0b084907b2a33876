"""The converter command line, and the library names it re-exports."""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import convert
from seg2vid_tf.conversion import checkpoints, img2vid, pix2pixhd as pix2pixhd_conversion
from seg2vid_tf.conversion import state_dicts, vgg
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.testing.reference_weights import img2vid_test_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def state_dict():
    return img2vid_test_weights()


def test_old_names_are_the_library_objects():
    modules = (checkpoints, img2vid, pix2pixhd_conversion, state_dicts, vgg)
    for name in convert.__all__:
        homes = [module for module in modules if hasattr(module, name)]
        assert homes and getattr(convert, name) is getattr(homes[0], name), name
    assert convert.CONFIG_FILENAME == "img2vid_config.json"
    assert convert.LABEL2IMAGE_CONFIG_FILENAME == "label2image_config.json"
    assert issubclass(convert.ConversionError, ValueError)
    assert list(inspect.signature(convert.load_img2vid).parameters) == [
        "checkpoint_dir", "height", "width", "flag_name", "precision"]


def test_command_line_writes_a_loadable_checkpoint(state_dict, tmp_path):
    reference = tmp_path / "reference.npz"
    np.savez(reference, **state_dict)
    output_dir = tmp_path / "converted"
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.convert", f"--reference={reference}",
         f"--output_dir={output_dir}", "--height=128", "--width=256"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "two_path" in result.stdout
    assert tf.train.latest_checkpoint(str(output_dir)) is not None
    loaded = convert.load_img2vid(str(output_dir))
    assert (loaded.config.height, loaded.config.width) == (128, 256)
    # Every tensor of the reference, in Keras layout (the layout is checked above).
    compared = 0
    for name, (variable, to_keras) in loaded.reference_variables().items():
        if variable is not None:
            np.testing.assert_array_equal(variable.numpy(), to_keras(state_dict[name]), name)
            compared += 1
    assert compared > 100
    # The VGG19 written beside it computes what the reference's VGG19 converted here does.
    images = np.random.default_rng(2).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    written = convert.load_vgg19(str(output_dir / "vgg19.npz"))
    for mine, theirs in zip(written(images), convert.vgg19_from_reference(state_dict)(images)):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_command_line_missing_reference_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.convert", f"--reference={tmp_path}/nope.npz",
         f"--output_dir={tmp_path}/out"], cwd=REPO, capture_output=True, text=True, timeout=300,
        check=False)
    assert result.returncode != 0
    assert "--reference" in result.stderr


def test_command_line_converts_a_pix2pixhd_generator_alone(tmp_path):
    config = pix2pixhd.Pix2PixHDConfig(input_channels=4, ngf=2, n_downsampling=1, n_blocks=1,
                                       n_local_enhancers=1, n_blocks_local=1)
    state = pix2pixhd.random_reference_state_dict(
        pix2pixhd.build_generator(config).build_for_size(), seed=5)
    reference = tmp_path / "latest_net_G.npz"
    np.savez(reference, **{f"module.{name}": value for name, value in state.items()})
    output_dir = tmp_path / "converted"
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.convert", f"--label2image_reference={reference}",
         f"--output_dir={output_dir}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LocalEnhancer" in result.stdout
    loaded = convert.load_label2image(str(output_dir / "label2image"))
    assert loaded.config == config
    np.testing.assert_array_equal(loaded.model1_1.module_1.bias.numpy(), state["model1_1.1.bias"])
