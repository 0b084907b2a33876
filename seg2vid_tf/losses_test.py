"""The departure terms of the img2vid losses (the reference's nine: tests/img2vid_parity_test.py)."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import losses
from seg2vid_tf.ops.warp import normalized_to_pixel_flow


def _texture(size=32, seed=0):
    """A smooth random texture `[1, size, size, 1]` (4x4 noise, bilinearly enlarged)."""
    coarse = np.random.default_rng(seed).random((1, 4, 4, 1)).astype(np.float32)
    return tf.image.resize(coarse, [size, size], method="bilinear")


def _uniform_flow(dx_pixels, size=32, frames=1):
    """Normalized flow `[1, T, H, W, 2]` that samples the start frame dx pixels to the left."""
    fx = 2.0 * dx_pixels / (size - 1)
    return tf.concat([tf.fill([1, frames, size, size, 1], fx),
                      tf.zeros([1, frames, size, size, 1])], axis=-1)


def test_coarse_reconstruction_by_hand():
    start = tf.zeros([1, 8, 8, 3])
    target = tf.ones([1, 2, 8, 8, 3])
    flow = tf.zeros([1, 2, 8, 8, 2])
    mask = tf.ones([1, 2, 8, 8, 1])
    # Each scale: mean |0 - 1| over the pooled frames = 1.
    assert float(losses.coarse_reconstruction(start, target, flow, mask, (2, 4))) == 2.0
    assert float(losses.coarse_reconstruction(start, target, flow, mask, (4,))) == 1.0
    assert float(losses.coarse_reconstruction(start, target, flow, 0.0 * mask, (2, 4))) == 0.0


@pytest.mark.parametrize("factors", [(), (1, 2), (2, 8), (2.0,), (3,)])
def test_factors_outside_two_to_half_the_frame_are_refused(factors):
    with pytest.raises(ValueError, match=r"--recon_coarse_factors must be integers from 2 to 4 "
                                         r"\(half of the 8x8 frame\)"):
        losses.coarse_reconstruction(tf.zeros([1, 8, 8, 3]), tf.ones([1, 2, 8, 8, 3]),
                                     tf.zeros([1, 2, 8, 8, 2]), tf.ones([1, 2, 8, 8, 1]), factors)


def test_numpy_integer_factors_are_integers():
    factors = tuple(np.array([2, 4], np.int64))
    assert float(losses.coarse_reconstruction(
        tf.zeros([1, 8, 8, 3]), tf.ones([1, 2, 8, 8, 3]), tf.zeros([1, 2, 8, 8, 2]),
        tf.ones([1, 2, 8, 8, 1]), factors)) == 2.0


def test_the_flow_unit_is_the_warps():
    """A normalized fx of 2 / (W - 1) is one pixel of the full frame."""
    pixels = normalized_to_pixel_flow(_uniform_flow(1.0)[:, 0])
    np.testing.assert_allclose(pixels[..., 1].numpy(), 1.0, rtol=1e-6)


def test_the_true_shift_scores_lower_and_the_gradient_points_to_it():
    start = _texture()
    true_shift = 3.0
    target = tf.roll(start, shift=3, axis=2)[:, None]  # content 3 pixels to the right
    mask = tf.pad(tf.ones([1, 1, 32, 20, 1]), [[0, 0], [0, 0], [0, 0], [6, 6], [0, 0]])
    at_truth = losses.coarse_reconstruction(start, target, _uniform_flow(true_shift), mask, (2, 4))
    at_zero = losses.coarse_reconstruction(start, target, _uniform_flow(0.0), mask, (2, 4))
    assert float(at_truth) < 0.5 * float(at_zero)
    shift = tf.Variable(0.0)
    with tf.GradientTape() as tape:
        flow = _uniform_flow(1.0) * shift
        loss = losses.coarse_reconstruction(start, target, flow, mask, (2, 4))
    # Sampling p - f(p): a positive x flow reads content from the left, where it came from.
    assert float(tape.gradient(loss, shift)) < 0.0


def test_departures_weigh_nothing_by_default():
    assert all(losses.DEFAULT_WEIGHTS[key] == 0.0 for key in losses.DEPARTURE_LOSS_KEYS)
    assert set(losses.LOSS_KEYS) == set(losses.DEFAULT_WEIGHTS)


@pytest.mark.parametrize("size, shift, factors", [(32, 4, (2, 4)), (64, 16, (2, 4, 8, 16))])
def test_an_exact_shift_is_reconstructed_exactly_at_every_scale(size, shift, factors):
    """Content moved by a multiple of every factor: the true flow leaves no error.

    Without the rescaling of the pooled flow to its grid the warp falls short by
    (W - s) / (W - 1) of the shift (11% at W = 32, s = 4) and the error is not 0.
    """
    start = tf.random.stateless_uniform([1, size, size, 3], seed=[1, 2])
    target = tf.roll(start, shift=shift, axis=2)[:, None]
    mask = tf.pad(tf.ones([1, 1, size, size // 2, 1]),
                  [[0, 0], [0, 0], [0, 0], [size // 4, size // 4], [0, 0]])
    loss = losses.coarse_reconstruction(start, target, _uniform_flow(float(shift), size), mask,
                                        factors)
    assert float(loss) < 1e-5
    assert float(losses.coarse_reconstruction(start, target, _uniform_flow(0.0, size), mask,
                                              factors)) > 0.05


def test_a_term_weighted_zero_is_summed_without_its_gradient():
    x = tf.Variable(3.0)
    weights = dict(losses.DEFAULT_WEIGHTS, recon=0.0, mask=0.5)
    with tf.GradientTape(persistent=True) as tape:
        terms = {key: tf.constant(1.0) for key in losses.LOSS_KEYS}
        terms["recon"] = x * x
        terms["mask"] = 2.0 * x
        total = losses.weighted_total(terms, weights)
    expected = sum(weights[key] for key in losses.LOSS_KEYS if key not in ("recon", "mask"))
    np.testing.assert_allclose(float(total), expected + 0.5 * 6.0)
    np.testing.assert_allclose(float(tape.gradient(total, x)), 1.0)  # the mask term's only
    # A weight that is a tensor (a warm-up ramp) may be 0 now and not later: differentiated.
    weights["recon"] = tf.constant(0.0)
    with tf.GradientTape() as tape:
        terms["recon"] = x * x
        total = losses.weighted_total(terms, weights)
    assert tape.gradient(total, x) is not None


def _smoothness_by_crops(flow, image):
    """The formula as written: 16 crops of a 5x5 window (NumPy, float64)."""
    flow, image = flow * 128.0, image * 256.0
    _, height, width, _ = flow.shape
    total = 0.0
    for i in (0, 1, 3, 4):
        for j in (0, 1, 3, 4):
            crop = (slice(None), slice(i, height - 4 + i), slice(j, width - 4 + j))
            centre = (slice(None), slice(2, height - 2), slice(2, width - 2))
            flow_difference = ((flow[centre] - flow[crop]) ** 2).sum(-1)
            image_difference = ((image[centre] - image[crop]) ** 2).sum(-1)
            total += (flow_difference * np.exp(-image_difference - (i - 2) ** 2
                                               - (j - 2) ** 2)).sum()
    return total / (flow.shape[0] * height * width)


def test_edge_aware_smoothness_is_the_sum_over_the_sixteen_offsets():
    rng = np.random.default_rng(0)
    flow = rng.normal(scale=0.01, size=(2, 12, 10, 2))
    image = rng.uniform(size=(2, 12, 10, 3)) * 0.004  # edges weak enough to leave weight
    got = losses.edge_aware_smoothness(tf.constant(flow, tf.float32),
                                       tf.constant(image, tf.float32))
    np.testing.assert_allclose(float(got), _smoothness_by_crops(flow, image), rtol=1e-5)
