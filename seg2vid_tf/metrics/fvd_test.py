"""Tests for seg2vid_tf.metrics.fvd with the stand-in I3D SavedModel loaded from disk."""


import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.metrics.frechet import feature_statistics
from seg2vid_tf.metrics.fvd import (
    FVD_PROTOCOL,
    fvd,
    i3d_features,
    load_i3d,
    preprocess_videos,
)
from seg2vid_tf.metrics.standins import save_standin_i3d
from seg2vid_tf.testing.frechet_reference import closed_form_frechet


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return save_standin_i3d(tmp_path_factory.mktemp("i3d") / "module", seed=0)


@pytest.fixture(scope="module")
def i3d(module_dir):
    return load_i3d(module_dir)


def _clips(seed, shape=(6, 4, 32, 32, 3), low=0.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def _scale(features):
    mu, sigma = feature_statistics(features)
    return float(np.trace(sigma) + mu @ mu)


def test_signature_interface(i3d):
    assert i3d.output_key == "default"
    logits = i3d(tf.zeros([2, 3, 224, 224, 3]))
    assert logits.shape == (2, 400)


def test_features_shape_and_determinism(i3d, module_dir, tmp_path):
    clips = _clips(0)
    features = i3d_features(i3d, clips)
    assert features.shape == (6, 400) and features.dtype == np.float64
    again = load_i3d(save_standin_i3d(tmp_path / "again", seed=0))
    np.testing.assert_allclose(i3d_features(again, clips), features, rtol=1e-6, atol=1e-6)
    other = load_i3d(save_standin_i3d(tmp_path / "other", seed=1))
    assert not np.allclose(i3d_features(other, clips), features)


def test_identical_sets_give_zero(i3d):
    clips = _clips(0)
    value = fvd(i3d, clips, clips)
    assert abs(value) <= 1e-12 * _scale(i3d_features(i3d, clips))


def test_matches_the_closed_form_on_the_features_and_ranks_the_sets(i3d):
    real = _clips(0)
    real_features = i3d_features(i3d, real)
    values = {}
    for name, generated in (("same distribution", _clips(2)),
                            ("different", _clips(1, low=0.5, high=1.0))):  # brighter clips
        values[name] = fvd(i3d, real, generated)
        generated_features = i3d_features(i3d, generated)
        expected, _ = closed_form_frechet(real_features, generated_features)
        scale = _scale(real_features) + _scale(generated_features)
        assert abs(values[name] - expected) <= 1e-12 * scale, (name, values[name], expected)
    assert values["different"] > 10.0 * values["same distribution"]


def test_batching_matches_one_batch(i3d):
    clips = _clips(3)
    np.testing.assert_allclose(i3d_features(i3d, clips, batch_size=2),
                               i3d_features(i3d, clips, batch_size=16), rtol=1e-5, atol=1e-5)


def test_uint8_and_grayscale_inputs(i3d):
    clips8 = (_clips(4) * 255).astype(np.uint8)
    np.testing.assert_allclose(i3d_features(i3d, clips8),
                               i3d_features(i3d, clips8.astype(np.float32) / 255.0),
                               rtol=1e-5, atol=1e-5)
    gray = _clips(5, shape=(3, 2, 20, 24, 1))
    np.testing.assert_allclose(i3d_features(i3d, gray),
                               i3d_features(i3d, np.repeat(gray, 3, axis=-1)),
                               rtol=1e-5, atol=1e-5)


def test_preprocess_range_and_shape():
    clips = np.full((1, 2, 10, 12, 3), 0.5, np.float32)
    clips[0, 1] = 1.0
    out = preprocess_videos(clips).numpy()
    assert out.shape == (1, 2, 224, 224, 3)
    np.testing.assert_allclose(out[0, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[0, 1], 1.0, atol=1e-6)
    np.testing.assert_allclose(preprocess_videos(np.zeros((1, 1, 4, 4, 1), np.uint8)), -1.0)


def test_missing_module_names_flag(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="--i3d_module") as error:
        load_i3d(missing)
    assert str(missing) in str(error.value)
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        load_i3d(tmp_path)
    with pytest.raises(FileNotFoundError, match="--fvd_net"):
        load_i3d(missing, flag_name="fvd_net")


def test_bad_inputs_raise(i3d):
    clips = _clips(0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        i3d_features(i3d, clips * 255.0)
    with pytest.raises(ValueError, match="channels"):
        i3d_features(i3d, clips[..., :2])
    with pytest.raises(ValueError, match="N, T, H, W, C"):
        i3d_features(i3d, clips[0])
    with pytest.raises(ValueError, match="batch_size"):
        i3d_features(i3d, clips, batch_size=0)
    with pytest.raises(ValueError, match="at least 2"):
        fvd(i3d, clips[:1], clips)


def test_protocol_mentions_key_choices():
    for word in ("224", "[-1, 1]", "400", "logits"):
        assert word in FVD_PROTOCOL
