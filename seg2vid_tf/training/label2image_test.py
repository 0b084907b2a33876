"""Stage-1 (pix2pixHD) training: learning, losses, resuming, flags, the saved generator."""

import json
import os
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from seg2vid_tf import convert
from seg2vid_tf.data import synthetic
from seg2vid_tf.models import pix2pixhd, vgg19
from seg2vid_tf.testing import multi_worker
from seg2vid_tf.training import label2image
from seg2vid_tf.training.trainer import NonFiniteLossError

SIZE = 64
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synthetic"))
    synthetic.generate_dataset(path, 3, 2, SIZE, SIZE, seed=5, val_fraction=0.34)
    return path


def tiny_config(data_dir, **changes):
    values = dict(data_dir=data_dir, height=SIZE, width=SIZE, batch_size=2, train_steps=2,
                  ngf=4, n_downsample_global=2, n_blocks_global=1, ndf=4, n_layers_d=2, num_d=2,
                  weight_vgg=0.0, checkpoint_every=100, summary_every=1,
                  image_summary_every=100, num_samples=2)
    values.update(changes)
    return label2image.Label2ImageConfig(**values)


def _fixed_batch(run):
    return next(iter(label2image.image_dataset(run.config, repeat=False, shuffle=False)))


def _update(run, batch, generator=True, discriminator=True):
    with tf.GradientTape(persistent=True) as tape:
        g_objective, d_objective, _, _ = run.replica_losses(batch)
    if generator:
        run.generator_optimizer.apply(
            tape.gradient(g_objective, run.generator.trainable_variables),
            run.generator.trainable_variables)
    if discriminator:
        run.discriminator_optimizer.apply(
            tape.gradient(d_objective, run.discriminator.trainable_variables),
            run.discriminator.trainable_variables)


def test_generator_steps_reduce_the_generator_loss_on_a_fixed_batch(data_dir, tmp_path):
    run = label2image.Label2ImageTrainer(tiny_config(data_dir, learning_rate=2e-3,
                                                     decay_fraction=0.0), str(tmp_path))
    batch = _fixed_batch(run)
    before = float(run.replica_losses(batch)[0])
    for _ in range(3):
        _update(run, batch, discriminator=False)
    after = float(run.replica_losses(batch)[0])
    assert after < before


def test_discriminator_steps_separate_real_from_generated(data_dir, tmp_path):
    run = label2image.Label2ImageTrainer(tiny_config(data_dir, learning_rate=2e-3,
                                                     decay_fraction=0.0), str(tmp_path))
    batch = _fixed_batch(run)

    def scores():
        inputs = run.generator_inputs(batch["label_map"])
        fake = run.generator(inputs, training=False)
        real = run.discriminator(tf.concat([inputs, batch["image"]], -1))[0][-1]
        fake = run.discriminator(tf.concat([inputs, fake], -1))[0][-1]
        return float(tf.reduce_mean(real)), float(tf.reduce_mean(fake))

    d_before = float(run.replica_losses(batch)[1])
    for _ in range(5):
        _update(run, batch, generator=False)
    real_score, fake_score = scores()
    assert float(run.replica_losses(batch)[1]) < d_before
    assert real_score > fake_score


def test_losses_follow_pix2pixhd():
    # Two scales, each with 3 groups; the last group is the GAN output.
    real = [[tf.fill([1, 2, 2, 1], 1.0), tf.fill([1, 2, 2, 1], 2.0), tf.fill([1, 1, 1, 1], 0.5)],
            [tf.fill([1, 2, 2, 1], 0.0), tf.fill([1, 2, 2, 1], 4.0), tf.fill([1, 1, 1, 1], 3.0)]]
    fake = [[tf.fill([1, 2, 2, 1], 3.0), tf.fill([1, 2, 2, 1], 2.0), tf.fill([1, 1, 1, 1], 0.0)],
            [tf.fill([1, 2, 2, 1], 1.0), tf.fill([1, 2, 2, 1], 1.0), tf.fill([1, 1, 1, 1], 2.0)]]
    # LSGAN: sum over scales of mean((D - target)^2).
    assert float(label2image.least_squares_gan_loss(real, True)) == pytest.approx(0.25 + 4.0)
    assert float(label2image.least_squares_gan_loss(fake, False)) == pytest.approx(0.0 + 4.0)
    # Feature matching with n_layers=1: weight (1/2) * (4/2) = 1 per layer, last group excluded.
    expected = 1.0 * (2.0 + 0.0) + 1.0 * (1.0 + 3.0)
    assert float(label2image.feature_matching_loss(fake, real, n_layers=1)) == pytest.approx(
        expected)


def test_resumed_run_ends_with_the_same_weights(data_dir, tmp_path):
    straight = label2image.Label2ImageTrainer(tiny_config(data_dir, train_steps=4),
                                              str(tmp_path / "a"))
    straight.fit(progress=False)
    first = label2image.Label2ImageTrainer(tiny_config(data_dir, train_steps=2),
                                           str(tmp_path / "b"))
    first.fit(progress=False)
    resumed = label2image.Label2ImageTrainer(tiny_config(data_dir, train_steps=4),
                                             str(tmp_path / "b"))
    assert resumed.restore() is not None and int(resumed.step.numpy()) == 2
    resumed.fit(progress=False)
    assert int(resumed.step.numpy()) == 4
    for network in ("generator", "discriminator"):
        for a, b in zip(label2image.weights_numpy(getattr(straight, network)),
                        label2image.weights_numpy(getattr(resumed, network))):
            np.testing.assert_allclose(a, b, atol=1e-6)
    # The model directory is a stage-1 checkpoint the pipeline loads.
    loaded = convert.load_label2image(str(tmp_path / "b"))
    assert loaded.config == resumed.config.generator_config
    for a, b in zip(label2image.weights_numpy(loaded),
                    label2image.weights_numpy(resumed.generator)):
        np.testing.assert_array_equal(a, b)


def test_non_finite_losses_skip_steps_then_stop(data_dir, tmp_path):
    run = label2image.Label2ImageTrainer(
        tiny_config(data_dir, train_steps=5, max_nonfinite_steps=2), str(tmp_path))
    before = label2image.weights_numpy(run.generator)
    run.train_step = lambda: ({"g_total": float("nan")}, False)
    with pytest.raises(NonFiniteLossError, match="2 non-finite losses in a row"):
        run.fit(progress=False)
    for a, b in zip(before, label2image.weights_numpy(run.generator)):
        np.testing.assert_array_equal(a, b)


def test_vgg_loss_uses_the_given_weights(data_dir, tmp_path):
    network = vgg19.VGG19Features(output_layers=vgg19.PIX2PIXHD_PERCEPTUAL_LAYERS,
                                  pooling="max")
    network.build((None, None, None, 3))
    path = convert.save_vgg19(network, str(tmp_path / "vgg19.npz"))
    run = label2image.Label2ImageTrainer(
        tiny_config(data_dir, weight_vgg=10.0, vgg19_weights=path, label_edges=True),
        str(tmp_path / "run"))
    assert run.generator.config.input_channels == 21
    terms, applied = run.train_step()
    assert applied and terms["g_vgg"] > 0
    batch = _fixed_batch(run)
    assert float(label2image.vgg_loss(run.perceptual, batch["image"], batch["image"])) == 0.0


@pytest.mark.parametrize("changes, flag", [
    ({"weight_vgg": 10.0}, "--vgg19_weights"),
    ({"ngf": 0}, "--ngf"),
    ({"height": 70}, "--height"),
    ({"norm": "group"}, "--norm"),
    ({"learning_rate": 0.0}, "--learning_rate"),
    ({"decay_fraction": 1.5}, "--decay_fraction"),
    ({"weight_feat": -1.0}, "--weight_feat"),
])
def test_bad_flags_name_the_flag(changes, flag):
    with pytest.raises(ValueError, match=flag):
        tiny_config("unused", **changes)


def test_missing_vgg_file_names_the_flag(data_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="--vgg19_weights"):
        label2image.Label2ImageTrainer(
            tiny_config(data_dir, weight_vgg=1.0, vgg19_weights=str(tmp_path / "none.npz")),
            str(tmp_path / "run"))


def test_flagfile_round_trip_and_idempotent_definition(tmp_path):
    values = flags.FlagValues()
    label2image.define_flags(values)
    label2image.define_flags(values)  # a second call is a no-op
    flagfile = tmp_path / "stage1.cfg"
    flagfile.write_text("--height=64\n--width=128\n--ngf=8\n--weight_vgg=0\n--noflip\n")
    values(["prog", f"--flagfile={flagfile}", "--data_dir=/data", "--ngf=16"])
    config = label2image.config_from_flags(values)
    assert (config.height, config.width, config.ngf, config.flip) == (64, 128, 16, False)
    assert (config.learning_rate, config.beta_1, config.weight_feat) == (2e-4, 0.5, 10.0)
    values = flags.FlagValues()
    label2image.define_flags(values)
    values(["prog", "--data_dir=/data", "--weight_vgg=0", "--n_downsample_global=3",
            "--height=100"])
    with pytest.raises(ValueError, match="--height=100"):
        label2image.config_from_flags(values)


def test_learning_rate_decays_linearly_to_zero():
    schedule = label2image.LinearDecay(2e-4, train_steps=100, decay_fraction=0.5)
    values = [float(schedule(step)) for step in (0, 50, 75, 100)]
    np.testing.assert_allclose(values, [2e-4, 2e-4, 1e-4, 0.0], atol=1e-12)


_WORKER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, REPO)
    import tensorflow as tf
    from seg2vid_tf.training import label2image, label2image_test
    strategy = label2image.make_strategy()  # before any other TensorFlow op
    assert isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy), type(strategy)
    config = label2image_test.tiny_config(DATA_DIR, image_summary_every=1)
    terms = label2image.train(config, WORKDIR, strategy=strategy, progress=False)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "g_total": terms["g_total"]}))
""")


def test_two_workers_train_and_only_the_chief_writes(data_dir, tmp_path):
    """MultiWorkerMirroredStrategy from TF_CONFIG: 2 worker processes, 2 steps, 1 CPU each."""
    workdir = str(tmp_path / "model")
    reports = multi_worker.worker_reports(_WORKER, REPO, REPO=REPO, DATA_DIR=data_dir,
                                          WORKDIR=workdir)
    assert all(report["replicas"] == 2 for report in reports), reports
    assert reports[0]["g_total"] == reports[1]["g_total"]  # reduced over both workers
    latest = tf.train.latest_checkpoint(workdir)
    assert os.path.basename(latest) == "ckpt-2"
    assert tf.train.load_checkpoint(latest).get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 2
    # The chief's summaries, samples and result; no worker's folder is left behind.
    assert os.listdir(os.path.join(workdir, "train"))
    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == ["step_000001.png",
                                                                    "step_000002.png"]
    with open(os.path.join(workdir, "train_label2image.json"), encoding="utf-8") as handle:
        assert json.load(handle)["step"] == 2
    assert not [name for name in os.listdir(workdir) if name.startswith("workertemp")]
    assert convert.load_label2image(workdir).config.to_dict() == \
        tiny_config(data_dir).generator_config.to_dict()


def test_network_defaults_are_pix2pixhds():
    config = label2image.Label2ImageConfig(weight_vgg=0.0)
    assert config.generator_config == pix2pixhd.Pix2PixHDConfig(input_channels=20)
    assert config.discriminator_config == pix2pixhd.DiscriminatorConfig(input_channels=23)
    assert (config.ngf, config.n_downsample_global, config.n_blocks_global, config.ndf,
            config.n_layers_d, config.num_d) == (64, 4, 9, 64, 3, 2)
