"""Img2Vid: shapes at the supported sizes, input validation, latent handling."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import losses
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid
from seg2vid_tf.ops.warp import warp


def inputs_for(config, batch=1, frames=None, seed=0):
    rng = np.random.default_rng(seed)
    frames = config.num_frames if frames is None else frames
    inputs = {"video": rng.uniform(size=(batch, frames, config.height, config.width,
                                         config.channels)).astype(np.float32)}
    if config.has_labels:
        inputs["label_map"] = rng.integers(0, 20, (batch, config.height, config.width)).astype(np.int32)
    return inputs


@pytest.fixture(scope="module")
def small_model():
    config = Img2VidConfig(height=128, width=128, width_multiplier=0.125)
    return Img2Vid(config, seed=1).build_for_size()


@pytest.mark.parametrize("height,width", [(128, 256), (256, 512)])
def test_full_width_network_output_shapes(height, width):
    config = Img2VidConfig(height=height, width=width)
    model = Img2Vid(config)
    outputs = model(inputs_for(config, frames=1), training=False)
    rows = 64 * (height // 16) * (width // 16) // 1024
    expected = {"warped": (1, 4, height, width, 3), "frames": (1, 4, height, width, 3),
                "flow": (1, 4, height, width, 2), "flow_back": (1, 4, height, width, 2),
                "mask_fw": (1, 4, height, width), "mask_bw": (1, 4, height, width),
                "mu": (1, rows, 1024), "logvar": (1, rows, 1024)}
    assert {key: tuple(value.shape) for key, value in outputs.items()} == expected


def test_every_variable_has_exactly_one_reference_name(small_model):
    named = [variable for variable, _ in small_model.reference_variables().values()
             if variable is not None]
    assert len({id(v) for v in named}) == len(named)
    assert {id(v) for v in named} == {id(v) for v in small_model.weights
                                      if "seed_generator" not in v.path}


def test_frames_refine_the_warped_start_frame_where_seen_and_the_noise_where_not(small_model):
    config = small_model.config
    inputs = inputs_for(config, frames=1, seed=3)
    rng = np.random.default_rng(4)
    inputs["noise"] = rng.normal(size=(1, 128, 128, 3)).astype(np.float32)
    inputs["z"] = rng.normal(size=(1, config.latent_rows, 1024)).astype(np.float32)
    outputs = {key: value.numpy() for key, value in small_model(inputs, training=False).items()}
    flow, mask = outputs["flow"][0], outputs["mask_fw"][0][..., None]  # [T, H, W, 2 | 1]
    start = np.repeat(inputs["video"][:, 0], config.num_predicted_frames, axis=0)
    # Step 6: the start frame warped by the forward flow the mask lets through.
    np.testing.assert_allclose(outputs["warped"][0], warp(start, flow * mask).numpy(),
                               rtol=0, atol=1e-5)
    # Step 7: the refine network sees the warped frame where the mask says the pixel is seen
    # and the noise elsewhere.
    blend = outputs["warped"][0] * mask + inputs["noise"] * (1.0 - mask)
    np.testing.assert_allclose(outputs["frames"][0], small_model.refine(blend).numpy(),
                               rtol=0, atol=1e-5)
    # The mask is neither all 0 nor all 1 here, so both terms count.
    assert 0.05 < mask.min() and mask.max() < 0.95


def test_latent_given_is_deterministic_and_prior_sampling_is_not(small_model):
    config = small_model.config
    inputs = inputs_for(config, frames=1)
    inputs["noise"] = np.zeros((1, 128, 128, 3), np.float32)
    a = small_model(inputs, training=False)["flow"].numpy()
    b = small_model(inputs, training=False)["flow"].numpy()
    assert np.abs(a - b).max() > 0  # fresh prior samples
    inputs["z"] = np.ones((1, config.latent_rows, 1024), np.float32)
    c = small_model(inputs, training=False)["flow"].numpy()
    d = small_model(inputs, training=False)["flow"].numpy()
    np.testing.assert_array_equal(c, d)


def test_prior_parameters_reported_without_clip_and_posterior_with_clip(small_model):
    outputs = small_model(inputs_for(small_model.config, frames=1), training=False)
    assert np.all(outputs["mu"].numpy() == 0) and np.all(outputs["logvar"].numpy() == 0)
    outputs = small_model(inputs_for(small_model.config), training=False)
    assert np.abs(outputs["mu"].numpy()).max() > 0


def test_training_samples_the_posterior_and_is_differentiable(small_model):
    inputs = inputs_for(small_model.config, batch=2)
    with tf.GradientTape() as tape:
        outputs = small_model(inputs, training=True)
        loss = losses.img2vid_losses(inputs["video"], outputs, perceptual=None)["total"]
    grads = tape.gradient(loss, small_model.trainable_variables)
    missing = [v.path for v, g in zip(small_model.trainable_variables, grads) if g is None]
    assert not missing


def test_training_without_clip_or_latent_is_an_error(small_model):
    with pytest.raises(ValueError, match="whole clip"):
        small_model(inputs_for(small_model.config, frames=1), training=True)


@pytest.mark.parametrize("change,error,message", [
    (lambda x: x.update(video=x["video"][0]), ValueError, "rank 5"),
    (lambda x: x.update(video=x["video"][..., :2]), ValueError, r"\[B, F, 128, 128, 3\]"),
    (lambda x: x.update(video=x["video"][:, :, :64]), ValueError, r"\[B, F, 128, 128, 3\]"),
    (lambda x: x.update(video=(x["video"] * 255).astype(np.uint8)), ValueError, "float"),
    (lambda x: x.pop("label_map"), ValueError, "needs a 'label_map'"),
    (lambda x: x.update(label_map=x["label_map"][:, :64]), ValueError, "'label_map' must be"),
    (lambda x: x.update(label_map=x["label_map"].astype(np.float32)), ValueError, "integer"),
    (lambda x: x.update(z=np.zeros((1, 3, 1024), np.float32)), ValueError, "'z' must be"),
    (lambda x: x.update(noise=np.zeros((1, 128, 128, 1), np.float32)), ValueError, "'noise' must be"),
    (lambda x: x.update(extra=np.zeros(3, np.float32)), ValueError, "Unknown Img2Vid inputs"),
    (lambda x: x["label_map"].__setitem__((0, 5, 5), 20), tf.errors.InvalidArgumentError, "0..19"),
    (lambda x: x["label_map"].__setitem__((0, 5, 5), -1), tf.errors.InvalidArgumentError, "0..19"),
    (lambda x: x["video"].__setitem__((0, 0, 3, 3, 0), np.nan), tf.errors.InvalidArgumentError, "NaN"),
])
def test_bad_inputs_get_clear_errors(small_model, change, error, message):
    inputs = inputs_for(small_model.config, frames=5)
    change(inputs)
    with pytest.raises(error, match=message):
        small_model(inputs, training=False)


def test_bad_label_ids_are_caught_inside_a_graph(small_model):
    inputs = inputs_for(small_model.config, frames=1)
    inputs["label_map"][0, 0, 0] = 25
    traced = tf.function(lambda x: small_model(x, training=False))
    with pytest.raises(tf.errors.InvalidArgumentError, match="0..19"):
        traced({key: tf.constant(value) for key, value in inputs.items()})


def test_not_a_dict():
    model = Img2Vid(Img2VidConfig(height=128, width=128, width_multiplier=0.125))
    with pytest.raises(ValueError, match="dict"):
        model(np.zeros((1, 5, 128, 128, 3), np.float32))


@pytest.mark.parametrize("label_mode,channels", [("one_path", 3), ("none", 1), ("none", 3)])
def test_variants_run_with_their_inputs(label_mode, channels):
    config = Img2VidConfig(height=128, width=128, label_mode=label_mode, channels=channels,
                           width_multiplier=0.125)
    model = Img2Vid(config)
    outputs = model(inputs_for(config, batch=2), training=True)
    assert outputs["frames"].shape == (2, 4, 128, 128, channels)
    assert outputs["mu"].shape == (2, 4, 1024)
    if not config.has_labels:
        with pytest.raises(ValueError, match="takes no 'label_map'"):
            model(dict(inputs_for(config), label_map=np.zeros((1, 128, 128), np.int32)))
