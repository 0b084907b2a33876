"""Tests for seg2vid_tf.ops.warp (backward bilinear warping)."""

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.ops.warp import (
    dense_image_warp,
    normalized_to_pixel_flow,
    pixel_to_normalized_flow,
    warp,
)

PADDINGS = ("zeros", "border")
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}


# ---------------------------------------------------------------------------
# Independent NumPy reference: a plain loop-based bilinear sampler (float64).
# ---------------------------------------------------------------------------
def _np_sample(img, qy, qx, padding):
    """Bilinear sample of img [H, W, C] at (qy, qx)."""
    height, width, channels = img.shape
    if padding == "border":
        qy = min(max(qy, 0.0), height - 1.0)
        qx = min(max(qx, 0.0), width - 1.0)
    y0 = int(np.floor(qy))
    x0 = int(np.floor(qx))
    out = np.zeros(channels, np.float64)
    for yy in (y0, y0 + 1):
        for xx in (x0, x0 + 1):
            weight = (1.0 - abs(qy - yy)) * (1.0 - abs(qx - xx))
            if 0 <= yy < height and 0 <= xx < width:
                out += weight * img[yy, xx]
    return out


def np_dense_image_warp(image, flow, padding):
    """out[b, y, x] = sample(image[b], y - flow[..., 0], x - flow[..., 1])."""
    image = np.asarray(image, np.float64)
    flow = np.asarray(flow, np.float64)
    batch, height, width, channels = image.shape
    out = np.zeros((batch, height, width, channels), np.float64)
    for b in range(batch):
        for y in range(height):
            for x in range(width):
                out[b, y, x] = _np_sample(image[b], y - flow[b, y, x, 0],
                                          x - flow[b, y, x, 1], padding)
    return out


def np_reference_seg2vid_warp(image, flow_xy):
    """The PyTorch reference semantics in normalized coordinates.

    grid_sample(img, p - f(p), padding_mode='zeros', align_corners=True) with
    p the normalized (x, y) pixel position in [-1, 1].
    """
    image = np.asarray(image, np.float64)
    flow_xy = np.asarray(flow_xy, np.float64)
    batch, height, width, channels = image.shape
    px = np.linspace(-1.0, 1.0, width)
    py = np.linspace(-1.0, 1.0, height)
    out = np.zeros((batch, height, width, channels), np.float64)
    for b in range(batch):
        for y in range(height):
            for x in range(width):
                gx = px[x] - flow_xy[b, y, x, 0]
                gy = py[y] - flow_xy[b, y, x, 1]
                # Un-normalize (align_corners=True).
                qx = (gx + 1.0) / 2.0 * (width - 1)
                qy = (gy + 1.0) / 2.0 * (height - 1)
                out[b, y, x] = _np_sample(image[b], qy, qx, "zeros")
    return out


def _random_inputs(rng, shape, flow_scale, dtype):
    batch, height, width, channels = shape
    image = rng.uniform(-1.0, 1.0, shape).astype(dtype)
    flow = np.stack(
        [rng.uniform(-flow_scale * height, flow_scale * height,
                     (batch, height, width)),
         rng.uniform(-flow_scale * width, flow_scale * width,
                     (batch, height, width))],
        axis=-1).astype(dtype)
    return image, flow


def _grid(height, width):
    gy, gx = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    return gy.astype(np.float64), gx.astype(np.float64)


def _flow_for_queries(qy, qx):
    """Pixel flow [1, H, W, 2] such that each output pixel queries (qy, qx)."""
    qy = np.asarray(qy, np.float64)
    qx = np.asarray(qx, np.float64)
    gy, gx = _grid(*qy.shape)
    return np.stack([gy - qy, gx - qx], axis=-1)[np.newaxis]


# ---------------------------------------------------------------------------
# Agreement with the NumPy reference.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_reference(padding, dtype):
    rng = np.random.default_rng(1234)
    shape = (2, 6, 7, 3)
    image, flow = _random_inputs(rng, shape, 1.5, dtype)
    # Make sure the test actually exercises out-of-image queries.
    gy, gx = _grid(6, 7)
    qy, qx = gy - flow[..., 0], gx - flow[..., 1]
    outside = (qy < 0) | (qy > 5) | (qx < 0) | (qx > 6)
    assert 0.3 < outside.mean() < 0.95

    out = dense_image_warp(image, flow, padding=padding)
    assert out.dtype == tf.as_dtype(dtype)
    assert out.shape == shape
    expected = np_dense_image_warp(image, flow, padding)
    np.testing.assert_allclose(out.numpy(), expected, rtol=0,
                               atol=TOLERANCE[dtype])
    assert np.abs(expected).max() > 0.1  # not a trivially-zero comparison


@pytest.mark.parametrize("padding", PADDINGS)
def test_matches_numpy_reference_small_flows(padding):
    """Mostly in-image, sub-pixel queries (the common case in practice)."""
    rng = np.random.default_rng(7)
    image, flow = _random_inputs(rng, (1, 5, 8, 2), 0.3, np.float64)
    out = dense_image_warp(image, flow, padding=padding)
    np.testing.assert_allclose(out.numpy(),
                               np_dense_image_warp(image, flow, padding),
                               rtol=0, atol=1e-10)


def test_paddings_differ_only_outside():
    rng = np.random.default_rng(3)
    image, flow = _random_inputs(rng, (1, 5, 6, 1), 1.5, np.float64)
    zeros = dense_image_warp(image, flow, padding="zeros").numpy()
    border = dense_image_warp(image, flow, padding="border").numpy()
    gy, gx = _grid(5, 6)
    qy, qx = gy - flow[..., 0], gx - flow[..., 1]
    inside = (qy >= 0) & (qy <= 4) & (qx >= 0) & (qx <= 5)
    np.testing.assert_allclose(zeros[inside], border[inside], atol=1e-12)
    assert np.abs(zeros[~inside] - border[~inside]).max() > 0.1


# ---------------------------------------------------------------------------
# Exact behaviours: identity, integer shifts, edge cases.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("padding", PADDINGS)
def test_zero_flow_is_identity(padding):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    out = dense_image_warp(image, np.zeros((2, 4, 5, 2), np.float32),
                           padding=padding)
    np.testing.assert_array_equal(out.numpy(), image)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("shift", [(0, 1), (1, 0), (1, -2), (-2, 3)])
def test_integer_shift(padding, shift):
    dy, dx = shift
    height, width = 5, 6
    rng = np.random.default_rng(1)
    image = rng.uniform(1.0, 2.0, (2, height, width, 2)).astype(np.float32)
    flow = np.zeros((2, height, width, 2), np.float32)
    flow[..., 0] = dy
    flow[..., 1] = dx

    expected = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            sy, sx = y - dy, x - dx
            if padding == "border":
                sy = min(max(sy, 0), height - 1)
                sx = min(max(sx, 0), width - 1)
            if 0 <= sy < height and 0 <= sx < width:
                expected[:, y, x] = image[:, sy, sx]

    out = dense_image_warp(image, flow, padding=padding).numpy()
    np.testing.assert_array_equal(out, expected)
    if padding == "zeros":
        # Content moves by +flow; the uncovered band is zero.
        if dx > 0:
            assert np.all(out[:, :, :dx] == 0)
        if dy > 0:
            assert np.all(out[:, :dy] == 0)
    else:
        assert np.all(out != 0)  # the edge is replicated, never zero


@pytest.mark.parametrize("padding", PADDINGS)
def test_query_exactly_on_last_pixel(padding):
    rng = np.random.default_rng(2)
    image = rng.uniform(1.0, 2.0, (1, 4, 5, 2))
    qy = np.full((4, 5), 3.0)
    qx = np.full((4, 5), 4.0)
    out = dense_image_warp(image, _flow_for_queries(qy, qx), padding=padding)
    expected = np.broadcast_to(image[0, 3, 4], (1, 4, 5, 2))
    np.testing.assert_array_equal(out.numpy(), expected)

    # Last column, every row: an exact copy of that column.
    qy, _ = _grid(4, 5)
    out = dense_image_warp(image, _flow_for_queries(qy, np.full((4, 5), 4.0)),
                           padding=padding).numpy()
    np.testing.assert_array_equal(
        out, np.broadcast_to(image[:, :, 4:5], out.shape))


def test_half_pixel_outside_zeros_and_border():
    rng = np.random.default_rng(3)
    image = rng.uniform(1.0, 2.0, (1, 3, 4, 2))
    qy, _ = _grid(3, 4)
    left = _flow_for_queries(qy, np.full((3, 4), -0.5))
    right = _flow_for_queries(qy, np.full((3, 4), 3.5))
    first_col = np.broadcast_to(image[:, :, 0:1], (1, 3, 4, 2))
    last_col = np.broadcast_to(image[:, :, 3:4], (1, 3, 4, 2))

    np.testing.assert_allclose(dense_image_warp(image, left, "zeros"),
                               0.5 * first_col, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense_image_warp(image, right, "zeros"),
                               0.5 * last_col, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense_image_warp(image, left, "border"),
                               first_col, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dense_image_warp(image, right, "border"),
                               last_col, rtol=0, atol=1e-12)

    # Quarter pixel outside in both directions at the top-left corner.
    corner = _flow_for_queries(np.full((3, 4), -0.25), np.full((3, 4), -0.25))
    np.testing.assert_allclose(
        dense_image_warp(image, corner, "zeros"),
        np.broadcast_to(0.75 * 0.75 * image[0, 0, 0], (1, 3, 4, 2)),
        rtol=0, atol=1e-12)


@pytest.mark.parametrize("position", [-1.0, -1.5, -7.25, -1e3, -1e12])
def test_far_outside_queries(position):
    rng = np.random.default_rng(4)
    image = rng.uniform(1.0, 2.0, (1, 3, 4, 1))
    qy, qx = _grid(3, 4)
    # Outside to the left / top, and mirrored to the right / bottom.
    for flow, edge in [
            (_flow_for_queries(qy, np.full((3, 4), position)),
             image[:, :, 0:1]),
            (_flow_for_queries(qy, np.full((3, 4), 3.0 - position)),
             image[:, :, 3:4]),
            (_flow_for_queries(np.full((3, 4), position), qx),
             image[:, 0:1, :]),
            (_flow_for_queries(np.full((3, 4), 2.0 - position), qx),
             image[:, 2:3, :]),
    ]:
        zeros = dense_image_warp(image, flow, "zeros").numpy()
        border = dense_image_warp(image, flow, "border").numpy()
        np.testing.assert_array_equal(zeros, np.zeros_like(image))
        np.testing.assert_allclose(border, np.broadcast_to(edge, image.shape),
                                   rtol=0, atol=1e-12)


def test_huge_flow_float32_is_finite():
    image = np.ones((1, 3, 4, 1), np.float32)
    for value in (1e30, -1e30):
        flow = np.full((1, 3, 4, 2), value, np.float32)
        np.testing.assert_array_equal(
            dense_image_warp(image, flow, "zeros").numpy(), 0.0)
        np.testing.assert_array_equal(
            dense_image_warp(image, flow, "border").numpy(), 1.0)


def test_dtypes():
    rng = np.random.default_rng(5)
    image, flow = _random_inputs(rng, (1, 4, 5, 2), 0.5, np.float64)
    # float64 image with float32 flow -> float64 output.
    out = dense_image_warp(image, flow.astype(np.float32))
    assert out.dtype == tf.float64
    # float16 image: computed in float32 internally, returned as float16.
    out16 = dense_image_warp(image.astype(np.float16), flow.astype(np.float32))
    assert out16.dtype == tf.float16
    np.testing.assert_allclose(
        out16.numpy().astype(np.float64),
        np_dense_image_warp(image.astype(np.float16), flow.astype(np.float32),
                            "zeros"), atol=2e-3)
    with pytest.raises(TypeError, match="image"):
        dense_image_warp(np.ones((1, 2, 2, 1), np.int32),
                         np.zeros((1, 2, 2, 2), np.float32))


# ---------------------------------------------------------------------------
# Normalized flow conversion and the seg2vid `warp`.
# ---------------------------------------------------------------------------
def test_normalized_pixel_round_trip():
    rng = np.random.default_rng(6)
    flow_xy = rng.normal(size=(2, 5, 7, 2))
    pixels = normalized_to_pixel_flow(flow_xy)
    np.testing.assert_allclose(pixel_to_normalized_flow(pixels), flow_xy,
                               rtol=0, atol=1e-12)
    flow_px = rng.normal(size=(2, 5, 7, 2)) * 3
    np.testing.assert_allclose(
        normalized_to_pixel_flow(pixel_to_normalized_flow(flow_px)), flow_px,
        rtol=0, atol=1e-12)
    # Explicit formulas (and channel order).
    np.testing.assert_allclose(pixels[..., 0], flow_xy[..., 1] * 4 / 2,
                               atol=1e-12)
    np.testing.assert_allclose(pixels[..., 1], flow_xy[..., 0] * 6 / 2,
                               atol=1e-12)


def test_normalized_known_case():
    height, width = 5, 7
    flow_xy = np.zeros((1, height, width, 2), np.float32)
    flow_xy[..., 0] = 2.0 / (width - 1)  # fx: one pixel to the right
    pixels = normalized_to_pixel_flow(flow_xy).numpy()
    np.testing.assert_allclose(pixels[..., 1], 1.0, rtol=1e-6)  # dx
    np.testing.assert_array_equal(pixels[..., 0], 0.0)  # dy

    flow_xy = np.zeros((1, height, width, 2), np.float32)
    flow_xy[..., 1] = 2.0 / (height - 1)  # fy: one pixel down
    pixels = normalized_to_pixel_flow(flow_xy).numpy()
    np.testing.assert_allclose(pixels[..., 0], 1.0, rtol=1e-6)  # dy
    np.testing.assert_array_equal(pixels[..., 1], 0.0)  # dx

    back = pixel_to_normalized_flow(
        np.stack([np.full((1, 5, 7), 2.0), np.full((1, 5, 7), 3.0)], -1))
    np.testing.assert_allclose(back[..., 0], 3.0 * 2 / 6, atol=1e-6)  # fx
    np.testing.assert_allclose(back[..., 1], 2.0 * 2 / 4, atol=1e-6)  # fy


def test_conversion_with_dynamic_shape():
    to_px = tf.function(normalized_to_pixel_flow, input_signature=[
        tf.TensorSpec([None, None, None, 2], tf.float32)])
    to_norm = tf.function(pixel_to_normalized_flow, input_signature=[
        tf.TensorSpec([None, None, None, 2], tf.float32)])
    rng = np.random.default_rng(8)
    for shape in [(1, 3, 4, 2), (2, 6, 5, 2)]:
        flow = rng.normal(size=shape).astype(np.float32)
        np.testing.assert_allclose(to_px(flow),
                                   normalized_to_pixel_flow(flow), atol=1e-6)
        np.testing.assert_allclose(to_norm(flow),
                                   pixel_to_normalized_flow(flow), atol=1e-6)


def test_warp_equals_dense_warp_of_converted_flow():
    rng = np.random.default_rng(9)
    image = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    flow_xy = rng.uniform(-2.5, 2.5, (2, 5, 6, 2)).astype(np.float32)
    expected = dense_image_warp(image, normalized_to_pixel_flow(flow_xy),
                                padding="zeros")
    np.testing.assert_array_equal(warp(image, flow_xy).numpy(),
                                  expected.numpy())


def test_warp_matches_normalized_reference():
    """Independent check of the normalized (grid_sample) semantics."""
    rng = np.random.default_rng(10)
    image = rng.normal(size=(2, 5, 6, 2))
    flow_xy = rng.uniform(-2.5, 2.5, (2, 5, 6, 2))
    np.testing.assert_allclose(warp(image, flow_xy).numpy(),
                               np_reference_seg2vid_warp(image, flow_xy),
                               rtol=0, atol=1e-10)


def test_warp_full_width_flow_on_ramp():
    height, width = 3, 5
    ramp = np.tile(np.arange(1.0, width + 1.0), (height, 1))  # x + 1
    image = ramp[np.newaxis, :, :, np.newaxis].astype(np.float32)

    def const_flow(fx, fy):
        flow = np.zeros((1, height, width, 2), np.float32)
        flow[..., 0] = fx
        flow[..., 1] = fy
        return flow

    # fx = +2: output x samples x - (W - 1); only the last column sees the
    # first column, everything else is outside -> 0.
    out = warp(image, const_flow(2.0, 0.0)).numpy()[0, :, :, 0]
    expected = np.zeros((height, width), np.float32)
    expected[:, -1] = 1.0
    np.testing.assert_allclose(out, expected, atol=1e-6)

    # fx = -2: only the first column sees the last column.
    out = warp(image, const_flow(-2.0, 0.0)).numpy()[0, :, :, 0]
    expected = np.zeros((height, width), np.float32)
    expected[:, 0] = width
    np.testing.assert_allclose(out, expected, atol=1e-6)

    # fx = 1 on odd W: an exact shift by (W - 1) / 2 = 2 pixels to the right.
    out = warp(image, const_flow(1.0, 0.0)).numpy()[0, :, :, 0]
    expected = np.zeros((height, width), np.float32)
    expected[:, 2:] = ramp[:, :3]
    np.testing.assert_allclose(out, expected, atol=1e-6)

    # fy = 2 moves rows: only the last row is non-zero (channel order check).
    out = warp(image, const_flow(0.0, 2.0)).numpy()[0, :, :, 0]
    expected = np.zeros((height, width), np.float32)
    expected[-1] = ramp[0]
    np.testing.assert_allclose(out, expected, atol=1e-6)


# ---------------------------------------------------------------------------
# Gradients.
# ---------------------------------------------------------------------------
def _fractional_queries(rng, height, width):
    """Query points with fractional parts in [0.15, 0.85], partly outside."""
    qy = rng.integers(-2, height + 1, (height, width)) + rng.uniform(
        0.15, 0.85, (height, width))
    qx = rng.integers(-2, width + 1, (height, width)) + rng.uniform(
        0.15, 0.85, (height, width))
    return qy, qx


def _assert_gradient_is_numerical_one(function, argument, delta):
    """`function`'s analytic gradient at `argument` is far from 0 and equals the numerical one."""
    theoretical, numerical = tf.test.compute_gradient(
        tf.function(function), [tf.constant(argument)], delta=delta)
    assert np.abs(theoretical[0]).max() > 0.1
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("padding", PADDINGS)
def test_gradient_wrt_image(padding):
    rng = np.random.default_rng(11)
    image = rng.normal(size=(1, 5, 6, 2))
    flow = tf.constant(_flow_for_queries(*_fractional_queries(rng, 5, 6)))
    _assert_gradient_is_numerical_one(
        lambda img: dense_image_warp(img, flow, padding=padding), image, delta=1e-3)


@pytest.mark.parametrize("padding", PADDINGS)
def test_gradient_wrt_flow(padding):
    rng = np.random.default_rng(12)
    image = tf.constant(rng.normal(size=(1, 5, 6, 2)))
    flow = _flow_for_queries(*_fractional_queries(rng, 5, 6))
    _assert_gradient_is_numerical_one(
        lambda f: dense_image_warp(image, f, padding=padding), flow, delta=1e-3)


def test_gradient_of_normalized_warp():
    rng = np.random.default_rng(13)
    height, width = 5, 6
    image = tf.constant(rng.normal(size=(1, height, width, 2)))
    flow_px = _flow_for_queries(*_fractional_queries(rng, height, width))
    flow_xy = pixel_to_normalized_flow(flow_px)
    _assert_gradient_is_numerical_one(lambda f: warp(image, f), flow_xy, delta=1e-4)


# ---------------------------------------------------------------------------
# Graph mode, XLA, dynamic shapes, SavedModel.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("padding", PADDINGS)
def test_xla_matches_eager_including_gradients(padding):
    rng = np.random.default_rng(14)
    image, flow = _random_inputs(rng, (2, 5, 6, 3), 1.2, np.float32)
    image, flow = tf.constant(image), tf.constant(flow)

    def value_and_grads(img, flw):
        with tf.GradientTape() as tape:
            tape.watch([img, flw])
            out = dense_image_warp(img, flw, padding=padding)
            loss = tf.reduce_sum(out * out)
        return (out,) + tuple(tape.gradient(loss, [img, flw]))

    eager = value_and_grads(image, flow)
    xla = tf.function(value_and_grads, jit_compile=True)(image, flow)
    for e, x in zip(eager, xla):
        np.testing.assert_allclose(x.numpy(), e.numpy(), rtol=1e-5,
                                   atol=1e-5)
    assert np.abs(eager[2].numpy()).max() > 0  # non-trivial flow gradient


def test_dynamic_batch_via_input_signature():
    height, width, channels = 4, 5, 3
    fn = tf.function(
        lambda img, flw: dense_image_warp(img, flw, padding="zeros"),
        input_signature=[
            tf.TensorSpec([None, height, width, channels], tf.float32),
            tf.TensorSpec([None, height, width, 2], tf.float32),
        ])
    concrete = fn.get_concrete_function()
    assert concrete.structured_outputs.shape.as_list() == [
        None, height, width, channels]
    rng = np.random.default_rng(15)
    for batch in (1, 3):
        image, flow = _random_inputs(rng, (batch, height, width, channels),
                                     1.0, np.float32)
        np.testing.assert_allclose(fn(image, flow).numpy(),
                                   np_dense_image_warp(image, flow, "zeros"),
                                   atol=1e-5)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fully_dynamic_shapes(jit_compile):
    fn = tf.function(
        lambda img, flw: dense_image_warp(img, flw, padding="border"),
        jit_compile=jit_compile,
        input_signature=[
            tf.TensorSpec([None, None, None, None], tf.float32),
            tf.TensorSpec([None, None, None, None], tf.float32),
        ])
    rng = np.random.default_rng(16)
    for shape in [(1, 3, 4, 1), (2, 5, 2, 3)]:
        image, flow = _random_inputs(rng, shape, 1.0, np.float32)
        np.testing.assert_allclose(fn(image, flow).numpy(),
                                   np_dense_image_warp(image, flow, "border"),
                                   atol=1e-5)


def test_dynamic_shape_mismatch_fails_at_run_time():
    fn = tf.function(
        lambda img, flw: dense_image_warp(img, flw),
        input_signature=[
            tf.TensorSpec([None, None, None, 1], tf.float32),
            tf.TensorSpec([None, None, None, 2], tf.float32),
        ])
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.zeros([1, 3, 4, 1]), tf.zeros([1, 3, 5, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.zeros([2, 3, 4, 1]), tf.zeros([1, 3, 4, 2]))


def test_saved_model_round_trip(tmp_path):
    module = tf.Module()
    module.warp = tf.function(
        warp,
        input_signature=[
            tf.TensorSpec([None, 4, 5, 2], tf.float32),
            tf.TensorSpec([None, 4, 5, 2], tf.float32),
        ])
    tf.saved_model.save(module, str(tmp_path / "warp_model"))
    loaded = tf.saved_model.load(str(tmp_path / "warp_model"))
    rng = np.random.default_rng(17)
    image = rng.normal(size=(3, 4, 5, 2)).astype(np.float32)
    flow_xy = rng.uniform(-1.5, 1.5, (3, 4, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(loaded.warp(image, flow_xy).numpy(),
                               warp(image, flow_xy).numpy(), atol=1e-6)


# ---------------------------------------------------------------------------
# Argument validation.
# ---------------------------------------------------------------------------
def test_unknown_padding():
    with pytest.raises(ValueError, match="padding.*zeros.*border"):
        dense_image_warp(tf.zeros([1, 2, 2, 1]), tf.zeros([1, 2, 2, 2]),
                         padding="reflection")


@pytest.mark.parametrize("image_shape, flow_shape, pattern", [
    ([2, 2, 1], [1, 2, 2, 2], "`image` must be a rank-4"),
    ([1, 1, 2, 2, 1], [1, 2, 2, 2], "`image` must be a rank-4"),
    ([1, 2, 2, 1], [2, 2, 2], "`flow` must be a rank-4"),
    ([1, 2, 2, 1], [1, 2, 2, 3], "last dimension of `flow` must be 2"),
    ([1, 2, 2, 1], [1, 2, 2, 1], "last dimension of `flow` must be 2"),
    ([2, 2, 2, 1], [1, 2, 2, 2], "batch size of `flow`"),
    ([1, 3, 2, 1], [1, 2, 2, 2], "height of `flow`"),
    ([1, 2, 3, 1], [1, 2, 2, 2], "width of `flow`"),
])
def test_invalid_shapes(image_shape, flow_shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        dense_image_warp(tf.zeros(image_shape), tf.zeros(flow_shape))


def test_invalid_shapes_in_graph_with_static_dims():
    fn = tf.function(lambda img, flw: dense_image_warp(img, flw))
    with pytest.raises(ValueError, match="height of `flow`"):
        fn.get_concrete_function(tf.TensorSpec([None, 3, 4, 1]),
                                 tf.TensorSpec([None, 2, 4, 2]))


@pytest.mark.parametrize("fn, arg", [
    (normalized_to_pixel_flow, "flow_xy"),
    (pixel_to_normalized_flow, "flow_pixels"),
])
def test_conversion_invalid_shapes(fn, arg):
    with pytest.raises(ValueError, match=f"`{arg}` must be a rank-4"):
        fn(tf.zeros([2, 3, 2]))
    with pytest.raises(ValueError, match=f"last dimension of `{arg}`"):
        fn(tf.zeros([1, 2, 3, 3]))


def test_warp_invalid_shapes():
    with pytest.raises(ValueError, match="width of `flow`"):
        warp(tf.zeros([1, 3, 4, 1]), tf.zeros([1, 3, 5, 2]))


def test_gradient_graph_has_no_slice_gradients():
    """The flow's channels are unstacked and reversed, not sliced: the gradient of a
    slice is a zero tensor of the whole flow plus a scatter (docs/performance.md)."""
    image = tf.TensorSpec([2, 8, 8, 3])
    flow = tf.TensorSpec([2, 8, 8, 2])

    def gradients(image, flow_xy):
        with tf.GradientTape() as tape:
            tape.watch([image, flow_xy])
            loss = tf.reduce_sum(warp(image, flow_xy) ** 2)
        return tape.gradient(loss, [image, flow_xy])

    graph = tf.function(gradients).get_concrete_function(image, flow).graph
    types = {op.type for op in graph.get_operations()}
    assert "StridedSliceGrad" not in types and "UnsortedSegmentSum" in types, types
