"""The reference converter: names, strictness, file formats, checkpoints, CLI."""

import collections
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import convert
from seg2vid_tf.models import pix2pixhd, vgg19
from seg2vid_tf.testing import torch_files
from seg2vid_tf.testing.reference_weights import load_manifest, reference_weights
from seg2vid_tf.testing.torch_files import Storage, Tensor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(REPO, "tests", "data", "img2vid_manifest.json")


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(MANIFEST)


@pytest.fixture(scope="module")
def state_dict(manifest):
    return reference_weights(manifest, 7)


@pytest.fixture(scope="module")
def model(state_dict):
    return convert.img2vid_from_reference(state_dict, height=128, width=128)


def test_every_manifest_tensor_has_a_variable_of_the_right_shape(manifest, model):
    expected = {name: tuple(shape) for name, shape in manifest if not name.startswith("vgg_net.")}
    variables = model.reference_variables()
    assert set(variables) == set(expected)
    for name, (variable, to_keras) in variables.items():
        if variable is not None:
            assert to_keras(np.zeros(expected[name])).shape == tuple(variable.shape), name
    assert model.config.label_mode == "two_path" and model.config.width_multiplier == 1.0


def test_weights_are_copied_in_keras_layout(state_dict, model):
    kernel = model.image_encoder.econv1.conv.kernel.numpy()
    np.testing.assert_array_equal(
        kernel, np.transpose(state_dict["encoder.econv1.main.0.weight"], (2, 3, 1, 0)))
    np.testing.assert_array_equal(model.latent_fc.kernel.numpy(), state_dict["fc.weight"].T)
    np.testing.assert_array_equal(
        model.refine.expand_norm.moving_variance.numpy(),
        state_dict["refine_net.image_decoder.upc1.1.running_var"])


def test_leftover_missing_and_misshapen_tensors_are_all_named(state_dict):
    broken = dict(state_dict)
    broken["decoder.extra.weight"] = np.zeros(3, np.float32)
    del broken["flownext.main.1.bias"]
    broken["fc.bias"] = np.zeros(7, np.float32)
    with pytest.raises(convert.ConversionError) as error:
        convert.img2vid_from_reference(broken, height=128, width=128)
    message = str(error.value)
    assert "decoder.extra.weight" in message and "not used" in message
    assert "flownext.main.1.bias" in message and "no reference tensor" in message
    assert "fc.bias" in message and "shapes differ" in message


def test_not_an_img2vid_state_dict():
    with pytest.raises(convert.ConversionError, match="missing"):
        convert.img2vid_from_reference({"foo": np.zeros(1)}, height=128, width=128)


def test_unsupported_size_is_a_value_error(state_dict):
    with pytest.raises(ValueError, match="multiples of 32"):
        convert.img2vid_from_reference(state_dict, height=100, width=128)


def test_variants_are_recognized_from_names_and_shapes(manifest):
    shapes = {name: np.zeros(shape, np.float32) for name, shape in manifest
              if not name.startswith("vgg_net.")}
    assert convert.infer_img2vid_config(shapes, height=128, width=256).label_mode == "two_path"
    one_path = {name.replace("motion_net_bg", "motion_net"): value for name, value in shapes.items()
                if not name.startswith("motion_net_fg")}
    one_path["motion_net.main.0.weight"] = np.zeros((32, 35, 4, 4), np.float32)
    assert convert.infer_img2vid_config(one_path, height=128, width=128).label_mode == "one_path"
    gray = dict(one_path)
    gray["motion_net.main.0.weight"] = np.zeros((32, 5, 4, 4), np.float32)
    gray["refine_net.image_decoder.upc6.1.weight"] = np.zeros((64, 1, 3, 3), np.float32)
    config = convert.infer_img2vid_config(gray, height=128, width=128)
    assert (config.label_mode, config.channels) == ("none", 1)
    gray["motion_net.main.0.weight"] = np.zeros((32, 9, 4, 4), np.float32)
    with pytest.raises(convert.ConversionError, match="input channels"):
        convert.infer_img2vid_config(gray, height=128, width=128)


def test_checkpoint_written_at_one_size_loads_at_another(model, tmp_path):
    convert.save_img2vid(model, str(tmp_path))
    loaded = convert.load_img2vid(str(tmp_path), height=128, width=256)
    assert (loaded.config.height, loaded.config.width) == (128, 256)
    for (name, (a, _)), (_, (b, _)) in zip(sorted(model.reference_variables().items()),
                                           sorted(loaded.reference_variables().items())):
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    rng = np.random.default_rng(0)
    outputs = loaded({"video": rng.uniform(size=(1, 1, 128, 256, 3)).astype(np.float32),
                      "label_map": rng.integers(0, 20, (1, 128, 256)).astype(np.int32)},
                     training=False)
    assert outputs["frames"].shape == (1, 4, 128, 256, 3)


def test_load_img2vid_missing_directory_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--checkpoint_dir"):
        convert.load_img2vid(str(tmp_path / "nothing"))


def test_npz_reader_strips_data_parallel_prefix(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, **{"module.fc.weight": np.ones((2, 2)), "module.fc.bias": np.zeros(2)})
    state = convert.load_reference_state_dict(str(path))
    assert sorted(state) == ["fc.bias", "fc.weight"]


def test_reference_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--reference"):
        convert.load_reference_state_dict(str(tmp_path / "missing.npz"))
    odd = tmp_path / "weights.bin"
    odd.write_bytes(b"123")
    with pytest.raises(convert.ConversionError, match="unknown reference format"):
        convert.load_reference_state_dict(str(odd))


def tiny_generator_state():
    config = pix2pixhd.Pix2PixHDConfig(input_channels=4, ngf=2, n_downsampling=1, n_blocks=1,
                                       n_local_enhancers=1, n_blocks_local=1)
    state = pix2pixhd.random_reference_state_dict(
        pix2pixhd.build_generator(config).build_for_size(), seed=5)
    return config, state


def as_torch_tensors(state, prefix=""):
    """Stand-in tensors (one float32 storage each) holding `state`'s arrays."""
    tensors = collections.OrderedDict()
    for name, value in state.items():
        value = np.asarray(value, np.float32)
        strides = tuple(int(np.prod(value.shape[i + 1:])) for i in range(value.ndim))
        tensors[prefix + name] = Tensor(Storage(value), 0, value.shape, strides)
    return tensors


@pytest.mark.parametrize("layout", ["legacy", "zip"])
def test_pytorch_checkpoints_load_without_pytorch(tmp_path, layout):
    # The authors' files: {"epoch": ..., "state_dict": ...} with DataParallel's prefix.
    config, state = tiny_generator_state()
    checkpoint = {"epoch": 12, "state_dict": as_torch_tensors(state, "module.")}
    writer = torch_files.write_legacy if layout == "legacy" else torch_files.write_zip
    path = writer(str(tmp_path / "latest_net_G.pth.tar"), checkpoint)
    loaded = convert.load_reference_state_dict(path)
    assert sorted(loaded) == sorted(state)
    for name, value in state.items():
        assert loaded[name].dtype == np.float32 and loaded[name].shape == np.shape(value)
        np.testing.assert_array_equal(loaded[name], value)
    generator = convert.label2image_from_reference(loaded)
    assert generator.config == config
    np.testing.assert_array_equal(generator.model1_1.module_1.bias.numpy(),
                                  state["model1_1.1.bias"])


class WritesAFile:
    """Unpickles as `os.system("touch <path>")`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.path)}",)


def test_malicious_pytorch_checkpoint_is_refused_and_not_run(tmp_path):
    marker = str(tmp_path / "pwned")
    checkpoint = {"state_dict": as_torch_tensors({"fc.weight": np.ones((2, 2))}),
                  "hook": WritesAFile(marker)}
    path = torch_files.write_legacy(str(tmp_path / "evil.pth.tar"), checkpoint)
    with pytest.raises(convert.ConversionError) as caught:
        convert.load_reference_state_dict(path, "label2image_reference")
    message = str(caught.value)
    assert path in message and f"{os.system.__module__}.system" in message
    assert "--label2image_reference" in message
    assert not os.path.exists(marker)
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.convert", f"--label2image_reference={path}",
         f"--output_dir={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and f"error: {path}: refusing to load" in result.stderr
    assert "Traceback" not in result.stderr and not os.path.exists(marker)


def test_vgg19_from_img2vid_or_torchvision_names(state_dict):
    network = convert.vgg19_from_reference(state_dict)
    np.testing.assert_array_equal(
        network.convs[2].kernel.numpy(),
        np.transpose(state_dict["vgg_net.vgg.features.5.weight"], (2, 3, 1, 0)))
    torchvision = {name[len("vgg_net.vgg."):]: value for name, value in state_dict.items()
                   if name.startswith("vgg_net.")}
    torchvision["classifier.0.weight"] = np.zeros((4, 4), np.float32)
    plain = convert.vgg19_from_reference(torchvision, pooling="max",
                                         output_layers=vgg19.PIX2PIXHD_PERCEPTUAL_LAYERS)
    images = np.random.default_rng(0).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    assert [f.shape[-1] for f in plain(images)] == [64, 128, 256, 512, 512]
    del torchvision["features.34.bias"]
    with pytest.raises(convert.ConversionError, match="features.34.bias|34.bias"):
        convert.vgg19_from_reference(torchvision)
    with pytest.raises(convert.ConversionError, match="No VGG19"):
        convert.vgg19_from_reference({"classifier.0.weight": np.zeros(1)})


def test_vgg19_file_round_trip_and_missing_file(state_dict, tmp_path):
    network = convert.vgg19_from_reference(state_dict)
    path = convert.save_vgg19(network, str(tmp_path / "vgg19.npz"))
    loaded = convert.load_vgg19(path)
    images = np.random.default_rng(1).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    for a, b in zip(network(images), loaded(images)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(FileNotFoundError, match="--vgg19_weights"):
        convert.load_vgg19(str(tmp_path / "absent.h5"))


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
