"""`make demo-train` refuses stale synthetic data instead of training on it; reuses good data."""

import json
import os

import pytest

from seg2vid_tf.demos import data as demo_data
from seg2vid_tf.data import synthetic

SETTINGS = dict(num_sequences=48, num_frames=9, height=128, width=128, seed=0, val_fraction=0.25,
                city="synth", motion_scale=0.25, speed_variation=0.25)


def _write(tmp_path, settings, renderer_version=synthetic.RENDERER_VERSION):
    meta = {"settings": settings}
    if renderer_version is not None:
        meta["renderer_version"] = renderer_version
    (tmp_path / "synthetic.json").write_text(json.dumps(meta))
    return str(tmp_path)


def test_matching_data_is_reused_without_rendering(tmp_path, monkeypatch):
    data_dir = _write(tmp_path, SETTINGS)
    before = os.stat(tmp_path / "synthetic.json").st_mtime_ns

    def refuse(*args, **kwargs):
        raise AssertionError("rendered although matching data was there")

    monkeypatch.setattr(synthetic, "generate_dataset", refuse)
    assert demo_data.ensure_data(data_dir, SETTINGS) is False
    assert os.stat(tmp_path / "synthetic.json").st_mtime_ns == before


def test_missing_data_is_rendered(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(synthetic, "generate_dataset",
                        lambda output_dir, **kwargs: calls.append((output_dir, kwargs)))
    assert demo_data.ensure_data(str(tmp_path / "new"), SETTINGS, progress=False) is True
    assert calls == [(str(tmp_path / "new"), dict(SETTINGS, progress=False, num_workers=0))]


def test_data_made_with_other_settings_is_refused_and_kept(tmp_path):
    data_dir = _write(tmp_path, dict(SETTINGS, num_sequences=24, motion_scale=1.0))
    with pytest.raises(ValueError, match=r"motion_scale: 1\.0 there, 0\.25 wanted.*"
                                         r"num_sequences: 24 there, 48"):
        demo_data.check_existing_data(data_dir, SETTINGS)
    assert (tmp_path / "synthetic.json").exists()


def test_data_from_before_speed_variation_existed_counts_as_full_variation(tmp_path):
    old = {key: value for key, value in SETTINGS.items() if key != "speed_variation"}
    data_dir = _write(tmp_path, old)
    demo_data.check_existing_data(data_dir, dict(SETTINGS, speed_variation=1.0))
    with pytest.raises(ValueError, match=r"speed_variation: 1\.0 there, 0\.25 wanted"):
        demo_data.check_existing_data(data_dir, SETTINGS)


def test_data_from_another_renderer_is_refused(tmp_path):
    other = synthetic.RENDERER_VERSION + 1
    data_dir = _write(tmp_path, SETTINGS, renderer_version=other)
    with pytest.raises(ValueError, match=rf"renderer version {other}; this code renders "
                                         rf"version {synthetic.RENDERER_VERSION}"):
        demo_data.check_existing_data(data_dir, SETTINGS)
    assert (tmp_path / "synthetic.json").exists()


def test_data_from_before_the_renderer_field_counts_as_version_one(tmp_path):
    assert synthetic.RENDERER_VERSION != 1
    data_dir = _write(tmp_path, SETTINGS, renderer_version=None)
    with pytest.raises(ValueError, match="renderer version 1"):
        demo_data.check_existing_data(data_dir, SETTINGS)
