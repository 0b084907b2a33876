"""Exact parity with the PyTorch reference for the three released img2vid variants.

One fixture per variant (`tests/data/<name>_fixture_128x128.npz` with its
`<name>_manifest.json`): two-path (background and foreground motion encoders),
one-path (one motion encoder over the 20-class label volume) and no-label
grayscale (no label map, 1-channel frames, nearest-neighbour upsampling). The
weights are rebuilt from the manifest by the fixture's rule, loaded through the
converter, which must recognize the variant on its own, and every stored output
and loss must be within the tolerance the fixture stores for it (`tol/<key>`:
absolute for outputs, relative for losses).
"""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import convert, losses
from seg2vid_tf.models.img2vid import OUTPUT_KEYS
from seg2vid_tf.testing.reference_weights import load_manifest, reference_weights

DATA = os.path.join(os.path.dirname(__file__), "data")
SIZE = 128


@dataclasses.dataclass(frozen=True)
class Variant:
    """A reference fixture and what the converter must make of its weights."""

    name: str  # File stem: `<name>_fixture_128x128.npz`, `<name>_manifest.json`.
    label_mode: str
    channels: int


VARIANTS = (
    Variant("img2vid", "two_path", 3),
    Variant("img2vid_onepath", "one_path", 3),
    Variant("img2vid_nolabel_gray", "none", 1),
)


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda variant: variant.label_mode)
def variant(request):
    return request.param


@pytest.fixture(scope="module")
def fixture(variant):
    path = os.path.join(DATA, f"{variant.name}_fixture_{SIZE}x{SIZE}.npz")
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def state_dict(variant, fixture):
    manifest = load_manifest(os.path.join(DATA, f"{variant.name}_manifest.json"))
    return reference_weights(manifest, int(fixture["weight_seed"]))


@pytest.fixture(scope="module")
def converted(variant, state_dict):
    """The converter must recognize the variant from the weights alone."""
    network = convert.img2vid_from_reference(state_dict, height=SIZE, width=SIZE)
    assert (network.config.label_mode, network.config.channels) == (
        variant.label_mode, variant.channels), network.config
    return network


@pytest.fixture
def model(converted):
    """The converted model as loaded: training-mode calls update the batch-norm
    statistics, so every variable is put back after each test."""
    saved = [variable.numpy() for variable in converted.variables]
    yield converted
    for variable, value in zip(converted.variables, saved):
        variable.assign(value)


@pytest.fixture(scope="module")
def perceptual(state_dict):
    return convert.vgg19_from_reference(state_dict)


def to_channels_last(key, value):
    """Reference layout -> the port's layout for output `key`."""
    if key in ("warped", "frames"):  # [B, T, C, H, W]
        return np.transpose(value, (0, 1, 3, 4, 2))
    if key in ("flow", "flow_back"):  # [B, C, T, H, W]
        return np.transpose(value, (0, 2, 3, 4, 1))
    if key in ("mu", "logvar"):  # [B*R, 1024], sample-major
        return value.reshape(2, -1, 1024)
    return value


def video_of(fixture):
    return np.transpose(fixture["video"], (0, 1, 3, 4, 2))


def model_inputs(fixture):
    inputs = {
        "video": video_of(fixture),
        "noise": np.transpose(fixture["noise_bg"], (0, 2, 3, 1)),
        "z": fixture["z"].reshape(2, -1, 1024),
    }
    if "label_map" in fixture:
        inputs["label_map"] = fixture["label_map"]
    return inputs


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
    """The reference's nine terms and the total (the departures weigh 0 by default)."""
    assert all(float(computed[key]) == 0.0 for key in losses.DEPARTURE_LOSS_KEYS)
    failures = []
    for key in losses.REFERENCE_LOSS_KEYS + ("total",):
        expected = float(fixture[f"loss/{key}"])
        relative = abs(float(computed[key]) - expected) / abs(expected)
        if not relative <= float(fixture[f"tol/loss/{key}"]):
            failures.append((key, float(computed[key]), expected, relative))
    assert not failures, f"losses beyond tolerance (key, got, expected, rel): {failures}"


def test_fixture_inputs_are_consistent(variant, fixture):
    """The fixture's one-hot masks are the port's label volumes; shapes fit the variant."""
    assert fixture["video"].shape == (2, 5, variant.channels, SIZE, SIZE)
    assert fixture["noise_bg"].shape == (2, variant.channels, SIZE, SIZE)
    assert fixture["z"].shape == (2 * 4, 1024)
    if variant.label_mode == "none":
        assert not {"label_map", "mask", "bg_mask", "fg_mask"} & set(fixture)
        return
    labels = fixture["label_map"]
    if variant.label_mode == "two_path":  # bg ids 0..10, fg ids 11..19
        np.testing.assert_array_equal(fixture["bg_mask"].argmax(1)[labels <= 10], labels[labels <= 10])
        np.testing.assert_array_equal(fixture["fg_mask"].argmax(1)[labels >= 11], labels[labels >= 11] - 11)
    else:
        np.testing.assert_array_equal(
            fixture["mask"], np.moveaxis(np.eye(20, dtype=np.float32)[labels], -1, 1))


def test_inference_and_training_outputs_and_losses_match_reference(fixture, model, perceptual):
    inputs = model_inputs(fixture)

    # Batch norm in inference mode (running statistics) first: training mode updates them.
    assert_outputs_match(model(inputs, training=False), fixture, "eval")
    train_outputs = model(inputs, training=True)
    assert_outputs_match(train_outputs, fixture, "train")

    # End to end: the losses of the port's own training-mode outputs.
    assert_losses_match(losses.img2vid_losses(inputs["video"], train_outputs, perceptual), fixture)


def test_losses_of_reference_outputs_match(fixture, perceptual):
    """The loss code alone, fed the reference's own training-mode outputs."""
    outputs = {key: tf.constant(to_channels_last(key, fixture[f"train/{key}"])) for key in OUTPUT_KEYS}
    assert_losses_match(losses.img2vid_losses(video_of(fixture), outputs, perceptual), fixture)


def test_traced_graph_gives_the_same_outputs(fixture, model):
    """The exported path (tf.function) computes what eager mode does."""
    inputs = {key: tf.constant(value) for key, value in model_inputs(fixture).items()}
    traced = tf.function(lambda x: model(x, training=False))
    assert_outputs_match(traced(inputs), fixture, "eval")
