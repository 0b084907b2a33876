"""Tests for seg2vid_tf.metrics.fid with the stand-in Inception model loaded from disk."""

import math
import warnings

import keras
import numpy as np
import pytest
from scipy import linalg

from seg2vid_tf.metrics.fid import (
    FID_PROTOCOL,
    fid,
    inception_features,
    load_inception,
    preprocess_images,
)
from seg2vid_tf.metrics.frechet import feature_statistics
from seg2vid_tf.metrics.standins import STANDIN_INCEPTION_FEATURES, save_standin_inception


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return save_standin_inception(tmp_path_factory.mktemp("inception") / "standin.keras")


@pytest.fixture(scope="module")
def inception(model_path):
    return load_inception(model_path)


def scipy_fid(real_features, generated_features):
    """The textbook Fréchet distance of two feature sets (`scipy.linalg.sqrtm`) and the
    tolerance it reaches: 6 images in 64 dimensions give singular covariances, whose zero
    eigenvalues `sqrtm` returns as square roots of rounding errors, up to sqrt(eps) * scale
    each (see metrics/frechet_test.py)."""
    mu1, mu2 = real_features.mean(axis=0), generated_features.mean(axis=0)
    sigma1 = np.cov(real_features, rowvar=False)
    sigma2 = np.cov(generated_features, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    scale = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2))
    value = float(scale - 2.0 * np.trace(root).real)
    return value, 2.0 * real_features.shape[1] * math.sqrt(np.finfo(np.float64).eps) * scale


def _images(seed, shape=(6, 32, 32, 3), low=0.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def test_features_shape(inception):
    features = inception_features(inception, _images(0))
    assert features.shape == (6, STANDIN_INCEPTION_FEATURES) and features.dtype == np.float64
    assert np.all(np.std(features, axis=0) > 0.0)


def test_identical_sets_give_zero(inception):
    images = _images(0)
    mu, sigma = feature_statistics(inception_features(inception, images))
    value = fid(inception, images, images)
    assert abs(value) <= 1e-12 * float(np.trace(sigma) + mu @ mu)


def test_matches_scipy_on_the_features_and_ranks_the_sets(inception):
    real = _images(0)
    real_features = inception_features(inception, real)
    values = {}
    for name, generated in (("same distribution", _images(2)),
                            ("different", _images(1, low=0.2, high=0.6))):
        values[name] = fid(inception, real, generated)
        expected, tolerance = scipy_fid(real_features, inception_features(inception, generated))
        assert abs(values[name] - expected) <= tolerance, (name, values[name], expected)
    assert values["different"] > 10.0 * values["same distribution"]


def test_batching_matches_one_batch(inception):
    images = _images(3, shape=(7, 16, 20, 3))
    np.testing.assert_allclose(inception_features(inception, images, batch_size=2),
                               inception_features(inception, images, batch_size=16),
                               rtol=1e-5, atol=1e-5)


def test_uint8_and_grayscale_inputs(inception):
    images8 = (_images(4) * 255).astype(np.uint8)
    np.testing.assert_allclose(inception_features(inception, images8),
                               inception_features(inception, images8.astype(np.float32) / 255.0),
                               rtol=1e-5, atol=1e-5)
    gray = _images(5, shape=(3, 24, 24, 1))
    np.testing.assert_allclose(inception_features(inception, gray),
                               inception_features(inception, np.repeat(gray, 3, axis=-1)),
                               rtol=1e-5, atol=1e-5)


def test_preprocess_range_and_shape():
    out = preprocess_images(np.full((2, 10, 12, 1), 255, np.uint8)).numpy()
    assert out.shape == (2, 299, 299, 3)
    np.testing.assert_allclose(out, 1.0)


def test_missing_and_unsupported_files(tmp_path):
    missing = tmp_path / "nothing.keras"
    with pytest.raises(FileNotFoundError, match="--inception_weights") as error:
        load_inception(missing)
    assert str(missing) in str(error.value)
    with pytest.raises(FileNotFoundError, match="--inception_weights"):
        load_inception(tmp_path / "weights_notop.h5")
    other = tmp_path / "model.pb"
    other.write_bytes(b"")
    with pytest.raises(ValueError, match=r"\.keras"):
        load_inception(other)


def test_bad_inputs_raise(inception):
    images = _images(0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        inception_features(inception, images * 2.0 - 1.0)
    with pytest.raises(ValueError, match="channels"):
        inception_features(inception, images[..., :2])
    with pytest.raises(ValueError, match="N, H, W, C"):
        inception_features(inception, images[None])
    with pytest.raises(ValueError, match="at least 2"):
        fid(inception, images, images[:1])


def test_h5_weights_build_inception_v3(tmp_path):
    """A legacy .h5 file (like Keras' *_notop.h5) loads into InceptionV3 (2048 features)."""
    reference = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                               input_shape=(299, 299, 3))
    path = tmp_path / "inception_v3_notop.h5"
    reference.save(path)  # legacy HDF5 format
    model = load_inception(path)
    for loaded, saved in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(loaded, saved)
    assert inception_features(model, _images(6, shape=(2, 32, 32, 3))).shape == (2, 2048)


def test_protocol_mentions_key_choices():
    for word in ("299", "[-1, 1]", "InceptionV3"):
        assert word in FID_PROTOCOL
