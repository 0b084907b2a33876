"""The seg2vid pipeline: label warping, long videos, seeds, both stages from checkpoints."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.models import seg2vid
from seg2vid_tf.ops.warp import pixel_to_normalized_flow
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models, street_label_map


# --------------------------------------------------------------------------- label warping
def test_constant_flow_shifts_the_label_map():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 20, size=(2, 16, 24)).astype(np.int32)
    dx, dy = 3.0, -2.0  # content moves 3 px right and 2 px up
    pixel_flow = np.zeros((2, 16, 24, 2), np.float32)
    pixel_flow[..., 0], pixel_flow[..., 1] = dy, dx  # dense_image_warp order (dy, dx)
    warped = seg2vid.warp_label_map(labels, pixel_to_normalized_flow(pixel_flow)).numpy()
    expected = labels.copy()  # uncovered pixels keep their previous label
    expected[:, :-2, 3:] = labels[:, 2:, :-3]
    np.testing.assert_array_equal(warped, expected)


def test_zero_flow_keeps_the_label_map():
    labels = street_label_map()
    warped = seg2vid.warp_label_map(labels, np.zeros(labels.shape + (2,), np.float32))
    np.testing.assert_array_equal(warped.numpy(), labels)


# --------------------------------------------------------------------------- label ids
def test_cityscapes_ids_map_to_train_ids_by_the_standard_table():
    # cityscapesScripts labels.py: road 7 -> 0, building 11 -> 2, sky 23 -> 10, car 26 -> 13,
    # bicycle 33 -> 18, unlabeled 0 / parking 9 / caravan 29 -> ignored (void 19 here).
    ids = np.array([[7, 11, 23, 26, 33, 0, 9, 29]])
    np.testing.assert_array_equal(seg2vid.cityscapes_to_train_ids(ids),
                                  [[0, 2, 10, 13, 18, 19, 19, 19]])
    with pytest.raises(ValueError, match=r"0\.\.33, found \[34, 40\]"):
        seg2vid.cityscapes_to_train_ids(np.array([1, 34, 40]))


@pytest.mark.parametrize("channels, label_channel_of_road", [(20, 0), (21, 0), (35, 7), (36, 7)])
def test_painter_input_matches_the_generator_label_set(channels, label_channel_of_road):
    labels = street_label_map(size=32)
    inputs = seg2vid.painter_input(labels, channels).numpy()
    assert inputs.shape == (1, 32, 32, channels)
    assert inputs[0, -1, 0, label_channel_of_road] == 1.0  # bottom-left pixel is road
    if channels in (21, 36):
        edges = inputs[..., -1]
        assert edges[0, 32 // 3, 5] == 1.0 and edges[0, 2, 5] == 0.0  # sky/building boundary
    with pytest.raises(ValueError, match="24 input channels is not supported"):
        seg2vid.painter_input(labels, 24)


# --------------------------------------------------------------------------- generation
def test_twelve_frames_from_one_label_map(pipeline):
    result = pipeline.generate(12, seed=3, label_map=street_label_map())
    assert result["video"].shape == (1, 13, SIZE, SIZE, 3)
    assert result["label_maps"].shape == (1, 13, SIZE, SIZE)
    assert result["flow"].shape == (1, 12, SIZE, SIZE, 2)
    assert result["mask_fw"].shape == result["mask_bw"].shape == (1, 12, SIZE, SIZE)
    np.testing.assert_array_equal(result["label_maps"][:, 0], street_label_map())
    np.testing.assert_allclose(result["video"][:, 0], result["first_frame"])
    short = pipeline.generate(6, seed=3, label_map=street_label_map())
    assert short["video"].shape[1] == 7
    np.testing.assert_array_equal(short["video"], result["video"][:, :7])


def test_same_seed_same_video_different_seed_different(pipeline):
    first = pipeline.generate(5, seed=7, label_map=street_label_map())
    again = pipeline.generate(5, seed=7, label_map=street_label_map())
    other = pipeline.generate(5, seed=8, label_map=street_label_map())
    np.testing.assert_array_equal(first["video"], again["video"])
    assert np.abs(first["video"][:, 1:] - other["video"][:, 1:]).max() > 1e-4
    # The painted first frame does not depend on the seed.
    np.testing.assert_array_equal(first["video"][:, 0], other["video"][:, 0])


class _RecordingModel:
    """Wraps an Img2Vid and records every call's inputs and outputs."""

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self.calls = []

    def __call__(self, inputs, training=None):
        outputs = self.model(inputs, training=training)
        self.calls.append(({k: np.asarray(v) for k, v in inputs.items()},
                           {k: np.asarray(v) for k, v in outputs.items()}))
        return outputs


def test_each_round_restarts_from_the_last_frame_and_the_warped_labels(pipeline):
    recorder = _RecordingModel(pipeline.video_model)
    result = seg2vid.Seg2Vid(recorder, pipeline.painter).generate(
        9, seed=1, label_map=street_label_map())
    assert len(recorder.calls) == 3  # 4 + 4 + 1 frames
    for (previous_in, previous_out), (current_in, _) in zip(recorder.calls, recorder.calls[1:]):
        np.testing.assert_array_equal(current_in["video"][:, 0], previous_out["frames"][:, 3])
        masked_flow = previous_out["flow"][:, 3] * previous_out["mask_fw"][:, 3][..., None]
        np.testing.assert_array_equal(
            current_in["label_map"],
            seg2vid.warp_label_map(previous_in["label_map"], masked_flow).numpy())
        np.testing.assert_array_equal(current_in["z"], previous_in["z"])
        assert np.abs(current_in["noise"] - previous_in["noise"]).max() > 0
    np.testing.assert_array_equal(result["label_maps"][:, 4], recorder.calls[1][0]["label_map"])
    np.testing.assert_array_equal(result["video"][:, 5:9], recorder.calls[1][1]["frames"])


def test_no_label_model_works_from_the_first_frame_alone(tmp_path):
    img2vid_dir, _ = save_tiny_models(str(tmp_path), label_mode="none")
    pipeline = load_seg2vid(img2vid_dir)
    frame = np.random.default_rng(0).uniform(size=(1, SIZE, SIZE, 3)).astype(np.float32)
    result = pipeline.generate(5, seed=0, first_frame=frame)
    assert result["video"].shape == (1, 6, SIZE, SIZE, 3) and "label_maps" not in result
    np.testing.assert_allclose(result["video"][:, 0], frame)


def test_bad_arguments_are_named(pipeline):
    labels = street_label_map()
    labels[0, 0, :2] = [20, 25]
    with pytest.raises(ValueError, match=r"ids \[20, 25\] outside the train ids"):
        pipeline.generate(4, seed=0, label_map=labels)
    with pytest.raises(ValueError, match="label-conditioned"):
        pipeline.generate(4, seed=0, first_frame=np.zeros((1, SIZE, SIZE, 3), np.float32))
    with pytest.raises(ValueError, match="num_frames must be an integer >= 1"):
        pipeline.generate(0, seed=0, label_map=street_label_map())
    with pytest.raises(ValueError, match=r"label_map must be \[batch, 128, 128\]"):
        pipeline.generate(4, seed=0, label_map=street_label_map(size=64))
    with pytest.raises(ValueError, match="--label2image_checkpoint_dir"):
        seg2vid.Seg2Vid(pipeline.video_model).paint(street_label_map())


def test_missing_checkpoint_directories_name_their_flags(model_dirs, tmp_path):
    with pytest.raises(FileNotFoundError, match="--checkpoint_dir"):
        load_seg2vid(str(tmp_path / "missing"))
    img2vid_dir, _ = model_dirs
    with pytest.raises(FileNotFoundError, match="--label2image_checkpoint_dir"):
        load_seg2vid(img2vid_dir, str(tmp_path / "missing"))


def test_label_warp_follows_the_frame_warp():
    """A pure translation moves labels and frame content alike (docs/method.md, "Long videos")."""
    from seg2vid_tf.ops.warp import warp  # pylint: disable=import-outside-toplevel

    labels = street_label_map(size=64)
    frame = tf.one_hot(labels, 20)[..., 13:14]  # the car as an image
    pixel_flow = np.zeros((1, 64, 64, 2), np.float32)
    pixel_flow[..., 1] = 5.0
    flow = pixel_to_normalized_flow(pixel_flow)
    car_in_frame = warp(frame, flow).numpy()[0, ..., 0] > 0.5
    car_in_labels = seg2vid.warp_label_map(labels, flow).numpy()[0] == 13
    np.testing.assert_array_equal(car_in_frame, car_in_labels)
