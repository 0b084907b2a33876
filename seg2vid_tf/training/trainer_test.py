"""The training loop: learning, distribution, resuming, non-finite losses."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.data import synthetic
from seg2vid_tf.data.synthetic import raycast
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.testing import multi_worker
from seg2vid_tf.training import trainer
from seg2vid_tf.training.config import TrainConfig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Point-sampled frames (one ray per pixel: a quarter of the rendering time)."""
    path = str(tmp_path_factory.mktemp("synthetic"))
    default = raycast.SUPERSAMPLING
    raycast.SUPERSAMPLING = 1
    try:
        synthetic.generate_dataset(path, 3, 6, 128, 128, seed=3, val_fraction=0.34)
    finally:
        raycast.SUPERSAMPLING = default
    return path


# Speed only: these tests check the training logic, not Grappler's graph rewrites, and with
# them off a tiny model's step graph is ready about a quarter sooner.
FAST_TRACE = {"disable_meta_optimizer": True}


@pytest.fixture(scope="module", autouse=True)
def fast_trace():
    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options(FAST_TRACE)
    yield
    tf.config.optimizer.set_experimental_options(
        dict(before, disable_meta_optimizer=before.get("disable_meta_optimizer", False)))


# One predicted frame: the distribution tests check the bookkeeping, which does not depend on
# the clip length, and they run faster (the two-devices test alone: 54 s against 66 s).
ONE_FRAME = Img2VidConfig(height=128, width=128, width_multiplier=0.0625, num_predicted_frames=1)


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


def test_the_step_weighs_recon_coarse_at_the_configured_factors(data_dir, tmp_path):
    weights = dict(trainer.losses.DEFAULT_WEIGHTS, vgg=0.0, recon_coarse=1.0)
    run = trainer.Trainer(tiny_config(data_dir, model=ONE_FRAME, recon_coarse_factors=(4,),
                                      loss_weights=tuple(sorted(weights.items()))),
                          str(tmp_path))
    batch = next(iter(trainer.train_dataset(run.config, repeat=False, shuffle=False)))
    _, terms, outputs = run._replica_objective(batch)
    video = batch["video"]
    expected = [float(trainer.losses.coarse_reconstruction(
        video[:, 0], video[:, 1:], outputs["flow"], outputs["mask_fw"][..., None], factors))
        for factors in ((4,), (2, 4))]
    assert float(terms["recon_coarse"]) == pytest.approx(expected[0], rel=1e-5)
    assert abs(expected[1] - expected[0]) > 1e-3  # the factors make a difference


def test_mixed_bfloat16_training_steps_and_checkpoints_float32_weights(data_dir, tmp_path):
    run = trainer.Trainer(tiny_config(data_dir, precision="mixed_bfloat16"), str(tmp_path))
    assert run.model.flow_decoder.compute_dtype == "bfloat16"
    start = trainer.trainable_weights_numpy(run.model)
    terms = run.fit(progress=False)
    assert np.isfinite(terms["total"])
    moved = trainer.trainable_weights_numpy(run.model)
    assert all(w.dtype == np.float32 for w in moved)
    assert max(float(np.abs(a - b).max()) for a, b in zip(start, moved)) > 0
    with pytest.raises(ValueError, match="--precision"):
        tiny_config(data_dir, precision="float16")


def test_resumed_run_ends_with_the_same_weights(data_dir, tmp_path):
    """A run stopped after step 1 (its step-2 checkpoint gone) and resumed ends as the straight run.

    The weights, Adam's moments and the data iterator's position all come back from
    the step-1 checkpoint: any of them missing gives other weights after step 2.
    """
    straight_dir, resumed_dir = tmp_path / "straight", tmp_path / "resumed"
    straight = trainer.Trainer(tiny_config(data_dir, checkpoint_every=1), str(straight_dir))
    straight.fit(progress=False)
    shutil.copytree(straight_dir, resumed_dir)
    for path in resumed_dir.glob("ckpt-2.*"):
        path.unlink()
    resumed = trainer.Trainer(tiny_config(data_dir), str(resumed_dir))
    assert resumed.restore() is not None and int(resumed.step.numpy()) == 1
    resumed.fit(progress=False)
    assert int(resumed.step.numpy()) == 2
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


def test_one_worker_or_no_tf_config_is_local_and_bad_tf_config_is_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 0}}))
    assert not isinstance(trainer.make_strategy(), tf.distribute.MultiWorkerMirroredStrategy)
    assert trainer.is_chief(trainer.make_strategy())
    monkeypatch.delenv("TF_CONFIG")
    assert trainer.make_strategy().num_replicas_in_sync >= 1
    monkeypatch.setenv("TF_CONFIG", "{cluster")
    with pytest.raises(ValueError, match="TF_CONFIG environment variable is not valid JSON"):
        trainer.make_strategy()


def test_trains_and_evaluates_on_kth_grayscale_without_label_maps(tmp_path):
    """--dataset=kth: 1-channel clips without label maps, evaluated on the test persons."""
    from PIL import Image  # pylint: disable=import-outside-toplevel

    root = tmp_path / "kth"
    for video, count in (("person01_boxing_d1", 6), ("person02_boxing_d1", 5),
                         ("person17_boxing_d1", 5)):
        folder = root / "boxing" / video
        folder.mkdir(parents=True)
        for index in range(count):
            value = (np.arange(32 * 32).reshape(32, 32) * (index + 1)) % 256
            Image.fromarray(value.astype(np.uint8)).save(folder / f"image-{index:04d}.png")
    model = Img2VidConfig(height=128, width=128, width_multiplier=0.0625, label_mode="none",
                          channels=1)
    config = tiny_config(str(root), dataset="kth", model=model, train_steps=1)
    batch = next(iter(trainer.train_dataset(config)))
    assert "label_map" not in batch and batch["video"].shape == (2, 5, 128, 128, 1)
    result = trainer.train_and_evaluate(config, str(tmp_path / "model"), progress=False)
    assert np.isfinite(result["train"]["total"])
    # Evaluation read the one test clip (person 17): 4 predicted frames.
    assert result["eval"]["num_frames_evaluated"] == 4
    assert os.path.basename(tf.train.latest_checkpoint(str(tmp_path / "model"))) == "ckpt-1"


@pytest.mark.parametrize("label_mode", ["one_path", "none"])
def test_every_variant_trains_on_synthetic_data(data_dir, tmp_path, label_mode):
    """One-path and no-label RGB models take training steps on synthetic data (the two-path
    model: every other test; the no-label grayscale one: the KTH test)."""
    model = Img2VidConfig(height=128, width=128, width_multiplier=0.0625, label_mode=label_mode)
    config = tiny_config(data_dir, model=model, train_steps=2)
    batch = next(iter(trainer.train_dataset(config)))
    assert ("label_map" in batch) == (label_mode != "none")
    run = trainer.Trainer(config, str(tmp_path))
    before = trainer.trainable_weights_numpy(run.model)
    terms = run.fit(progress=False)
    assert int(run.step.numpy()) == 2 and np.isfinite(terms["total"])
    assert any(np.abs(a - b).max() > 0 for a, b in zip(
        before, trainer.trainable_weights_numpy(run.model)))


def test_grayscale_synthetic_clips_are_the_luma_of_the_rgb_ones(data_dir):
    def first_batch(channels):
        model = Img2VidConfig(height=128, width=128, width_multiplier=0.0625, label_mode="none",
                              channels=channels)
        return next(iter(trainer.train_dataset(tiny_config(data_dir, model=model))))

    gray, rgb = first_batch(1)["video"].numpy(), first_batch(3)["video"].numpy()
    assert gray.shape == rgb.shape[:-1] + (1,)
    luma = rgb @ np.array([0.2989, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(gray[..., 0], luma, atol=2e-3)


_TWO_CPUS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, REPO)
    import keras
    from seg2vid_tf.training import trainer, trainer_test
    tf.config.optimizer.set_experimental_options(trainer_test.FAST_TRACE)

    def with_sgd(run):
        with run.strategy.scope():
            run.optimizer = keras.optimizers.SGD(learning_rate=0.05)
            run.optimizer.build(run.model.trainable_variables)
        return run

    def two_replicas(config, workdir):
        run = with_sgd(trainer.Trainer(config, workdir, strategy=tf.distribute.MirroredStrategy(
            ["/cpu:0", "/cpu:1"])))
        assert run.strategy.num_replicas_in_sync == 2
        return run

    def max_difference(a, b):
        return max(float(np.abs(x - y).max()) for x, y in zip(
            trainer.trainable_weights_numpy(a), trainer.trainable_weights_numpy(b)))
""")


def _run_on_two_cpus(body, timeout=600):
    """Runs `_TWO_CPUS + body` in a fresh Python (2 logical CPUs); returns its last JSON line.

    With TensorFlow's own (Eigen) CPU kernels, oneDNN's off: with oneDNN, a
    MirroredStrategy over 2 logical CPUs computes some gradients about 1% away
    from one device's on some data (the first encoder layer's kernel 4.3e-4 away
    after one SGD step on renderer-4 point-sampled frames, where its step is
    0.048), while one device with oneDNN, one device without it and 2 replicas
    without it agree to 5e-7. Not a race (the same with one inter-op thread) and
    not Grappler's remapper (the same with it off); see the README, "Training and
    evaluation". These tests check this project's distribution logic, which
    agrees to float rounding.
    """
    script = f"REPO = {REPO!r}\n" + _TWO_CPUS + textwrap.dedent(body)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                            text=True, timeout=timeout, check=False,
                            env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0"))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# Loss terms whose gradient is a smooth function of the network's outputs.
_SMOOTH_TERMS = ("flow_smoothness", "kld", "mask")


def test_two_devices_give_the_weights_of_one_device(data_dir, tmp_path):
    """MirroredStrategy over 2 logical CPUs with synchronized batch norm == 1 device, 2 steps.

    Covers splitting the global batch and its noise, the loss scaling (mean
    terms and the summed KL), cross-replica batch statistics and their
    gradients, and the optimizer's single all-reduce.

    Plain SGD: Adam divides by the gradient's magnitude, which turns float
    rounding in near-zero gradients into learning-rate-sized differences.
    Smooth loss terms only: the L1 terms and the bilinear warp have gradients
    that jump (the sign of |x| at 0, the neighbour pair where a sampling point
    crosses a pixel), and the 1-replica and 2-replica forward passes agree only
    to float rounding (other summation orders), which flips some of those
    jumps: the full loss's gradient differs by ~2% between them, as it does on
    one device between a batch and the same batch in reverse order. The
    terms left out are covered by the next test.
    """
    weights = dict(trainer.losses.DEFAULT_WEIGHTS)
    weights = {key: (value if key in _SMOOTH_TERMS else 0.0) for key, value in weights.items()}
    report = _run_on_two_cpus(f"""
        config = trainer_test.tiny_config({data_dir!r}, model=trainer_test.ONE_FRAME,
                                          sync_batch_norm=True,
                                          loss_weights={tuple(sorted(weights.items()))!r})
        one = with_sgd(trainer.Trainer(config, {str(tmp_path / 'one')!r}))
        start = trainer.trainable_weights_numpy(one.model)
        one.fit(progress=False)
        moved = max(float(np.abs(a - b).max())
                    for a, b in zip(start, trainer.trainable_weights_numpy(one.model)))
        two = two_replicas(config, {str(tmp_path / 'two')!r})
        two.fit(progress=False)
        print(json.dumps({{"max_diff": max_difference(one.model, two.model), "moved": moved,
                          "steps": int(two.step.numpy())}}))
    """)
    print(report)
    assert report["steps"] == 2
    assert report["moved"] > 0.01, report  # the steps changed the weights
    assert report["max_diff"] < 1e-5, report


def test_two_replicas_with_their_own_batch_norm_step_on_the_full_global_loss(data_dir, tmp_path):
    """2 replicas, per-replica batch norm == one device on the global loss of the whole batch.

    Every loss term (the L1 and warp terms included) and the refine network.
    The one-device reference runs the network on each half of the global batch
    (batch norm statistics per half, as on the replicas; batch 1 on both sides,
    so the forward passes agree and no gradient jump is hit), joins the outputs
    and takes the gradient of `losses.img2vid_losses` on the whole batch: the
    loss's own batch reduction, not the trainer's per-replica scaling.
    """
    report = _run_on_two_cpus(f"""
        from seg2vid_tf import losses
        config = trainer_test.tiny_config({data_dir!r}, model=trainer_test.ONE_FRAME,
                                          train_steps=1)
        one = with_sgd(trainer.Trainer(config, {str(tmp_path / 'one')!r}))
        model = one.model
        batch = next(one.iterator)

        @tf.function
        def gradients(batch):
            with tf.GradientTape() as tape:
                outputs = []
                for i in range(2):
                    half = {{key: value[i:i + 1] for key, value in batch.items()}}
                    mu, logvar = model.encode_motion(half["video"], half["label_map"],
                                                     training=True)
                    inputs = dict(trainer.model_inputs(half), video=half["video"][:, :1],
                                  z=mu + tf.exp(0.5 * logvar) * half["eps"])
                    outputs.append(dict(model(inputs, training=True), mu=mu, logvar=logvar))
                joined = {{key: tf.concat([o[key] for o in outputs], 0) for key in outputs[0]}}
                total = losses.img2vid_losses(batch["video"], joined, None, config.weights)["total"]
            return tape.gradient(total, model.trainable_variables)

        start = trainer.trainable_weights_numpy(model)
        one.optimizer.apply(gradients(batch), model.trainable_variables)
        moved = max(float(np.abs(a - b).max())
                    for a, b in zip(start, trainer.trainable_weights_numpy(model)))
        two = two_replicas(config, {str(tmp_path / 'two')!r})
        two.fit(progress=False)
        print(json.dumps({{"max_diff": max_difference(model, two.model), "moved": moved,
                          "steps": int(two.step.numpy())}}))
    """)
    print(report)
    assert report["steps"] == 1
    assert report["moved"] > 0.01, report
    assert report["max_diff"] < 1e-5, report


_WORKER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, REPO)
    import tensorflow as tf
    from seg2vid_tf.training import trainer, trainer_test
    strategy = trainer.make_strategy()  # before any other TensorFlow op
    assert isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy), type(strategy)
    # Speed only: one predicted frame and no graph optimization halve the time to trace.
    tf.config.optimizer.set_experimental_options(trainer_test.FAST_TRACE)
    config = trainer_test.tiny_config(DATA_DIR, model=trainer_test.ONE_FRAME)
    run = trainer.Trainer(config, WORKDIR, strategy=strategy)
    run.restore()
    terms = run.fit(progress=False)
    print(json.dumps({"chief": run.is_chief, "replicas": strategy.num_replicas_in_sync,
                      "step": int(run.step.numpy()), "total": terms["total"]}))
""")


def test_two_workers_on_localhost_train_and_only_the_chief_keeps_checkpoints(data_dir, tmp_path):
    """MultiWorkerMirroredStrategy from TF_CONFIG: 2 worker processes, 2 steps, 1 CPU each."""
    workdir = str(tmp_path / "model")
    reports = multi_worker.worker_reports(_WORKER, REPO, REPO=REPO, DATA_DIR=data_dir,
                                          WORKDIR=workdir)
    assert [r["chief"] for r in reports] == [True, False]
    assert all(r["replicas"] == 2 and r["step"] == 2 for r in reports), reports
    assert reports[0]["total"] == reports[1]["total"]  # the loss is reduced over both workers
    latest = tf.train.latest_checkpoint(workdir)
    assert os.path.basename(latest) == "ckpt-2"
    assert tf.train.load_checkpoint(latest).get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 2
    assert os.listdir(os.path.join(workdir, "train"))  # the chief's summaries
    assert not [name for name in os.listdir(workdir) if name.startswith("workertemp")]


def test_warmups_ramp_linearly_from_zero_and_the_reference_has_none():
    """`Trainer.ramp(N)`, the factor of `--kld_warmup_steps` and
    `--posterior_noise_warmup_steps`: step / N up to 1; with N = 0 (the reference) it is 1;
    `--latent_warmup_delay_steps=D` holds it at 0 for D steps first."""
    step = tf.Variable(0, dtype=tf.int64)
    no_vgg = (("vgg", 0.0),)
    fake = type("Fake", (), {"step": step, "config": TrainConfig(loss_weights=no_vgg)})()
    delayed = type("Fake", (), {"step": step, "config": TrainConfig(
        loss_weights=no_vgg, latent_warmup_delay_steps=50)})()
    factors = []
    for value in (0, 25, 100, 400):
        step.assign(value)
        factors.append((float(trainer.Trainer.ramp(fake, 100)), float(trainer.Trainer.ramp(fake, 0)),
                        float(trainer.Trainer.ramp(delayed, 100)),
                        float(trainer.Trainer.ramp(delayed, 0))))
    assert factors == [(0.0, 1.0, 0.0, 0.0), (0.25, 1.0, 0.0, 0.0), (1.0, 1.0, 0.5, 1.0),
                       (1.0, 1.0, 1.0, 1.0)]
    for name in ("kld_warmup_steps", "posterior_noise_warmup_steps", "latent_warmup_delay_steps"):
        with pytest.raises(ValueError, match=name):
            TrainConfig(loss_weights=(("vgg", 0.0),), **{name: -1})


def test_at_the_first_warm_up_step_no_kl_pull_and_the_decoder_reads_the_posterior_mean(
        data_dir, tmp_path):
    """At step 0 of the warm-ups the objective is the total without its KL term, and the
    decoder gets z = mu whatever the sampled noise."""
    weights = dict(trainer.losses.DEFAULT_WEIGHTS, vgg=0.0, kld=1000.0)
    config = tiny_config(data_dir, kld_warmup_steps=10, posterior_noise_warmup_steps=10,
                         loss_weights=tuple(sorted(weights.items())))
    fit = trainer.Trainer(config, str(tmp_path / "run"))
    batch = next(iter(trainer.train_dataset(config)))
    objective, scaled, outputs = fit._replica_objective(batch)
    louder = dict(batch, eps=batch["eps"] * 5.0 + 1.0)
    np.testing.assert_allclose(fit._replica_objective(louder)[2]["frames"], outputs["frames"],
                               atol=1e-6)
    fit.step.assign(5)
    assert np.abs(fit._replica_objective(louder)[2]["frames"] - outputs["frames"]).max() > 1e-4
    without_kl = sum(weights[key] * float(scaled[key]) for key in scaled if key != "kld")
    assert float(scaled["kld"]) > 0
    np.testing.assert_allclose(float(objective), without_kl, rtol=1e-5)
