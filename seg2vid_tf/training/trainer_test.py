"""The training loop: learning, distribution, resuming, non-finite losses."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seg2vid_tf.data import synthetic
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.training import trainer
from seg2vid_tf.training.config import TrainConfig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synthetic"))
    synthetic.generate_dataset(path, 3, 6, 128, 128, seed=3, val_fraction=0.34)
    return path


def tiny_config(data_dir, **changes):
    values = dict(model=Img2VidConfig(height=128, width=128, width_multiplier=0.0625),
                  data_dir=data_dir, batch_size=2, train_steps=2, checkpoint_every=100,
                  summary_every=1, image_summary_every=100, eval_batches=1,
                  loss_weights=tuple(sorted(dict(trainer.losses.DEFAULT_WEIGHTS, vgg=0.0).items())))
    values.update(changes)
    return TrainConfig(**values)


def test_training_steps_reduce_the_loss_on_a_fixed_batch(data_dir, tmp_path):
    run = trainer.Trainer(tiny_config(data_dir, learning_rate=2e-3), str(tmp_path))
    batch = next(iter(trainer.train_dataset(run.config, repeat=False, shuffle=False)))
    import tensorflow as tf

    before = float(run._replica_objective(batch)[0])
    for _ in range(3):
        with tf.GradientTape() as tape:
            objective = run._replica_objective(batch)[0]
        grads = tape.gradient(objective, run.model.trainable_variables)
        run.optimizer.apply(grads, run.model.trainable_variables)
    after = float(run._replica_objective(batch)[0])
    assert after < before


def test_resumed_run_ends_with_the_same_weights(data_dir, tmp_path):
    straight = trainer.Trainer(tiny_config(data_dir, train_steps=4), str(tmp_path / "a"))
    straight.fit(progress=False)
    first = trainer.Trainer(tiny_config(data_dir, train_steps=2), str(tmp_path / "b"))
    first.fit(progress=False)
    resumed = trainer.Trainer(tiny_config(data_dir, train_steps=4), str(tmp_path / "b"))
    assert resumed.restore() is not None and int(resumed.step.numpy()) == 2
    resumed.fit(progress=False)
    assert int(resumed.step.numpy()) == 4
    for a, b in zip(trainer.trainable_weights_numpy(straight.model),
                    trainer.trainable_weights_numpy(resumed.model)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_non_finite_losses_skip_steps_then_stop(data_dir, tmp_path):
    run = trainer.Trainer(tiny_config(data_dir, train_steps=5, max_nonfinite_steps=2),
                          str(tmp_path))
    before = trainer.trainable_weights_numpy(run.model)
    run.train_step = lambda: ({"total": float("nan")}, False)
    with pytest.raises(trainer.NonFiniteLossError, match="2 non-finite losses in a row"):
        run.fit(progress=False)
    for a, b in zip(before, trainer.trainable_weights_numpy(run.model)):
        np.testing.assert_array_equal(a, b)


def test_perceptual_loss_without_weights_names_the_flag(data_dir):
    with pytest.raises(ValueError, match="--vgg19_weights"):
        TrainConfig(data_dir=data_dir)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "Known open bug (issue 4): after 2 SGD steps the 2-replica weights differ from the "
    "1-device weights by 1.4e-2 (measured 2026-11-25); strict, so a fix makes this fail "
    "until the mark is removed."))
def test_two_devices_give_the_weights_of_one_device(data_dir, tmp_path):
    """MirroredStrategy over 2 logical CPUs with synchronized batch norm == 1 device.

    Plain SGD: Adam divides by the gradient's magnitude, which turns float rounding in
    near-zero gradients into learning-rate-sized differences and hides what is tested
    here (loss scaling and gradient aggregation).
    """
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        sys.path.insert(0, {REPO!r})
        from seg2vid_tf.training import trainer, trainer_test
        import keras
        config = trainer_test.tiny_config({data_dir!r}, sync_batch_norm=True)
        def with_sgd(run):
            with run.strategy.scope():
                run.optimizer = keras.optimizers.SGD(learning_rate=0.05)
                run.optimizer.build(run.model.trainable_variables)
            return run
        one = with_sgd(trainer.Trainer(config, {str(tmp_path / 'one')!r}))
        one.fit(progress=False)
        two = with_sgd(trainer.Trainer(config, {str(tmp_path / 'two')!r},
                              strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])))
        assert two.strategy.num_replicas_in_sync == 2
        two.fit(progress=False)
        diffs = [float(np.abs(a - b).max()) for a, b in zip(
            trainer.trainable_weights_numpy(one.model), trainer.trainable_weights_numpy(two.model))]
        print(json.dumps({{"max_diff": max(diffs)}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["max_diff"] < 1e-5, report
