"""pix2pixHD networks: configs, PyTorch names, structure, validation, checkpoints.

Numerical parity with the PyTorch original is in `tests/pix2pixhd_parity_test.py`.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.layers.normalization import average_downsample
from seg2vid_tf.models import pix2pixhd

TINY_GLOBAL = pix2pixhd.Pix2PixHDConfig(
    input_channels=5, output_channels=3, ngf=4, n_downsampling=2, n_blocks=2)
TINY_LOCAL = TINY_GLOBAL.replace(ngf=2, n_local_enhancers=2, n_blocks_local=1)
TINY_DISCRIMINATOR = pix2pixhd.DiscriminatorConfig(input_channels=4, ndf=4, n_layers=3, num_d=3)


def random_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize("config", [TINY_GLOBAL, TINY_LOCAL, TINY_DISCRIMINATOR])
def test_configs_round_trip_through_json(config):
    restored = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


@pytest.mark.parametrize("changes, message", [
    ({"norm": "group"}, "norm must be one of"),
    ({"ngf": 0}, "ngf must be an int >= 1"),
    ({"n_blocks": -1}, "n_blocks must be an int >= 0"),
    ({"input_channels": 2.0}, "input_channels must be an int"),
])
def test_generator_config_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        TINY_GLOBAL.replace(**changes)


def test_config_from_dict_names_unknown_fields():
    with pytest.raises(ValueError, match="Unknown Pix2PixHDConfig fields.*'netG'"):
        pix2pixhd.Pix2PixHDConfig.from_dict({"netG": "local"})
    with pytest.raises(ValueError, match="use_sigmoid must be a bool"):
        pix2pixhd.DiscriminatorConfig(use_sigmoid=1)


def test_size_rules():
    assert (TINY_LOCAL.size_multiple, TINY_LOCAL.minimum_size) == (16, 32)
    assert TINY_GLOBAL.replace(n_downsampling=0).minimum_size == 4
    TINY_LOCAL.check_size(32, 48)
    with pytest.raises(ValueError, match="multiples of 16"):
        TINY_LOCAL.check_size(32, 40)
    with pytest.raises(ValueError, match="at least 32"):
        TINY_LOCAL.check_size(16, 32)


# --------------------------------------------------------------------------- generators
def test_reference_names_of_a_batch_norm_global_generator():
    generator = pix2pixhd.build_generator(TINY_GLOBAL.replace(norm="batch")).build_for_size()
    shapes = {name: (None if variable is None else tuple(variable.shape))
              for name, (variable, _) in generator.reference_variables().items()}
    # Sequential indices: pad 0, conv 1, norm 2, relu 3; downsampling at 4, 7; blocks at 10, 11;
    # upsampling at 12, 15; pad 18, conv 19, tanh 20.
    assert shapes["model.1.weight"] == (7, 7, 5, 4)
    assert shapes["model.2.running_var"] == (4,)
    assert shapes["model.2.num_batches_tracked"] is None
    assert shapes["model.7.weight"] == (3, 3, 8, 16)
    assert shapes["model.11.conv_block.6.bias"] == (16,)
    assert shapes["model.12.weight"] == (3, 3, 8, 16)  # Transposed: [kh, kw, out, in].
    assert shapes["model.19.weight"] == (7, 7, 4, 3)
    # conv + norm (2 + 5 names) five times, two blocks of 2 x (2 + 5), the output conv.
    assert "model.20.weight" not in shapes and len(shapes) == 5 * 7 + 2 * 14 + 2


def test_global_generator_output_is_an_image_of_the_input_size():
    generator = pix2pixhd.build_generator(TINY_GLOBAL)
    assert isinstance(generator, pix2pixhd.GlobalGenerator)
    outputs = generator(random_inputs((2, 16, 24, 5)), training=False).numpy()
    assert outputs.shape == (2, 16, 24, 3)
    assert np.abs(outputs).max() < 1.0


def test_local_enhancer_runs_the_pyramid_coarse_to_fine():
    generator = pix2pixhd.build_generator(TINY_LOCAL)
    assert isinstance(generator, pix2pixhd.LocalEnhancer)
    x = random_inputs((1, 32, 48, 5))
    outputs = generator(x, training=False).numpy()
    names = set(generator.reference_variables())
    assert {"model1_1.1.weight", "model2_1.4.bias", "model1_2.0.conv_block.5.weight",
            "model1_2.1.weight", "model2_2.5.weight"} <= names
    assert "model1_2.5.weight" not in names  # Only the last enhancer has the output head.
    assert generator.model.module_1.kernel.shape == (7, 7, 5, 8)  # Global ngf = ngf * 2**2.
    # By hand: x_2 -> global branch; + model1_1(x_1) -> model1_2; + model2_1(x_0) -> model2_2.
    x1 = average_downsample(x)
    x2 = average_downsample(x1)
    expected = generator.model(x2)
    expected = generator.model1_2(generator.model1_1(x1) + expected)
    expected = generator.model2_2(generator.model2_1(x) + expected)
    np.testing.assert_allclose(outputs, expected.numpy(), atol=1e-6)
    assert outputs.shape == (1, 32, 48, 3)


def test_generator_classes_check_their_config():
    with pytest.raises(ValueError, match="LocalEnhancer"):
        pix2pixhd.GlobalGenerator(TINY_LOCAL)
    with pytest.raises(ValueError, match="GlobalGenerator"):
        pix2pixhd.LocalEnhancer(TINY_GLOBAL)


@pytest.mark.parametrize("inputs, message", [
    (np.zeros((16, 16, 5), np.float32), "expected \\[batch, height, width, 5\\]"),
    (np.zeros((1, 16, 16, 4), np.float32), "expected 5 input channels"),
    (np.zeros((1, 16, 18, 5), np.float32), "width 18 is not supported.*multiples of 4"),
    (np.zeros((1, 16, 16, 5), np.int32), "float input"),
])
def test_generator_input_errors(inputs, message):
    with pytest.raises(ValueError, match=message):
        pix2pixhd.build_generator(TINY_GLOBAL)(inputs)


def test_generator_runs_in_a_tf_function_at_any_valid_size():
    generator = pix2pixhd.build_generator(TINY_GLOBAL).build_for_size()
    function = tf.function(lambda x: generator(x, training=False),
                           input_signature=[tf.TensorSpec([None, None, None, 5], tf.float32)])
    x = random_inputs((1, 12, 20, 5))
    np.testing.assert_allclose(function(x).numpy(), generator(x).numpy(), atol=1e-6)


def test_batch_norm_generator_updates_statistics_only_in_training():
    generator = pix2pixhd.build_generator(TINY_GLOBAL.replace(norm="batch")).build_for_size()
    norm = generator.model.module_2
    before = norm.moving_mean.numpy().copy()
    x = random_inputs((2, 8, 8, 5)) + 1.0
    generator(x, training=False)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), before)
    generator(x, training=True)
    assert np.abs(norm.moving_mean.numpy() - before).max() > 0


@pytest.mark.parametrize("config", [TINY_GLOBAL, TINY_LOCAL])
def test_checkpoints_hold_every_generator_variable(config, tmp_path):
    generator = pix2pixhd.build_generator(config).build_for_size()
    path = tf.train.Checkpoint(model=generator).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path)
             if name.startswith("model/") and "OPTIMIZER" not in name}
    assert len(saved) == len(generator.weights) > 0
    restored = pix2pixhd.build_generator(config).build_for_size()
    tf.train.Checkpoint(model=restored).restore(path).assert_existing_objects_matched()
    x = random_inputs((1, 32, 32, 5))
    np.testing.assert_array_equal(restored(x).numpy(), generator(x).numpy())


def test_keras_config_round_trip():
    generator = pix2pixhd.build_generator(TINY_LOCAL, name="stage1")
    clone = pix2pixhd.LocalEnhancer.from_config(generator.get_config())
    assert clone.config == TINY_LOCAL and clone.name == "stage1"


# --------------------------------------------------------------------------- discriminator
def patch_size(size, n_layers):
    """Side of each group's output: stride-2 groups then two stride-1 groups, all 4x4 pad 2."""
    sizes = []
    for group in range(n_layers + 2):
        size = size // 2 + 1 if group < n_layers else size + 1
        sizes.append(size)
    return sizes


def test_discriminator_structure_and_scale_order():
    discriminator = pix2pixhd.MultiscaleDiscriminator(TINY_DISCRIMINATOR)
    x = random_inputs((2, 24, 40, 4))
    outputs = discriminator(x, training=False)
    assert len(outputs) == 3
    inputs = x
    for k, features in enumerate(outputs):
        heights = patch_size(inputs.shape[1], 3)
        widths = patch_size(inputs.shape[2], 3)
        channels = [4, 8, 16, 32, 1]
        assert [tuple(f.shape) for f in features] == [
            (2, h, w, c) for h, w, c in zip(heights, widths, channels)]
        # Output k uses the weights of scale num_d - 1 - k on the k-times downsampled input.
        h = inputs
        for group in range(5):
            h = getattr(discriminator, f"scale{2 - k}_layer{group}")(h)
        np.testing.assert_allclose(features[-1].numpy(), h.numpy(), atol=1e-6)
        inputs = average_downsample(inputs)
    names = set(discriminator.reference_variables())
    assert {"scale0_layer0.0.weight", "scale2_layer4.0.bias"} <= names and len(names) == 30


def test_discriminator_without_intermediate_features_is_one_sequence():
    config = TINY_DISCRIMINATOR.replace(norm="batch", intermediate_features=False,
                                        use_sigmoid=True, num_d=2)
    discriminator = pix2pixhd.MultiscaleDiscriminator(config).build_for_size()
    names = set(discriminator.reference_variables())
    # conv 0, lrelu 1 | conv 2, norm 3, lrelu 4 | conv 5, norm 6, lrelu 7 | conv 8, norm 9,
    # lrelu 10 | conv 11 | sigmoid 12.
    assert {"layer0.0.weight", "layer0.2.weight", "layer0.3.running_mean",
            "layer1.9.num_batches_tracked", "layer1.11.bias"} <= names
    outputs = discriminator(random_inputs((1, 16, 16, 4)), training=False)
    assert [len(scale) for scale in outputs] == [1, 1]
    assert all(0.0 < float(tf.reduce_min(s[0])) and float(tf.reduce_max(s[0])) < 1.0
               for s in outputs)


def test_intermediate_features_drop_the_sigmoid_like_the_reference():
    config = TINY_DISCRIMINATOR.replace(use_sigmoid=True, num_d=1)
    discriminator = pix2pixhd.MultiscaleDiscriminator(config)
    last = discriminator(random_inputs((1, 16, 16, 4)))[0][-1]
    assert float(tf.reduce_min(last)) < 0.0


def test_discriminator_input_errors():
    discriminator = pix2pixhd.MultiscaleDiscriminator(TINY_DISCRIMINATOR)
    with pytest.raises(ValueError, match="generator input and image concatenated"):
        discriminator(np.zeros((1, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="float input"):
        discriminator(np.zeros((1, 16, 16, 4), np.int32))


def test_discriminator_checkpoint_holds_every_variable(tmp_path):
    discriminator = pix2pixhd.MultiscaleDiscriminator(TINY_DISCRIMINATOR).build_for_size()
    path = tf.train.Checkpoint(model=discriminator).save(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if name.startswith("model/")]
    assert len(saved) == len(discriminator.weights) == 30


# --------------------------------------------------------------------------- inputs
def test_generator_input_and_instance_edges():
    labels = np.array([[[0, 1, 1], [2, 2, 1]]], np.int32)
    instances = np.array([[[5, 5, 7], [5, 5, 7]]], np.int32)
    edges = pix2pixhd.instance_edges(instances).numpy()
    # Both pixels of every differing horizontal or vertical pair are edges.
    np.testing.assert_array_equal(edges, [[[0, 1, 1], [0, 1, 1]]])
    inputs = pix2pixhd.generator_input(labels, 3, edges).numpy()
    assert inputs.shape == (1, 2, 3, 4)
    np.testing.assert_array_equal(inputs[..., :3].argmax(-1), labels)
    np.testing.assert_array_equal(inputs[..., 3], edges)
    assert pix2pixhd.generator_input(labels, 3).shape == (1, 2, 3, 3)
    with pytest.raises(ValueError, match="does not match label_map"):
        pix2pixhd.generator_input(labels, 3, np.zeros((1, 2, 4), np.float32))
    with pytest.raises(ValueError, match="label_map must be"):
        pix2pixhd.generator_input(labels[0], 3)
