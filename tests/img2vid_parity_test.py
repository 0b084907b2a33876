"""Exact parity with the PyTorch reference on `img2vid_fixture_128x128.npz`.

The weights are rebuilt from the manifest by the fixture's rule, loaded through
the converter, and every stored output and loss must be within the tolerance the
fixture stores for it (`tol/<key>`: absolute for outputs, relative for losses).
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import convert, losses
from seg2vid_tf.models.img2vid import OUTPUT_KEYS
from seg2vid_tf.testing.reference_weights import load_manifest, reference_weights

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture(scope="module")
def fixture():
    with np.load(os.path.join(DATA, "img2vid_fixture_128x128.npz")) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def state_dict(fixture):
    manifest = load_manifest(os.path.join(DATA, "img2vid_manifest.json"))
    return reference_weights(manifest, int(fixture["weight_seed"]))


def to_channels_last(key, value):
    """Reference layout -> the port's layout for output `key`."""
    if key in ("warped", "frames"):  # [B, T, C, H, W]
        return np.transpose(value, (0, 1, 3, 4, 2))
    if key in ("flow", "flow_back"):  # [B, C, T, H, W]
        return np.transpose(value, (0, 2, 3, 4, 1))
    if key in ("mu", "logvar"):  # [B*R, 1024], sample-major
        return value.reshape(2, -1, 1024)
    return value


def model_inputs(fixture):
    return {
        "video": np.transpose(fixture["video"], (0, 1, 3, 4, 2)),
        "label_map": fixture["label_map"],
        "noise": np.transpose(fixture["noise_bg"], (0, 2, 3, 1)),
        "z": fixture["z"].reshape(2, -1, 1024),
    }


def assert_outputs_match(outputs, fixture, mode):
    report = []
    for key in OUTPUT_KEYS:
        expected = to_channels_last(key, fixture[f"{mode}/{key}"])
        actual = outputs[key].numpy()
        assert actual.shape == expected.shape, (key, actual.shape, expected.shape)
        error = float(np.abs(actual - expected).max())
        tolerance = float(fixture[f"tol/{mode}/{key}"])
        report.append((key, error, tolerance))
    failures = [row for row in report if not row[1] <= row[2]]
    assert not failures, f"{mode} outputs beyond tolerance (key, max error, tol): {failures}"


def assert_losses_match(computed, fixture):
    failures = []
    for key in losses.LOSS_KEYS + ("total",):
        expected = float(fixture[f"loss/{key}"])
        relative = abs(float(computed[key]) - expected) / abs(expected)
        if not relative <= float(fixture[f"tol/loss/{key}"]):
            failures.append((key, float(computed[key]), expected, relative))
    assert not failures, f"losses beyond tolerance (key, got, expected, rel): {failures}"


def test_fixture_inputs_are_consistent(fixture):
    """The one-hot masks of the fixture are the port's label split (bg 0..10, fg 11..19)."""
    labels = fixture["label_map"]
    np.testing.assert_array_equal(fixture["bg_mask"].argmax(1)[labels <= 10], labels[labels <= 10])
    np.testing.assert_array_equal(fixture["fg_mask"].argmax(1)[labels >= 11], labels[labels >= 11] - 11)
    assert fixture["z"].shape == (2 * 4, 1024)


def test_inference_and_training_outputs_and_losses_match_reference(fixture, state_dict):
    model = convert.img2vid_from_reference(state_dict, height=128, width=128)
    perceptual = convert.vgg19_from_reference(state_dict)
    inputs = model_inputs(fixture)

    # Batch norm in inference mode (running statistics) first: training mode updates them.
    assert_outputs_match(model(inputs, training=False), fixture, "eval")
    train_outputs = model(inputs, training=True)
    assert_outputs_match(train_outputs, fixture, "train")

    # End to end: the losses of the port's own training-mode outputs.
    assert_losses_match(losses.img2vid_losses(inputs["video"], train_outputs, perceptual), fixture)


def test_losses_of_reference_outputs_match(fixture, state_dict):
    """The loss code alone, fed the reference's own training-mode outputs."""
    outputs = {key: tf.constant(to_channels_last(key, fixture[f"train/{key}"])) for key in OUTPUT_KEYS}
    perceptual = convert.vgg19_from_reference(state_dict)
    video = np.transpose(fixture["video"], (0, 1, 3, 4, 2))
    assert_losses_match(losses.img2vid_losses(video, outputs, perceptual), fixture)


def test_traced_graph_gives_the_same_outputs(fixture, state_dict):
    """The exported path (tf.function) computes what eager mode does."""
    model = convert.img2vid_from_reference(state_dict, height=128, width=128)
    inputs = {key: tf.constant(value) for key, value in model_inputs(fixture).items()}
    traced = tf.function(lambda x: model(x, training=False))
    assert_outputs_match(traced(inputs), fixture, "eval")
