"""Explanations of the predicted motion: tf-keras-vis on the functional wrapper."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf import explain
from seg2vid_tf.models import seg2vid
from seg2vid_tf.models.config import NUM_CLASSES
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models, street_label_map


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_models(str(tmp_path_factory.mktemp("models")))[0]


@pytest.fixture(scope="module")
def video_model(model_dir):
    return seg2vid.load_seg2vid(model_dir).video_model


def test_wrapper_reproduces_the_model_flow(video_model):
    labels = street_label_map()
    frame = np.random.default_rng(0).uniform(size=(1, SIZE, SIZE, 3)).astype(np.float32)
    z = tf.random.stateless_normal([1, video_model.config.latent_rows, 1024], seed=[1, 0])
    wrapped = explain.motion_model(video_model, z)
    conditioning = video_model.conditioning(tf.constant(frame), tf.constant(labels))
    flow = wrapped([conditioning]).numpy()
    outputs = video_model({"video": frame[:, None], "label_map": labels, "z": z,
                           "noise": np.zeros_like(frame)}, training=False)
    pixels = np.stack([outputs["flow"][..., 0].numpy() * (SIZE - 1) / 2.0,
                       outputs["flow"][..., 1].numpy() * (SIZE - 1) / 2.0], axis=-1)
    np.testing.assert_allclose(flow, pixels, atol=1e-3)


def test_maps_have_the_input_size_and_respond_to_the_region(video_model):
    labels = street_label_map()[0]
    frame = np.random.default_rng(1).uniform(size=(SIZE, SIZE, 3)).astype(np.float32)
    region = np.zeros((SIZE, SIZE), np.float32)
    region[80:100, 40:80] = 1.0
    result = explain.explain(video_model, frame, labels, region, seed=0, smooth_samples=2)
    assert result["frame_saliency"].shape == (SIZE, SIZE)
    assert result["gradcam"].shape == (SIZE, SIZE)
    assert result["label_saliency"].shape == (SIZE, SIZE, NUM_CLASSES)
    assert np.isfinite(result["score"]) and result["score"] > 0
    assert result["frame_saliency"].max() > 0
    # Only the classes present can carry gradient through the one-hot input... and every
    # channel is a full map.
    assert np.all(result["label_saliency"] >= 0)
    with pytest.raises(ValueError, match="region is empty"):
        explain.explain(video_model, frame, labels, np.zeros_like(region), smooth_samples=0)


def test_command_writes_the_pictures(model_dir, tmp_path):
    Image.fromarray(street_label_map()[0].astype(np.uint8)).save(tmp_path / "labels.png")
    Image.fromarray(np.full((SIZE, SIZE, 3), 100, np.uint8)).save(tmp_path / "frame.png")
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.explain", f"--checkpoint_dir={model_dir}",
         f"--label_map={tmp_path / 'labels.png'}", f"--first_frame={tmp_path / 'frame.png'}",
         f"--output_dir={tmp_path / 'out'}", "--explain_class=13", "--smooth_samples=2"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("saliency_frame.png", "gradcam.png", "saliency_labels.png"):
        with Image.open(tmp_path / "out" / name) as image:
            assert image.size[1] >= SIZE and image.getextrema() != ((0, 0), (0, 0), (0, 0))
    summary = json.loads((tmp_path / "out" / "explain.json").read_text())
    assert summary["score_mean_flow_px"] > 0 and len(summary["label_saliency_total"]) == 20
