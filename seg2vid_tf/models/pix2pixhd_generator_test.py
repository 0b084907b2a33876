"""pix2pixHD generators: PyTorch names, structure, validation, checkpoints.

Numerical parity with the PyTorch original is in `tests/pix2pixhd_parity_test.py`.
"""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.layers.normalization import average_downsample
from seg2vid_tf.models.pix2pixhd_generator import GlobalGenerator, LocalEnhancer, build_generator
from seg2vid_tf.testing.tiny_pix2pixhd import TINY_GLOBAL, TINY_LOCAL, random_inputs


def test_reference_names_of_a_batch_norm_global_generator():
    generator = build_generator(TINY_GLOBAL.replace(norm="batch")).build_for_size()
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
    generator = build_generator(TINY_GLOBAL)
    assert isinstance(generator, GlobalGenerator)
    outputs = generator(random_inputs((2, 16, 24, 5)), training=False).numpy()
    assert outputs.shape == (2, 16, 24, 3)
    assert np.abs(outputs).max() < 1.0


def test_local_enhancer_runs_the_pyramid_coarse_to_fine():
    generator = build_generator(TINY_LOCAL)
    assert isinstance(generator, LocalEnhancer)
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
        GlobalGenerator(TINY_LOCAL)
    with pytest.raises(ValueError, match="GlobalGenerator"):
        LocalEnhancer(TINY_GLOBAL)


@pytest.mark.parametrize("inputs, message", [
    (np.zeros((16, 16, 5), np.float32), "expected \\[batch, height, width, 5\\]"),
    (np.zeros((1, 16, 16, 4), np.float32), "expected 5 input channels"),
    (np.zeros((1, 16, 18, 5), np.float32), "width 18 is not supported.*multiples of 4"),
    (np.zeros((1, 16, 16, 5), np.int32), "float input"),
])
def test_generator_input_errors(inputs, message):
    with pytest.raises(ValueError, match=message):
        build_generator(TINY_GLOBAL)(inputs)


def test_generator_runs_in_a_tf_function_at_any_valid_size():
    generator = build_generator(TINY_GLOBAL).build_for_size()
    function = tf.function(lambda x: generator(x, training=False),
                           input_signature=[tf.TensorSpec([None, None, None, 5], tf.float32)])
    x = random_inputs((1, 12, 20, 5))
    np.testing.assert_allclose(function(x).numpy(), generator(x).numpy(), atol=1e-6)


def test_batch_norm_generator_updates_statistics_only_in_training():
    generator = build_generator(TINY_GLOBAL.replace(norm="batch")).build_for_size()
    norm = generator.model.module_2
    before = norm.moving_mean.numpy().copy()
    x = random_inputs((2, 8, 8, 5)) + 1.0
    generator(x, training=False)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), before)
    generator(x, training=True)
    assert np.abs(norm.moving_mean.numpy() - before).max() > 0


@pytest.mark.parametrize("config", [TINY_GLOBAL, TINY_LOCAL])
def test_checkpoints_hold_every_generator_variable(config, tmp_path):
    generator = build_generator(config).build_for_size()
    path = tf.train.Checkpoint(model=generator).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path)
             if name.startswith("model/") and "OPTIMIZER" not in name}
    assert len(saved) == len(generator.weights) > 0
    restored = build_generator(config).build_for_size()
    tf.train.Checkpoint(model=restored).restore(path).assert_existing_objects_matched()
    x = random_inputs((1, 32, 32, 5))
    np.testing.assert_array_equal(restored(x).numpy(), generator(x).numpy())


def test_keras_config_round_trip():
    generator = build_generator(TINY_LOCAL, name="stage1")
    clone = LocalEnhancer.from_config(generator.get_config())
    assert clone.config == TINY_LOCAL and clone.name == "stage1"
