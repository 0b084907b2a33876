"""pix2pixHD's multiscale discriminator: structure, scale order, names, checkpoints."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.layers.normalization import average_downsample
from seg2vid_tf.models.pix2pixhd_discriminator import MultiscaleDiscriminator
from seg2vid_tf.testing.tiny_pix2pixhd import TINY_DISCRIMINATOR, random_inputs


def patch_size(size, n_layers):
    """Side of each group's output: stride-2 groups then two stride-1 groups, all 4x4 pad 2."""
    sizes = []
    for group in range(n_layers + 2):
        size = size // 2 + 1 if group < n_layers else size + 1
        sizes.append(size)
    return sizes


def test_discriminator_structure_and_scale_order():
    discriminator = MultiscaleDiscriminator(TINY_DISCRIMINATOR)
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
    discriminator = MultiscaleDiscriminator(config).build_for_size()
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
    discriminator = MultiscaleDiscriminator(config)
    last = discriminator(random_inputs((1, 16, 16, 4)))[0][-1]
    assert float(tf.reduce_min(last)) < 0.0


def test_discriminator_input_errors():
    discriminator = MultiscaleDiscriminator(TINY_DISCRIMINATOR)
    with pytest.raises(ValueError, match="generator input and image concatenated"):
        discriminator(np.zeros((1, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="float input"):
        discriminator(np.zeros((1, 16, 16, 4), np.int32))


def test_discriminator_checkpoint_holds_every_variable(tmp_path):
    discriminator = MultiscaleDiscriminator(TINY_DISCRIMINATOR).build_for_size()
    path = tf.train.Checkpoint(model=discriminator).save(str(tmp_path / "ckpt"))
    saved = [name for name, _ in tf.train.list_variables(path) if name.startswith("model/")]
    assert len(saved) == len(discriminator.weights) == 30
