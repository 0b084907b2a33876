"""Explanations of the predicted motion: tf-keras-vis on the functional wrapper."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.evaluation import motion_saliency
from seg2vid_tf.labels import LABEL_NAMES
from seg2vid_tf.models.config import NUM_CLASSES
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models, street_label_map


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_models(str(tmp_path_factory.mktemp("models")))[0]


@pytest.fixture(scope="module")
def video_model(model_dir):
    return load_seg2vid(model_dir).video_model


def test_wrapper_reproduces_the_model_flow(video_model):
    labels = street_label_map()
    frame = np.random.default_rng(0).uniform(size=(1, SIZE, SIZE, 3)).astype(np.float32)
    z = tf.random.stateless_normal([1, video_model.config.latent_rows, 1024], seed=[1, 0])
    wrapped = motion_saliency.motion_model(video_model, z)
    conditioning = video_model.conditioning(tf.constant(frame), tf.constant(labels))
    flow = wrapped([conditioning]).numpy()
    outputs = video_model({"video": frame[:, None], "label_map": labels, "z": z,
                           "noise": np.zeros_like(frame)}, training=False)
    pixels = np.stack([outputs["flow"][..., 0].numpy() * (SIZE - 1) / 2.0,
                       outputs["flow"][..., 1].numpy() * (SIZE - 1) / 2.0], axis=-1)
    np.testing.assert_allclose(flow, pixels, atol=1e-3)


def _box(top, left, height=20, width=40):
    region = np.zeros((SIZE, SIZE), np.float32)
    region[top:top + height, left:left + width] = 1.0
    return region


def _pixels():
    """A start frame as the command reads it from a PNG: uint8."""
    return np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)


def _regions():
    """The car's pixels (train id 13: rows 74-95, columns 42-84, 6% of the frame) and a
    20 x 40 box up in the sky."""
    return {"car": (street_label_map()[0] == 13).astype(np.float32), "sky": _box(20, 70)}


@pytest.fixture(scope="module")
def explained(video_model):
    """Plain-gradient explanations of the motion in each of `_regions()`."""
    frame, labels = _pixels().astype(np.float32) / 255.0, street_label_map()[0]
    return {name: motion_saliency.explain(video_model, frame, labels, region, seed=0,
                                          smooth_samples=0)
            for name, region in _regions().items()}


def _gradients(video_model, frame, labels, region, seed):
    """The score and |d score / d input| with a plain GradientTape, not tf-keras-vis: the
    frame's channels through the whole Img2Vid call, the label channels through the image
    encoder's input of the wrapper (which `test_wrapper_reproduces_the_model_flow` checks)."""
    z = tf.random.stateless_normal([1, video_model.config.latent_rows, 1024], seed=[seed, 0])

    def score_of(pixel_flow):  # mean over time of the flow's length, mean over the region
        length = tf.sqrt(tf.reduce_sum(tf.square(pixel_flow), axis=-1) + 1e-12)
        return tf.reduce_sum(tf.reduce_mean(length, axis=1)[0] * region) / region.sum()

    start = tf.constant(frame[None])
    with tf.GradientTape() as tape:
        tape.watch(start)
        outputs = video_model({"video": start[:, None], "label_map": labels[None], "z": z,
                               "noise": tf.zeros_like(start)}, training=False)
        score = score_of(outputs["flow"] * (SIZE - 1) / 2.0)  # normalized -> pixels
    frame_gradient = np.abs(tape.gradient(score, start).numpy()[0])
    conditioning = video_model.conditioning(start, tf.constant(labels[None]))
    with tf.GradientTape() as tape:
        tape.watch(conditioning)
        label_score = score_of(motion_saliency.motion_model(video_model, z)([conditioning]))
    channels = frame.shape[-1]
    label_gradient = np.abs(tape.gradient(label_score, conditioning).numpy()[0, ..., channels:])
    return float(score), frame_gradient, label_gradient


def test_saliency_is_the_gradient_of_the_motion_in_the_region(video_model, explained):
    labels, frame = street_label_map()[0], _pixels().astype(np.float32) / 255.0
    result = explained["car"]
    score, frame_gradient, label_gradient = _gradients(video_model, frame, labels,
                                                       _regions()["car"], 0)
    assert result["score"] == pytest.approx(score, rel=1e-6)
    # Both maps share one scale: the largest gradient of any input channel.
    scale = max(frame_gradient.max(), label_gradient.max())
    np.testing.assert_allclose(result["frame_saliency"], frame_gradient.max(axis=-1) / scale,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["label_saliency"], label_gradient / scale,
                               rtol=1e-5, atol=1e-6)


def _mass_and_centre(saliency, region):
    rows, columns = np.mgrid[0:SIZE, 0:SIZE]
    total = saliency.sum()
    return (saliency[region > 0].sum(), saliency[region == 0].sum(),
            ((saliency * rows).sum() / total, (saliency * columns).sum() / total))


def test_maps_have_the_input_size_and_respond_to_the_region(video_model, explained):
    for name, region in _regions().items():  # two regions far apart
        result = explained[name]
        assert result["frame_saliency"].shape == (SIZE, SIZE)
        assert result["gradcam"].shape == (SIZE, SIZE)
        assert result["label_saliency"].shape == (SIZE, SIZE, NUM_CLASSES)
        rows, columns = np.nonzero(region)
        for kind, saliency in (("frame", result["frame_saliency"]),
                               ("labels", result["label_saliency"].sum(axis=-1))):
            inside, outside, (row, column) = _mass_and_centre(saliency, region)
            # More of the saliency lies in the ~5% of the pixels whose motion is explained
            # than in the other ~95%, and its centre moves with the region.
            assert inside > outside, (name, kind, inside, outside)
            assert rows.min() <= row <= rows.max(), (name, kind, row)
            assert columns.min() <= column <= columns.max(), (name, kind, column)
    # SmoothGrad (noisy copies of the input, numpy's global generator) keeps the response.
    np.random.seed(0)
    labels, frame = street_label_map()[0], _pixels().astype(np.float32) / 255.0
    smoothed = motion_saliency.explain(video_model, frame, labels, region, seed=0,
                                       smooth_samples=2)
    inside, outside, _ = _mass_and_centre(smoothed["frame_saliency"], region)
    assert inside > outside
    with pytest.raises(ValueError, match="region is empty"):
        motion_saliency.explain(video_model, frame, labels, np.zeros_like(region),
                                smooth_samples=0)


def test_command_writes_what_the_explanation_gives(model_dir, explained, tmp_path):
    labels, pixels = street_label_map()[0], _pixels()
    Image.fromarray(labels.astype(np.uint8)).save(tmp_path / "labels.png")
    Image.fromarray(pixels).save(tmp_path / "frame.png")
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.explain", f"--checkpoint_dir={model_dir}",
         f"--label_map={tmp_path / 'labels.png'}", f"--first_frame={tmp_path / 'frame.png'}",
         f"--output_dir={tmp_path / 'out'}", "--explain_class=13", "--smooth_samples=0"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    # The same explanation in this process: the car's pixels (train id 13), plain gradients,
    # the same frame (PNG is lossless).
    expected = explained["car"]
    summary = json.loads((tmp_path / "out" / "explain.json").read_text())
    assert summary["score_mean_flow_px"] == pytest.approx(expected["score"], rel=1e-6)
    names = list(LABEL_NAMES)
    assert list(summary["label_saliency_total"]) == names
    totals = expected["label_saliency"].astype(np.float64).sum(axis=(0, 1))
    assert [summary["label_saliency_total"][name] for name in names] == pytest.approx(
        totals.tolist(), rel=1e-6)  # the command sums float32 maps (pairwise: ~1e-7)
    # The pictures: the start frame beside its overlay; the overlays (uint8 truncation of the
    # same floats) may differ by one level where a float lands on a level boundary.
    motion_saliency.write_explanations(expected, pixels.astype(np.float32) / 255.0,
                                       str(tmp_path / "in_process"))
    for name in ("saliency_frame.png", "gradcam.png", "saliency_labels.png"):
        with Image.open(tmp_path / "out" / name) as image:
            written = np.asarray(image, np.int16)
        with Image.open(tmp_path / "in_process" / name) as image:
            here = np.asarray(image, np.int16)
        assert written.shape == here.shape, name
        assert np.abs(written - here).max() <= 1, name
        if name != "saliency_labels.png":
            np.testing.assert_array_equal(written[:, :SIZE], pixels)
            assert np.abs(written[:, SIZE:] - pixels).max() > 50  # the heat map is drawn
