"""Tests for seg2vid_tf.metrics.frames (PSNR, SSIM, flow end-point error)."""

import math

import numpy as np
import pytest

from seg2vid_tf.metrics.frames import (
    finite_mean,
    flow_endpoint_error,
    flow_endpoint_error_map,
    psnr_per_frame,
    ssim_per_frame,
)


def _video(seed=0, shape=(2, 3, 16, 16, 3), high=1.0):
    return np.random.default_rng(seed).uniform(0.0, high, size=shape).astype(np.float32)


def test_psnr_identical_is_inf():
    video = _video()
    values = psnr_per_frame(video, video)
    assert values.shape == (2, 3)
    assert np.all(np.isposinf(values))


def test_psnr_constant_error():
    truth = _video(high=0.9)
    values = psnr_per_frame(truth + np.float32(0.1), truth)
    np.testing.assert_allclose(values, 20.0, atol=1e-3)  # MSE 0.01 -> 20 dB.
    truth8 = (_video(seed=1) * 200).astype(np.uint8)
    values8 = psnr_per_frame(truth8 + np.uint8(10), truth8, max_val=255)
    np.testing.assert_allclose(values8, 20 * math.log10(255 / 10), atol=1e-3)


def test_psnr_per_frame_order():
    truth = np.zeros((1, 2, 8, 8, 1), np.float32)
    prediction = truth.copy()
    prediction[0, 1] = 0.1
    values = psnr_per_frame(prediction, truth)
    assert np.isposinf(values[0, 0]) and values[0, 1] == pytest.approx(20.0, abs=1e-3)


def test_ssim():
    video = _video()
    np.testing.assert_allclose(ssim_per_frame(video, video), 1.0, atol=1e-6)
    noisy = np.clip(video + _video(seed=2) * 0.3, 0.0, 1.0)
    values = ssim_per_frame(noisy, video)
    assert values.shape == (2, 3) and np.all(values < 0.99)


def test_bad_videos_raise():
    video = _video()
    with pytest.raises(ValueError, match="same shape"):
        psnr_per_frame(video, video[:, :2])
    with pytest.raises(ValueError, match="prediction"):
        psnr_per_frame(video[0], video[0])
    with pytest.raises(ValueError, match="max_val"):
        psnr_per_frame(video, video, max_val=0.0)
    small = _video(shape=(1, 1, 8, 8, 1))
    with pytest.raises(ValueError, match="filter_size"):
        ssim_per_frame(small, small)


def test_finite_mean():
    assert finite_mean([20.0, math.inf, 30.0]) == (25.0, 1)
    assert finite_mean(np.array([[10.0, 20.0]])) == (15.0, 0)
    assert finite_mean([math.inf, math.inf]) == (math.inf, 2)
    mean, excluded = finite_mean([])
    assert math.isnan(mean) and excluded == 0
    mean, excluded = finite_mean([math.nan, math.inf])
    assert math.isnan(mean) and excluded == 2


def test_flow_endpoint_error_constant_shift():
    truth = np.zeros((2, 5, 6, 2), np.float32)
    predicted = np.broadcast_to(np.array([3.0, 4.0], np.float32), truth.shape)
    assert flow_endpoint_error(predicted, truth) == pytest.approx(5.0)
    np.testing.assert_allclose(flow_endpoint_error_map(predicted, truth), 5.0)


def test_flow_endpoint_error_valid_mask():
    truth = np.zeros((1, 4, 4, 2), np.float32)
    predicted = np.zeros_like(truth)
    predicted[0, :2] = (3.0, 4.0)  # error 5 on the top half
    predicted[0, 2:] = (6.0, 8.0)  # error 10 on the bottom half
    valid = np.zeros((1, 4, 4), np.float32)
    valid[0, :2] = 1.0
    assert flow_endpoint_error(predicted, truth, valid) == pytest.approx(5.0)
    assert flow_endpoint_error(predicted, truth, valid[..., None]) == pytest.approx(5.0)
    assert flow_endpoint_error(predicted, truth) == pytest.approx(7.5)
    with pytest.raises(ValueError, match="no pixel"):
        flow_endpoint_error(predicted, truth, np.zeros_like(valid))
    with pytest.raises(ValueError, match="valid"):
        flow_endpoint_error(predicted, truth, valid[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        flow_endpoint_error(predicted, truth[:, :2])
    with pytest.raises(ValueError, match=r"\[\.\.\., 2\]"):
        flow_endpoint_error(predicted[..., :1], truth[..., :1])
