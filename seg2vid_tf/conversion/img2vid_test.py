"""img2vid from a reference state_dict: names, layouts, strictness, variants."""

import numpy as np
import pytest

from seg2vid_tf.conversion.img2vid import img2vid_from_reference, infer_img2vid_config
from seg2vid_tf.conversion.state_dicts import ConversionError
from seg2vid_tf.testing.reference_weights import (
    IMG2VID_MANIFEST,
    IMG2VID_TEST_SEED,
    load_manifest,
    reference_weights,
)


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(IMG2VID_MANIFEST)


@pytest.fixture(scope="module")
def state_dict(manifest):
    return reference_weights(manifest, IMG2VID_TEST_SEED)


@pytest.fixture(scope="module")
def model(state_dict):
    return img2vid_from_reference(state_dict, height=128, width=128)


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
    with pytest.raises(ConversionError) as error:
        img2vid_from_reference(broken, height=128, width=128)
    message = str(error.value)
    assert "decoder.extra.weight" in message and "not used" in message
    assert "flownext.main.1.bias" in message and "no reference tensor" in message
    assert "fc.bias" in message and "shapes differ" in message


def test_not_an_img2vid_state_dict():
    with pytest.raises(ConversionError, match="missing"):
        img2vid_from_reference({"foo": np.zeros(1)}, height=128, width=128)


def test_unsupported_size_is_a_value_error(state_dict):
    with pytest.raises(ValueError, match="multiples of 32"):
        img2vid_from_reference(state_dict, height=100, width=128)


def test_variants_are_recognized_from_names_and_shapes(manifest):
    shapes = {name: np.zeros(shape, np.float32) for name, shape in manifest
              if not name.startswith("vgg_net.")}
    assert infer_img2vid_config(shapes, height=128, width=256).label_mode == "two_path"
    one_path = {name.replace("motion_net_bg", "motion_net"): value for name, value in shapes.items()
                if not name.startswith("motion_net_fg")}
    one_path["motion_net.main.0.weight"] = np.zeros((32, 35, 4, 4), np.float32)
    assert infer_img2vid_config(one_path, height=128, width=128).label_mode == "one_path"
    gray = dict(one_path)
    gray["motion_net.main.0.weight"] = np.zeros((32, 5, 4, 4), np.float32)
    gray["refine_net.image_decoder.upc6.1.weight"] = np.zeros((64, 1, 3, 3), np.float32)
    config = infer_img2vid_config(gray, height=128, width=128)
    assert (config.label_mode, config.channels) == ("none", 1)
    gray["motion_net.main.0.weight"] = np.zeros((32, 9, 4, 4), np.float32)
    with pytest.raises(ConversionError, match="input channels"):
        infer_img2vid_config(gray, height=128, width=128)
