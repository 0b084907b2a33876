"""`make demo` refuses stale synthetic data instead of training on it."""

import json
import types

import pytest
from absl import app

from seg2vid_tf import demo
from seg2vid_tf.data import synthetic

SETTINGS = dict(num_sequences=48, num_frames=9, height=128, width=128, seed=0, val_fraction=0.25,
                city="synth", motion_scale=0.25, speed_variation=0.25)


def _write(tmp_path, settings, renderer_version=synthetic.RENDERER_VERSION):
    meta = {"settings": settings}
    if renderer_version is not None:
        meta["renderer_version"] = renderer_version
    (tmp_path / "synthetic.json").write_text(json.dumps(meta))
    return str(tmp_path)


def test_matching_data_is_reused(tmp_path):
    demo._check_existing_data(_write(tmp_path, SETTINGS), types.SimpleNamespace(**SETTINGS))


def test_data_made_with_other_settings_is_refused_and_kept(tmp_path):
    data_dir = _write(tmp_path, dict(SETTINGS, num_sequences=24, motion_scale=1.0))
    with pytest.raises(app.UsageError, match=r"motion_scale: 1\.0 there, 0\.25 in the config.*"
                                             r"num_sequences: 24 there, 48"):
        demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))
    assert (tmp_path / "synthetic.json").exists()


def test_data_from_before_speed_variation_existed_counts_as_full_variation(tmp_path):
    old = {key: value for key, value in SETTINGS.items() if key != "speed_variation"}
    data_dir = _write(tmp_path, old)
    demo._check_existing_data(data_dir,
                              types.SimpleNamespace(**dict(SETTINGS, speed_variation=1.0)))
    with pytest.raises(app.UsageError, match=r"speed_variation: 1\.0 there, 0\.25 in the config"):
        demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))


def test_data_from_before_motion_scale_existed_counts_as_scale_one(tmp_path):
    old = {key: value for key, value in SETTINGS.items() if key != "motion_scale"}
    data_dir = _write(tmp_path, old)
    demo._check_existing_data(data_dir, types.SimpleNamespace(**dict(SETTINGS, motion_scale=1.0)))
    with pytest.raises(app.UsageError, match="motion_scale"):
        demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))


def test_data_from_another_renderer_is_refused(tmp_path):
    other = synthetic.RENDERER_VERSION + 1
    data_dir = _write(tmp_path, SETTINGS, renderer_version=other)
    with pytest.raises(app.UsageError, match=rf"renderer version {other}; this code renders "
                                             rf"version {synthetic.RENDERER_VERSION}"):
        demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))
    assert (tmp_path / "synthetic.json").exists()


def test_data_from_before_the_renderer_field_counts_as_version_one(tmp_path):
    data_dir = _write(tmp_path, SETTINGS, renderer_version=None)
    if synthetic.RENDERER_VERSION == 1:
        demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))
    else:
        with pytest.raises(app.UsageError, match="renderer version 1"):
            demo._check_existing_data(data_dir, types.SimpleNamespace(**SETTINGS))
