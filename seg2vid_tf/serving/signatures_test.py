"""The serving signatures, traced in-process: same video as the Keras pipeline, checks in the graph."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.models import seg2vid
from seg2vid_tf.serving import rest
from seg2vid_tf.serving import signatures
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models, street_label_map

NUM_FRAMES = 5  # more than one round of the model's 4 frames


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    return load_seg2vid(*save_tiny_models(str(tmp_path_factory.mktemp("models"))))


@pytest.fixture(scope="module")
def traced(pipeline):
    """The endpoints as `tf.function`s with their input signatures, as exported."""
    functions = signatures.ServingFunctions(pipeline, NUM_FRAMES)
    return {name: tf.function(fn, input_signature=spec)
            for name, fn, spec in functions.endpoints()}


def _png(array, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_endpoints_with_and_without_stage_one(pipeline):
    names = [name for name, _, _ in signatures.ServingFunctions(pipeline, 2).endpoints()]
    assert names == ["seg2vid", "img2vid", "label2image", "seg2vid_png"]
    video_only = seg2vid.Seg2Vid(pipeline.video_model)
    names = [name for name, _, _ in signatures.ServingFunctions(video_only, 2).endpoints()]
    assert names == ["img2vid"]


def test_seg2vid_gives_the_keras_pipeline_video_for_the_same_seed(pipeline, traced):
    labels = street_label_map()
    expected = pipeline.generate(NUM_FRAMES, seed=11, label_map=labels)
    outputs = traced["seg2vid"](tf.constant(labels), tf.constant([11], tf.int64))
    frames = outputs["frames"].numpy()
    assert frames.dtype == np.uint8 and frames.shape == (1, NUM_FRAMES + 1, SIZE, SIZE, 3)
    # uint8 rounding of the same floats: at most one level apart.
    reference = np.round(np.clip(expected["video"], 0, 1) * 255)
    assert np.max(np.abs(frames.astype(np.float64) - reference)) <= 1
    np.testing.assert_allclose(outputs["flow"].numpy(), expected["flow"], atol=1e-4)
    np.testing.assert_allclose(outputs["occlusion"].numpy(), 1.0 - expected["mask_fw"],
                               atol=1e-5)


def test_each_row_depends_only_on_its_own_seed(traced):
    labels = np.concatenate([street_label_map(), street_label_map()])
    both = traced["seg2vid"](tf.constant(labels), tf.constant([3, 4], tf.int64))["frames"]
    alone = traced["seg2vid"](tf.constant(labels[:1]), tf.constant([4], tf.int64))["frames"]
    both, alone = both.numpy().astype(int), alone.numpy().astype(int)
    # Up to float rounding, which depends on the batch (oneDNN): one uint8 level.
    assert np.max(np.abs(both[1] - alone[0])) <= 1
    assert np.max(np.abs(both[0] - both[1])) > 1


def test_png_signature_matches_the_array_signature(traced):
    labels = street_label_map()
    png = tf.constant([_png(labels[0].astype(np.uint8))])
    encoded = traced["seg2vid_png"](png, tf.constant([2], tf.int64))["frames_png_bytes"].numpy()
    assert encoded.shape == (1, NUM_FRAMES + 1)
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(item))) for item in encoded[0]])
    frames = traced["seg2vid"](tf.constant(labels), tf.constant([2], tf.int64))["frames"]
    np.testing.assert_array_equal(decoded, frames.numpy()[0])


def test_img2vid_and_label2image_compose_to_seg2vid(traced):
    labels = tf.constant(street_label_map())
    seed = tf.constant([9], tf.int64)
    image = traced["label2image"](labels)["image"]
    assert image.dtype == tf.uint8 and image.shape == (1, SIZE, SIZE, 3)
    from_frame = traced["img2vid"](image, labels, seed)["frames"].numpy()
    from_labels = traced["seg2vid"](labels, seed)["frames"].numpy()
    # The painted frame goes through uint8 on the img2vid path only.
    assert np.mean(np.abs(from_frame.astype(int) - from_labels.astype(int))) < 2.0


def test_inputs_declare_their_ranks_and_sizes(pipeline):
    declared = {}
    for name, _, specs in signatures.ServingFunctions(pipeline, 2).endpoints():
        declared[name] = {spec.name: (spec.dtype, spec.shape.as_list()) for spec in specs}
    label_map = (tf.int32, [None, SIZE, SIZE])
    seed = (tf.int64, [None])
    assert declared == {
        "seg2vid": {"label_map": label_map, "seed": seed},
        "img2vid": {"first_frame": (tf.uint8, [None, SIZE, SIZE, 3]), "label_map": label_map,
                    "seed": seed},
        "label2image": {"label_map": label_map},
        "seg2vid_png": {"label_map_png_bytes": (tf.string, [None]), "seed": seed},
    }


@pytest.mark.parametrize("labels, seed, message", [
    (np.zeros((0, SIZE, SIZE), np.int32), [], r"at least one row"),
    (street_label_map() + 20, [1], r"outside the train ids 0\.\.19.*min\] \[20\] \[max\] \[33\]"),
    (street_label_map() - 1, [1], r"outside the train ids.*min\] \[-1\]"),
    (street_label_map(), [1, 2], r"seed must have one entry per row of label_map"),
])
def test_invalid_arrays_fail_with_invalid_argument_naming_the_problem(traced, labels, seed,
                                                                      message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced["seg2vid"](tf.constant(labels, tf.int32), tf.constant(seed, tf.int64))


@pytest.mark.parametrize("name, value, message", [
    ("label_map", street_label_map(size=64),
     r"^label_map must be int32 \[batch, 128, 128\] with at least one row; got shape \[1 64 64\]$"),
    ("label_map", street_label_map()[0], r"label_map must be int32 .*got shape \[128 128\]$"),
    ("label_map", np.zeros((0, SIZE, SIZE), np.int32), r"at least one row; got shape \[0 128 128\]"),
    ("seed", np.array([[1]], np.int64), r"^seed must be int64 \[batch\] with.*got shape \[1 1\]$"),
    ("seed", np.array(1, np.int64), r"^seed must be int64 \[batch\].*got shape \[\]$"),
    ("first_frame", np.zeros((1, SIZE, SIZE, 1), np.uint8),
     r"^first_frame must be uint8 \[batch, 128, 128, 3\].*got shape \[1 128 128 1\]$"),
])
def test_wrong_shapes_are_refused_before_the_model_in_the_graph_checks_words(pipeline, name,
                                                                           value, message):
    # The local server (REST and gRPC) refuses them with check_shapes before running the model.
    specs = {}
    for _, _, endpoint_specs in signatures.ServingFunctions(pipeline, 2).endpoints():
        specs.update({spec.name: spec for spec in endpoint_specs})
    with pytest.raises(rest.RequestError, match=message) as raised:
        rest.check_shapes(specs, {name: value})
    assert raised.value.code == "INVALID_ARGUMENT"
    # A request that fits is let through, and an undeclared rank is left to the graph.
    rest.check_shapes(specs, {"label_map": street_label_map(), "seed": np.array([1, 2])})
    rest.check_shapes({name: tf.TensorSpec(None, specs[name].dtype)}, {name: value})


@pytest.mark.parametrize("payload, message", [
    (b"not a png at all", r"must hold PNG files"),
    (_png(np.zeros((SIZE, SIZE, 3), np.uint8)), r"single-channel.*\[128 128 3\]"),
    (_png(np.zeros((32, 32), np.uint8)), r"single-channel.*128x128.*\[32 32 1\]"),
    (_png(np.full((SIZE, SIZE), 40, np.uint8)), r"outside the train ids"),
    (_png(np.zeros((SIZE, SIZE), np.uint8))[:60], r"PNG"),  # truncated
])
def test_invalid_pngs_fail_with_invalid_argument(traced, payload, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced["seg2vid_png"](tf.constant([payload]), tf.constant([1], tf.int64))


def test_first_frame_and_label_map_rows_must_agree(traced):
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"same number of rows"):
        traced["img2vid"](tf.zeros([2, SIZE, SIZE, 3], tf.uint8), tf.constant(street_label_map()),
                          tf.constant([1, 2], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"seed must have one entry per row of first_frame"):
        traced["img2vid"](tf.zeros([1, SIZE, SIZE, 3], tf.uint8), tf.constant(street_label_map()),
                          tf.constant([1, 2], tf.int64))


def test_num_frames_must_be_positive(pipeline):
    with pytest.raises(ValueError, match="num_frames"):
        signatures.ServingFunctions(pipeline, 0)
