"""Segmenters from local files: stand-ins of every kind, each with a rule the test checks exactly.

Every stand-in below labels a pixel car (train id 13) where its red channel is above 127 and road
(0) elsewhere, so the expected ids come from `red_rule` on the input, never from the code under
test.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.segmentation import segmenters
from seg2vid_tf.training import segmenter as segmenter_training


def red_rule(images):
    """The stand-ins' rule, in NumPy: 13 where red > 127, else 0."""
    return np.where(images[..., 0] > 127, 13, 0).astype(np.int32)


def random_images(count=2, height=6, width=10, seed=0):
    """uint8 images whose red channel avoids 127/128, so no rounding can flip the rule."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, height, width, 3)).astype(np.uint8)
    red = rng.choice(np.array([10, 60, 100, 160, 200, 250], np.uint8), (count, height, width))
    images[..., 0] = red
    return images


def block_images():
    """8x12 images with a red rectangle on even rows/columns 2..5 x 4..9 (and 0..3 x 6..11).

    Its edges fall on even coordinates, so a 2x2 average pool keeps it exact and a bilinear
    resize of half-resolution logits back to 8x12 puts every boundary where it was.
    """
    images = np.full((2, 8, 12, 3), 40, np.uint8)
    images[0, 2:6, 4:10, 0] = 200
    images[1, 0:4, 6:12, 0] = 200
    return images


# --------------------------------------------------------------------------- DeepLab frozen graphs
def write_frozen_graph(path, input_name="ImageTensor", output_name="SemanticPredictions"):
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [1, None, None, 3], name=input_name)
        ids = tf.where(image[..., 0] > 127, tf.constant(13, tf.int64), tf.constant(0, tf.int64))
        tf.identity(ids, name=output_name)
    with open(path, "wb") as handle:
        handle.write(graph.as_graph_def().SerializeToString())
    return str(path)


def test_frozen_graph_with_deeplab_tensor_names_gives_the_rule_ids(tmp_path):
    path = write_frozen_graph(tmp_path / "frozen_inference_graph.pb")
    segmenter = segmenters.load_segmenter(path)
    assert segmenter.kind == "deeplab_frozen_graph"
    assert segmenter.label_space == "cityscapes_train_id"
    # Three images through a graph that takes one at a time: each must come back in order.
    images = random_images(count=3)
    ids = segmenter.segment(images)
    assert ids.dtype == np.int32 and ids.shape == (3, 6, 10)
    np.testing.assert_array_equal(ids, red_rule(images))
    description = segmenter.describe()
    assert "DeepLab frozen graph" in description and path in description


def test_frozen_graph_with_other_tensor_names_is_an_error_naming_the_file(tmp_path):
    path = write_frozen_graph(tmp_path / "other.pb", input_name="input", output_name="output")
    with pytest.raises(ValueError) as error:
        segmenters.load_segmenter(path)
    assert path in str(error.value) and "ImageTensor:0" in str(error.value)
    assert "'input'" in str(error.value)  # the placeholders it does have are listed


def test_garbage_pb_file_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "garbage.pb"
    path.write_bytes(b"\xff\xfe this is not a protobuf \x00\x01\x02" * 8)
    with pytest.raises(ValueError, match="garbage.pb"):
        segmenters.load_segmenter(str(path))


@pytest.mark.parametrize("name", ["garbage.keras", "garbage.h5"])
def test_garbage_keras_file_is_an_error_naming_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not a zip archive nor HDF5" * 8)
    with pytest.raises(ValueError, match=f"{name}.*not a loadable Keras model"):
        segmenters.load_segmenter(str(path))


def test_directory_with_a_garbage_saved_model_pb_is_an_error_naming_it(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\xff\xfe garbage \x00" * 8)
    with pytest.raises(ValueError, match="not a loadable SavedModel"):
        segmenters.load_segmenter(str(tmp_path))


# --------------------------------------------------------------------------- SavedModels
class IdsModule(tf.Module):
    """uint8 images in, class ids out: `high_id` where red > 127, `low_id` elsewhere."""

    def __init__(self, high_id=13, low_id=0):
        super().__init__()
        self.high_id, self.low_id = high_id, low_id

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def serve(self, images):
        return {"class_ids": tf.where(images[..., 0] > 127, self.high_id, self.low_id)}


class HalfResolutionLogitsModule(tf.Module):
    """float images 0..1 in, 14-class logits at half the resolution out.

    Channel 13 is (mean red of each 2x2 block) - 0.5, channel 0 its negative, the rest -10: a
    model that skipped the division by 255 would see every red above 0.5 and call it all car.
    """

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32,
                                                name="pixels")])
    def serve(self, pixels):
        red = tf.nn.avg_pool2d(pixels[..., :1], 2, 2, "VALID") - 0.5
        rest = tf.fill(tf.concat([tf.shape(red)[:3], [12]], 0), -10.0)
        return {"logits": tf.concat([-red, rest, red], axis=-1)}


def save_module(module, path):
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return str(path)


def test_saved_model_returning_uint8_ids_gives_the_rule_ids(tmp_path):
    path = save_module(IdsModule(), tmp_path / "ids_model")
    segmenter = segmenters.load_segmenter(path)
    assert segmenter.kind == "saved_model"
    images = random_images(count=3, height=7, width=9)
    np.testing.assert_array_equal(segmenter.segment(images), red_rule(images))
    assert "TF SavedModel" in segmenter.describe() and path in segmenter.describe()


def test_saved_model_half_resolution_logits_are_resized_and_arg_maxed(tmp_path):
    path = save_module(HalfResolutionLogitsModule(), tmp_path / "logits_model")
    segmenter = segmenters.load_segmenter(path)
    images = block_images()
    ids = segmenter.segment(images)
    # Full resolution again, with the rectangle's edges exactly where they were.
    assert ids.shape == (2, 8, 12)
    np.testing.assert_array_equal(ids, red_rule(images))


def test_ade20k_label_space_maps_road_and_car_to_train_ids(tmp_path):
    # ADE20K: 7 = road, 21 = car; their train ids are 0 and 13, so the rule's ids come back.
    path = save_module(IdsModule(high_id=21, low_id=7), tmp_path / "ade_model")
    segmenter = segmenters.load_segmenter(path, label_space="ade20k")
    assert segmenter.label_space == "ade20k"
    images = random_images()
    raw = segmenter.predict_ids(images)
    np.testing.assert_array_equal(raw, np.where(images[..., 0] > 127, 21, 7))
    np.testing.assert_array_equal(segmenter.segment(images), red_rule(images))


def test_ids_outside_the_stated_label_space_are_an_error_naming_the_space(tmp_path):
    path = save_module(IdsModule(high_id=200), tmp_path / "wide_model")
    segmenter = segmenters.load_segmenter(path)
    with pytest.raises(ValueError) as error:
        segmenter.segment(random_images())
    assert "cityscapes_train_id" in str(error.value) and "[200]" in str(error.value)


def test_unknown_label_space_is_an_error_naming_the_flag(tmp_path):
    path = save_module(IdsModule(), tmp_path / "ids_model")
    with pytest.raises(ValueError, match="--segmenter_label_space"):
        segmenters.load_segmenter(path, label_space="coco")


# --------------------------------------------------------------------------- Keras models
def test_keras_model_with_hand_set_weights_gives_the_rule_ids(tmp_path):
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(14, 1)
    model = keras.Model(inputs, conv(inputs))
    kernel = np.zeros((1, 1, 3, 14), np.float32)
    bias = np.full(14, -10.0, np.float32)
    kernel[0, 0, 0, 13], bias[13] = 1.0, -0.5  # logit 13: red/255 - 0.5
    kernel[0, 0, 0, 0], bias[0] = -1.0, 0.5  # logit 0: its negative
    conv.set_weights([kernel, bias])
    path = str(tmp_path / "red.keras")
    model.save(path)
    segmenter = segmenters.load_segmenter(path)
    assert segmenter.kind == "keras" and segmenter.input_size is None
    images = random_images(count=3, height=5, width=11)
    np.testing.assert_array_equal(segmenter.segment(images), red_rule(images))
    assert "Keras model" in segmenter.describe() and path in segmenter.describe()


# --------------------------------------------------------------------------- paths of no kind
def test_missing_path_is_a_file_not_found_error_naming_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--segmenter"):
        segmenters.load_segmenter(str(tmp_path / "nowhere.pb"))


def test_keras_hub_preset_directory_is_recognised_but_refused(tmp_path):
    for name in ("config.json", "metadata.json"):
        (tmp_path / name).write_text(json.dumps({}))
    with pytest.raises(ValueError, match="keras-hub"):
        segmenters.load_segmenter(str(tmp_path))


def test_directory_of_no_known_kind_is_an_error(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00")
    with pytest.raises(ValueError, match="saved_model.pb"):
        segmenters.load_segmenter(str(tmp_path))


def test_unknown_extension_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x01")
    with pytest.raises(ValueError, match="model.onnx.*unknown kind of file"):
        segmenters.load_segmenter(str(path))


# --------------------------------------------------------------------------- project segmenters
def test_shipped_segmenter_gives_train_ids_at_the_input_size():
    segmenter = segmenters.load_segmenter()
    assert segmenter.kind == "project" and segmenter.path is None
    assert segmenter.label_space == "cityscapes_train_id"
    assert "shipped" in segmenter.describe()
    # 50x70 is not a multiple of the network's stride: the ids must still be 50x70.
    assert segmenter.size_multiple > 1 and 50 % segmenter.size_multiple
    images = random_images(count=2, height=50, width=70)
    ids = segmenter.segment(images)
    assert ids.dtype == np.int32 and ids.shape == (2, 50, 70)
    assert ids.min() >= 0 and ids.max() <= 18


def test_project_segmenter_refuses_another_label_space(tmp_path):
    # The shipped one and one in a checkpoint directory both speak only train ids.
    with pytest.raises(ValueError, match="cityscapes_train_id"):
        segmenters.load_segmenter(label_space="ade20k")
    (tmp_path / segmenter_training.SEGMENTER_CONFIG_FILENAME).write_text(json.dumps({}))
    with pytest.raises(ValueError, match="--segmenter_label_space must be cityscapes_train_id"):
        segmenters.load_segmenter(str(tmp_path), label_space="ade20k")
