"""Exact parity with the PyTorch pix2pixHD networks (stage 1: label map -> first frame).

`tests/data/pix2pixhd_manifest.json` holds three state_dicts (a LocalEnhancer,
a GlobalGenerator and a two-scale discriminator with intermediate features)
with the seeds their stand-in weights were drawn with;
`tests/data/pix2pixhd_fixture_128x256.npz` holds what the original code
computed with them (channels-first). The weights are rebuilt by the fixture's
rule, loaded through the converter, which must infer each architecture from
names and shapes alone, and every stored output must be within 1e-4 (max
absolute error, README of the reference).
"""

import json
import os

import numpy as np
import pytest

from seg2vid_tf import convert
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.testing.reference_weights import reference_weights

DATA = os.path.join(os.path.dirname(__file__), "data")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def manifest():
    with open(os.path.join(DATA, "pix2pixhd_manifest.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def fixture():
    with np.load(os.path.join(DATA, "pix2pixhd_fixture_128x256.npz")) as archive:
        return {key: archive[key] for key in archive.files}


def state_dict_of(manifest, network):
    seed = manifest["networks"]["weight_seeds"][network]
    return reference_weights(manifest["state_dicts"][network], seed)


def channels_last(array):
    return np.transpose(array, (0, 2, 3, 1))


def max_error(actual, expected):
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.abs(actual - expected).max())


def test_generator_input_is_one_hot_labels_then_edges(fixture):
    built = pix2pixhd.generator_input(fixture["label_map"], 35, fixture["edge_map"][:, 0])
    np.testing.assert_array_equal(built.numpy(), channels_last(fixture["generator_input"]))


@pytest.mark.parametrize("network, expected_config", [
    ("local_generator", pix2pixhd.Pix2PixHDConfig(
        input_channels=36, output_channels=3, ngf=8, n_downsampling=4, n_blocks=9,
        n_local_enhancers=1, n_blocks_local=3, norm="instance")),
    ("global_generator", pix2pixhd.Pix2PixHDConfig(
        input_channels=36, output_channels=3, ngf=16, n_downsampling=4, n_blocks=9,
        n_local_enhancers=0, norm="instance")),
])
def test_generators_match_the_reference(manifest, fixture, network, expected_config):
    generator = convert.label2image_from_reference(state_dict_of(manifest, network))
    assert generator.config == expected_config
    inputs = channels_last(fixture["generator_input"])
    expected = channels_last(fixture[f"{network}/output"])
    errors = {mode: max_error(generator(inputs, training=mode), expected)
              for mode in (False, True)}  # Instance norm is the same in both modes.
    print(f"{network}/output max abs error: {errors[False]:.3g} (training mode {errors[True]:.3g})")
    assert max(errors.values()) <= TOLERANCE, errors


def test_discriminator_matches_the_reference(manifest, fixture):
    discriminator = convert.discriminator_from_reference(state_dict_of(manifest, "discriminator"))
    assert discriminator.config == pix2pixhd.DiscriminatorConfig(
        input_channels=39, ndf=16, n_layers=3, num_d=2, norm="instance", use_sigmoid=False,
        intermediate_features=True)
    inputs = np.concatenate([channels_last(fixture["generator_input"]),
                             channels_last(fixture["real_image"])], axis=-1)
    outputs = discriminator(inputs, training=False)
    assert len(outputs) == 2 and all(len(scale) == 5 for scale in outputs)
    errors = {}
    for scale, features in enumerate(outputs):
        for layer, feature in enumerate(features):
            key = f"discriminator/scale{scale}/layer{layer}"
            errors[key] = max_error(feature, channels_last(fixture[key]))
    print("discriminator max abs errors: " + ", ".join(
        f"{key.split('/', 1)[1]} {error:.3g}" for key, error in errors.items()))
    failures = {key: error for key, error in errors.items() if not error <= TOLERANCE}
    assert not failures, failures


# --------------------------------------------------------------------------- converter
def assert_same_variables(converted, state_dict):
    for name, (variable, to_keras) in converted.reference_variables().items():
        if variable is not None:
            np.testing.assert_array_equal(
                variable.numpy(), to_keras(state_dict[name]), err_msg=name)


def test_converter_names_missing_unused_and_misshapen_tensors(manifest):
    broken = state_dict_of(manifest, "local_generator")
    del broken["model.16.conv_block.5.bias"]
    broken["model1_2.9.weight"] = np.zeros((3,), np.float32)
    broken["model1_1.4.bias"] = np.zeros((17,), np.float32)
    with pytest.raises(convert.ConversionError) as error:
        convert.label2image_from_reference(broken)
    message = str(error.value)
    assert "model.16.conv_block.5.bias" in message and "no reference tensor" in message
    assert "model1_2.9.weight" in message and "not used" in message
    assert "model1_1.4.bias" in message and "shapes differ" in message

    discriminator = state_dict_of(manifest, "discriminator")
    discriminator["scale1_layer2.0.weight"] = np.zeros((64, 32, 3, 3), np.float32)
    with pytest.raises(convert.ConversionError, match=r"shapes differ.*scale1_layer2\.0\.weight"):
        convert.discriminator_from_reference(discriminator)


def test_converter_rejects_what_is_not_pix2pixhd():
    with pytest.raises(convert.ConversionError, match="model.1.weight"):
        convert.label2image_from_reference({"fc.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(convert.ConversionError, match="Not a pix2pixHD discriminator"):
        convert.discriminator_from_reference({"fc.weight": np.zeros((2, 2), np.float32)})


def test_wrapper_prefixes_are_accepted(manifest):
    reference = state_dict_of(manifest, "global_generator")
    for prefix in ("module.", "module.model.", "netG."):
        wrapped = {prefix + name: value for name, value in reference.items()}
        config = convert.infer_label2image_config(wrapped)
        assert (config.ngf, config.n_local_enhancers) == (16, 0), prefix
    local = {"model." + name: value
             for name, value in state_dict_of(manifest, "local_generator").items()}
    assert next(iter(local)).startswith("model.model.")
    config = convert.infer_label2image_config(local)
    assert (config.ngf, config.n_local_enhancers, config.n_blocks_local) == (8, 1, 3)
    discriminator = {"module." + name: value
                     for name, value in state_dict_of(manifest, "discriminator").items()}
    assert convert.infer_discriminator_config(discriminator).num_d == 2


def test_save_and_load_give_identical_outputs(manifest, fixture, tmp_path):
    generator = convert.label2image_from_reference(state_dict_of(manifest, "local_generator"))
    prefix = convert.save_label2image(generator, str(tmp_path))
    assert os.path.isfile(tmp_path / convert.LABEL2IMAGE_CONFIG_FILENAME)
    assert prefix.startswith(str(tmp_path))
    loaded = convert.load_label2image(str(tmp_path))
    assert isinstance(loaded, pix2pixhd.LocalEnhancer) and loaded.config == generator.config
    inputs = channels_last(fixture["generator_input"])[:, :64, :128]
    np.testing.assert_array_equal(loaded(inputs).numpy(), generator(inputs).numpy())


def test_load_label2image_missing_directory_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--label2image_checkpoint_dir"):
        convert.load_label2image(str(tmp_path / "nothing"))
    with pytest.raises(FileNotFoundError, match="--stage1"):
        convert.load_label2image(None, flag_name="stage1")


@pytest.mark.parametrize("config", [
    pix2pixhd.Pix2PixHDConfig(input_channels=20, output_channels=3, ngf=4, n_downsampling=2,
                              n_blocks=2, n_local_enhancers=2, n_blocks_local=1, norm="batch"),
    pix2pixhd.Pix2PixHDConfig(input_channels=7, output_channels=1, ngf=6, n_downsampling=3,
                              n_blocks=1, n_local_enhancers=0, norm="instance"),
], ids=["local2_batch", "global_gray"])
def test_generator_architecture_is_inferred_from_shapes(config):
    original = pix2pixhd.build_generator(config).build_for_size()
    state_dict = pix2pixhd.random_reference_state_dict(original, seed=1)
    assert convert.infer_label2image_config(state_dict) == config
    converted = convert.label2image_from_reference(state_dict)
    assert_same_variables(converted, state_dict)
    inputs = np.random.default_rng(2).normal(size=(2, 32, 48, config.input_channels))
    inputs = inputs.astype(np.float32)
    assert converted(inputs).shape == (2, 32, 48, config.output_channels)


@pytest.mark.parametrize("config", [
    pix2pixhd.DiscriminatorConfig(input_channels=6, ndf=8, n_layers=2, num_d=3, norm="batch",
                                  use_sigmoid=True, intermediate_features=False),
    pix2pixhd.DiscriminatorConfig(input_channels=4, ndf=4, n_layers=4, num_d=1),
], ids=["three_scales_batch_sigmoid", "one_scale"])
def test_discriminator_architecture_is_inferred_from_shapes(config):
    original = pix2pixhd.MultiscaleDiscriminator(config).build_for_size()
    state_dict = pix2pixhd.random_reference_state_dict(original, seed=3)
    assert convert.infer_discriminator_config(
        state_dict, use_sigmoid=config.use_sigmoid) == config
    converted = convert.discriminator_from_reference(state_dict, use_sigmoid=config.use_sigmoid)
    assert_same_variables(converted, state_dict)
    inputs = np.random.default_rng(4).normal(size=(1, 40, 24, config.input_channels))
    inputs = inputs.astype(np.float32)
    outputs = converted(inputs)
    assert len(outputs) == config.num_d
    expected_groups = config.num_groups if config.intermediate_features else 1
    assert all(len(scale) == expected_groups for scale in outputs)
