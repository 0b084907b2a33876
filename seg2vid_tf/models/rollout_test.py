"""Rounds of long videos: the reference's chaining and the composed departures."""

import types

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.models import rollout as rollout_lib
from seg2vid_tf.models import seg2vid
from seg2vid_tf.ops.warp import normalized_to_pixel_flow, pixel_to_normalized_flow, warp

H, W, T = 16, 40, 4
STEP = 0.375  # px per frame to the right: a round ends at 1.5 px, two rounds at 3 px


class _HalfPixelModel:
    """A stand-in img2vid: every frame of a round moves the start 0.375 px per frame to the
    right (masks 1), frames = warped start; its refine step is the identity."""

    def __init__(self):
        self.config = types.SimpleNamespace(
            num_predicted_frames=T, latent_rows=1, height=H, width=W, channels=3,
            has_labels=True)
        self.latents = []

    def __call__(self, inputs, training=False):
        del training
        if tf.executing_eagerly():  # traced (a `tf.function` rollout) there is nothing to record
            self.latents.append(inputs["z"].numpy())
        start = inputs["video"][:, 0]
        batch = start.shape[0]
        flows = []
        for t in range(T):
            pixel = np.zeros((batch, H, W, 2), np.float32)
            pixel[..., 1] = STEP * (t + 1)  # (dy, dx)
            flows.append(pixel_to_normalized_flow(pixel))
        flow = tf.stack(flows, axis=1)
        frames = tf.stack([warp(start, flow[:, t]) for t in range(T)], axis=1)
        ones = tf.ones((batch, T, H, W))
        return {"frames": frames, "flow": flow, "flow_back": -flow, "mask_fw": ones,
                "mask_bw": ones}

    def refine(self, images, training=False):
        del training
        return images


def _scene():
    rng = np.random.default_rng(3)
    labels = np.zeros((1, H, W), np.int32)
    labels[:, :, 10:14] = 13  # a car 4 px wide
    labels[:, :, 24:25] = 5   # a pole 1 px wide: half-pixel steps smear it first
    frame = rng.uniform(0.0, 1.0, (1, H, W, 3)).astype(np.float32)
    return tf.constant(frame), tf.constant(labels)


def _roll(options, num_frames=2 * T):
    model = _HalfPixelModel()
    pipeline = seg2vid.Seg2Vid(model, rollout_options=options)
    frame, labels = _scene()
    result = rollout_lib.rollout(pipeline, frame, labels, tf.constant([7], tf.int64), num_frames,
                                 options)
    return result, frame.numpy(), labels.numpy(), model


def test_composed_warps_move_the_first_frame_and_map_once_by_the_whole_motion():
    """After two rounds of 1.5 px the content has moved 3 px: composed, the first frame and
    map shifted by exactly 3 px (one resampling at an integer shift); chained as in the
    reference, two half-pixel resamplings blur the frame and smear the 1-px pole."""
    composed, frame, labels, _ = _roll(rollout_lib.RolloutOptions(label_warp="composed",
                                                                  frame_warp="composed"))
    reference, _, _, _ = _roll(rollout_lib.RolloutOptions())
    shifted_frame = frame[0, :, :-3]  # content moved right: output x reads input x - 3
    shifted_labels = labels[0, :, :-3]
    np.testing.assert_allclose(composed["video"][0, -1, :, 3:], shifted_frame, atol=1e-5)
    np.testing.assert_array_equal(composed["label_maps"][0, -1, :, 3:], shifted_labels)
    assert np.abs(reference["video"][0, -1, :, 3:] - shifted_frame).mean() > 0.05
    assert not np.array_equal(reference["label_maps"][0, -1, :, 3:], shifted_labels)
    # Within the first round both are the model's own frames.
    np.testing.assert_allclose(composed["video"][0, :T + 1], reference["video"][0, :T + 1],
                               atol=1e-5)


def test_the_latent_is_carried_or_resampled_per_round():
    _, _, _, carried = _roll(rollout_lib.RolloutOptions(), num_frames=3 * T)
    _, _, _, resampled = _roll(rollout_lib.RolloutOptions(latent="resample"), num_frames=3 * T)
    assert all(np.array_equal(z, carried.latents[0]) for z in carried.latents)
    np.testing.assert_array_equal(resampled.latents[0], carried.latents[0])
    assert not np.array_equal(resampled.latents[1], resampled.latents[0])
    assert not np.array_equal(resampled.latents[2], resampled.latents[1])


def test_repainting_blends_stage_one_into_each_next_start_frame():
    """With `repaint_weight=w` round 2 starts from `(1 - w) * last frame + w * painted`."""
    model = _HalfPixelModel()
    painted = np.full((1, H, W, 3), 0.25, np.float32)
    options = rollout_lib.RolloutOptions(repaint_weight=0.5)
    pipeline = seg2vid.Seg2Vid(model, rollout_options=options)
    pipeline.painter = object()  # stage 1 present; its painting is stubbed below
    pipeline.paint_tensor = lambda label_map: tf.constant(painted)
    frame, labels = _scene()
    result = rollout_lib.rollout(pipeline, frame, labels, tf.constant([7], tf.int64), T + 1,
                                 options)
    start = 0.5 * result["video"][:, T] + 0.5 * painted
    expected = warp(tf.constant(start), pixel_to_normalized_flow(
        np.stack([np.zeros((1, H, W)), np.full((1, H, W), STEP)], -1).astype(np.float32)))
    np.testing.assert_allclose(result["video"][:, T + 1], expected, atol=1e-5)


def _box_mean_inside(image, size):
    """Mean over the `size` x `size` window clipped to the image, per pixel and channel."""
    half = size // 2
    out = np.empty_like(image)
    for y in range(image.shape[0]):
        for x in range(image.shape[1]):
            window = image[max(0, y - half):y + half + 1, max(0, x - half):x + half + 1]
            out[y, x] = window.mean(axis=(0, 1))
    return out


@pytest.mark.parametrize("label_maps", [True, False])  # False: the signatures' rollout
def test_detail_adds_stage_ones_fine_structure_to_every_predicted_frame(label_maps):
    """With `detail_weight=g` frame t is `clip(frame_t + g * (painted - box5(painted)))`."""
    model = _HalfPixelModel()
    rng = np.random.default_rng(5)
    painted = rng.uniform(0.0, 1.0, (1, H, W, 3)).astype(np.float32)
    options = rollout_lib.RolloutOptions(detail_weight=0.4)
    pipeline = seg2vid.Seg2Vid(model, rollout_options=options)
    pipeline.painter = object()  # stage 1 present; its painting is stubbed below
    pipeline.paint_tensor = lambda label_map: tf.constant(painted)
    frame, labels = _scene()
    result = rollout_lib.rollout(pipeline, frame, labels, tf.constant([7], tf.int64), T, options,
                                 label_maps=label_maps)
    plain, _, _, _ = _roll(rollout_lib.RolloutOptions(), num_frames=T)
    detail = painted[0] - _box_mean_inside(painted[0], rollout_lib.DETAIL_POOL)
    assert np.abs(detail).mean() > 0.1  # the check below is not trivially met
    for t in range(1, T + 1):
        expected = np.clip(plain["video"][0, t] + 0.4 * detail, 0.0, 1.0)
        np.testing.assert_allclose(result["video"][0, t], expected, atol=1e-5)
    np.testing.assert_array_equal(result["video"][0, 0], frame[0])  # the first frame stays


@pytest.mark.parametrize("field, value, flag", [("label_warp", "x", "--label_warp"),
                                                ("frame_warp", "x", "--frame_warp"),
                                                ("latent", "x", "--latent_per_round"),
                                                ("repaint_weight", 1.5, "--repaint_weight"),
                                                ("detail_weight", -0.1, "--detail_weight")])
def test_bad_options_name_their_flag(field, value, flag):
    with pytest.raises(ValueError, match=flag):
        rollout_lib.RolloutOptions(**{field: value})


def test_one_pipeline_traced_with_two_options_follows_each():
    """Traced calls are cached per pipeline; a second rollout with other options (here
    `detail_weight`) must not reuse the first one's trace."""
    rng = np.random.default_rng(6)
    painted = rng.uniform(0.0, 1.0, (1, H, W, 3)).astype(np.float32)
    pipeline = seg2vid.Seg2Vid(_HalfPixelModel())
    pipeline.painter = object()  # stage 1 present; its painting is stubbed below
    pipeline.paint_tensor = lambda label_map: tf.constant(painted)
    frame, labels = _scene()
    seeds = tf.constant([7], tf.int64)

    def traced(options):
        return tf.function(lambda: rollout_lib.rollout(pipeline, frame, labels, seeds, T,
                                                       options)["video"])().numpy()

    with_detail = traced(rollout_lib.RolloutOptions(detail_weight=0.4))
    plain = traced(rollout_lib.RolloutOptions())
    eager_plain = rollout_lib.rollout(pipeline, frame, labels, seeds, T,
                                      rollout_lib.RolloutOptions())["video"].numpy()
    np.testing.assert_allclose(plain, eager_plain, atol=1e-5)
    assert np.abs(with_detail - plain)[:, 1:].mean() > 0.01


def test_pixel_flow_is_the_warps_unit_in_x_y_order():
    flow = tf.random.stateless_uniform([2, 3, 6, 10, 2], seed=[0, 1], minval=-1.0, maxval=1.0)
    pixels = rollout_lib._pixel_flow(flow)  # pylint: disable=protected-access
    merged = tf.reshape(flow, [6, 6, 10, 2])
    expected = tf.reverse(normalized_to_pixel_flow(merged), axis=[-1])
    np.testing.assert_array_equal(pixels.numpy(), tf.reshape(expected, [2, 3, 6, 10, 2]).numpy())


@pytest.mark.parametrize("options", [rollout_lib.RolloutOptions(),
                                     rollout_lib.RolloutOptions(label_warp="composed",
                                                                frame_warp="composed")])
@pytest.mark.parametrize("num_frames", [T - 1, 2 * T + 1])
def test_without_label_maps_the_video_is_the_same(options, num_frames):
    """The signatures' rollout (no label maps returned): whole rounds where nothing is carried
    frame by frame, the same frames, flows and masks."""
    with_maps, _, _, _ = _roll(options, num_frames)
    pipeline = seg2vid.Seg2Vid(_HalfPixelModel(), rollout_options=options)
    frame, labels = _scene()
    without = rollout_lib.rollout(pipeline, frame, labels, tf.constant([7], tf.int64),
                                  num_frames, options, label_maps=False)
    assert "label_maps" not in without and with_maps["label_maps"].shape[1] == num_frames + 1
    for key in ("video", "flow", "mask_fw", "mask_bw"):
        np.testing.assert_array_equal(without[key].numpy(), with_maps[key].numpy())
