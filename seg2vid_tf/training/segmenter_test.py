"""The FCN-score segmenter: network shape, learning, resuming, saving, and its command."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.data import synthetic
from seg2vid_tf.models import segmenter as segmenter_lib
from seg2vid_tf.training import checkpoints, segmenter

SIZE = 64


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synthetic"))
    synthetic.generate_dataset(path, 3, 3, SIZE, SIZE, seed=7, val_fraction=0.34)
    return path


# A 2-level, 4-filter segmenter on 64x64 crops: a few steps take seconds.
TINY = dict(height=SIZE, width=SIZE, batch_size=4, train_steps=2, base_filters=4, depth=2,
            checkpoint_every=100, summary_every=1, image_summary_every=100, num_samples=2)


def tiny_config(data_dir, **changes):
    return segmenter.SegmenterTrainConfig(**{**TINY, "data_dir": data_dir, **changes})


def test_network_outputs_logits_and_the_last_hidden_layer():
    model = segmenter_lib.build_segmenter(segmenter_lib.SegmenterConfig(base_filters=4, depth=2))
    outputs = model(tf.zeros([2, 32, 48, 3]))
    assert outputs["logits"].shape == (2, 32, 48, segmenter_lib.NUM_SEGMENTER_CLASSES)
    assert outputs["features"].shape == (2, 32, 48, 4)
    assert model.get_layer(segmenter_lib.FEATURES_LAYER) is not None
    with pytest.raises(ValueError, match="multiple of 4"):
        segmenter_lib.SegmenterConfig(depth=2).check_size(30, 32)


def test_loss_ignores_void_pixels():
    logits = tf.random.normal([1, 2, 2, segmenter_lib.NUM_SEGMENTER_CLASSES], seed=1)
    labels = tf.constant([[[0, 19], [19, 19]]])
    only_first = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0]), logits=logits[:, 0, 0])
    np.testing.assert_allclose(segmenter.segmentation_loss(logits, labels), only_first[0],
                               rtol=1e-6)


def test_training_learns_the_real_frames(data_dir, tmp_path):
    config = tiny_config(data_dir, train_steps=120, learning_rate=3e-3, summary_every=40,
                         image_summary_every=120, checkpoint_every=60)
    untrained = segmenter_lib.build_segmenter(config.network_config)
    before = segmenter.score_real_frames(untrained, data_dir, "train", SIZE, SIZE)
    segmenter.train(config, str(tmp_path), progress=False)
    model = segmenter.load_segmenter(str(tmp_path))
    after = segmenter.score_real_frames(model, data_dir, "train", SIZE, SIZE)
    # Road, sky and buildings cover most pixels: a learning network gets most of them right.
    assert after["pixel_accuracy"] > 0.75 > before["pixel_accuracy"]
    assert after["miou"] > before["miou"] + 0.1
    assert os.path.isfile(tmp_path / "samples" / "step_000120.png")


def test_resumes_at_the_saved_step(data_dir, tmp_path):
    segmenter.train(tiny_config(data_dir, train_steps=3), str(tmp_path), progress=False)
    resumed = segmenter.SegmenterTrainer(tiny_config(data_dir, train_steps=5), str(tmp_path))
    assert resumed.restore() is not None
    assert int(resumed.step.numpy()) == 3


def test_resume_skips_a_truncated_latest_checkpoint_and_stops_when_none_is_usable(
        data_dir, tmp_path):
    """A cut-short data shard of the latest checkpoint: the previous one, exactly."""
    workdir = str(tmp_path)
    config = tiny_config(data_dir, train_steps=2, checkpoint_every=1)
    segmenter.train(config, workdir, progress=False)
    weights = {}
    for number in (1, 2):
        reference = segmenter.SegmenterTrainer(config, workdir)
        reference.checkpoint.restore(os.path.join(workdir, f"ckpt-{number}"))
        weights[number] = [variable.numpy() for variable in reference.model.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(weights[1], weights[2]))
    data_file = os.path.join(workdir, "ckpt-2.data-00000-of-00001")
    with open(data_file, "r+b") as handle:
        handle.truncate(os.path.getsize(data_file) - 100)
    resumed = segmenter.SegmenterTrainer(tiny_config(data_dir, train_steps=4), workdir)
    assert resumed.restore() == os.path.join(workdir, "ckpt-1")
    assert int(resumed.step.numpy()) == 1
    for expected, variable in zip(weights[1], resumed.model.trainable_variables):
        np.testing.assert_array_equal(variable.numpy(), expected)
    with open(os.path.join(workdir, "ckpt-1.index"), "r+b") as handle:
        handle.truncate(10)
    with pytest.raises(checkpoints.UnusableCheckpointError, match="--model_dir"):
        segmenter.train(config, workdir, progress=False)


def test_missing_directory_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--segmenter_checkpoint_dir"):
        segmenter.load_segmenter(str(tmp_path))


def test_bad_config_names_the_flag(data_dir):
    with pytest.raises(ValueError, match="--learning_rate"):
        tiny_config(data_dir, learning_rate=0.0)
    with pytest.raises(ValueError, match="multiple of 4"):
        tiny_config(data_dir, height=30)
    with pytest.raises(ValueError, match="seed"):
        tiny_config(data_dir, seed=-1)
    with pytest.raises(ValueError, match="num_samples"):
        tiny_config(data_dir, num_samples=0)


def test_defaults_are_the_segmenters_and_the_networks():
    config = segmenter.SegmenterTrainConfig()
    assert (config.width, config.batch_size, config.train_steps, config.learning_rate,
            config.keep_checkpoints) == (128, 8, 1200, 2e-3, 2)
    assert config.network_config == segmenter_lib.SegmenterConfig()


def test_only_the_chief_scores(data_dir, tmp_path, monkeypatch):
    """A worker that is not the chief trains but scores nothing (it wrote no checkpoint)."""
    from seg2vid_tf.training import base  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(base, "is_chief", lambda strategy: False)
    scored = []
    monkeypatch.setattr(segmenter, "score_real_frames", lambda *args: scored.append(args))
    result = segmenter.train_and_score(tiny_config(data_dir, train_steps=1), str(tmp_path),
                                       progress=False)
    assert result["val"] == {} and not scored
    assert set(result["losses"]) == {"cross_entropy"}


def test_command_reports_the_val_score(data_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.train_segmenter", f"--data_dir={data_dir}",
         f"--model_dir={tmp_path}", f"--height={SIZE}", f"--width={SIZE}", "--train_steps=2",
         "--base_filters=4", "--depth=2", "--batch_size=2"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout[result.stdout.index("{"):])
    model = segmenter.load_segmenter(str(tmp_path))
    expected = segmenter.score_real_frames(model, data_dir, "val", SIZE, SIZE)
    assert printed["val"]["miou"] == pytest.approx(expected["miou"], rel=1e-6)
    missing = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.train_segmenter", f"--model_dir={tmp_path}"],
        capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 2 and "error: --data_dir is required" in missing.stderr

