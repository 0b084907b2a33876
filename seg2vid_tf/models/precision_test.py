"""mixed_bfloat16: the same weights, bfloat16 compute, float32 at the model's boundary."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import losses
from seg2vid_tf.conversion import checkpoints
from seg2vid_tf.models import precision
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid

CONFIG = Img2VidConfig(height=128, width=128, width_multiplier=0.125)


def _inputs(batch=2, frames=1):
    return {"video": tf.random.stateless_uniform([batch, frames, 128, 128, 3], seed=[0, 1]),
            "label_map": tf.random.stateless_uniform([batch, 128, 128], seed=[0, 2], maxval=20,
                                                     dtype=tf.int32),
            "z": tf.random.stateless_normal([batch, CONFIG.latent_rows, 1024], seed=[0, 3]),
            "noise": tf.random.stateless_normal([batch, 128, 128, 3], seed=[0, 4])}


def _pair():
    reference = Img2Vid(CONFIG, seed=0).build_for_size()
    with precision.policy_scope("mixed_bfloat16"):
        mixed = Img2Vid(CONFIG, seed=0).build_for_size()
    for target, source in zip(mixed.weights, reference.weights):
        target.assign(source)
    return reference, mixed


def test_policy_scope_restores_the_global_policy():
    before = keras.config.dtype_policy().name
    with precision.policy_scope("mixed_bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(ValueError, match="--precision must be one of float32, mixed_bfloat16"):
        with precision.policy_scope("float16"):
            pass


def test_mixed_model_computes_in_bfloat16_with_float32_weights_and_outputs():
    reference, mixed = _pair()
    assert len(mixed.weights) == len(reference.weights)
    assert all(weight.dtype == "float32" for weight in mixed.weights)
    assert mixed.flow_decoder.compute_dtype == "bfloat16"
    assert mixed.compute_dtype == "float32"  # the model's own boundary
    outputs = mixed(_inputs(), training=False)
    assert all(value.dtype == tf.float32 for value in outputs.values())


def test_bfloat16_frames_stay_close_to_float32():
    reference, mixed = _pair()
    inputs = _inputs()
    expected = reference(inputs, training=False)["frames"].numpy()
    got = mixed(inputs, training=False)["frames"].numpy()
    mse = np.mean((np.clip(expected, 0, 1) - np.clip(got, 0, 1)) ** 2)
    assert 10 * np.log10(1.0 / mse) >= 35.0
    assert not np.array_equal(expected, got)  # it really computed in another precision


def test_mixed_training_step_has_finite_float32_losses_and_gradients():
    _, mixed = _pair()
    video = tf.random.stateless_uniform([2, 5, 128, 128, 3], seed=[1, 1])
    inputs = dict(_inputs(), video=video)
    with tf.GradientTape() as tape:
        outputs = mixed(inputs, training=True)
        terms = losses.img2vid_losses(video, outputs, None)
    gradients = tape.gradient(terms["total"], mixed.trainable_variables)
    assert terms["total"].dtype == tf.float32 and np.isfinite(float(terms["total"]))
    assert all(g is not None and g.dtype == tf.float32 and bool(tf.reduce_all(tf.math.is_finite(g)))
               for g in gradients)


def test_a_float32_checkpoint_loads_in_mixed_precision(tmp_path):
    reference, _ = _pair()
    checkpoints.save_img2vid(reference, str(tmp_path))
    mixed = checkpoints.load_img2vid(str(tmp_path), precision="mixed_bfloat16")
    assert mixed.flow_decoder.compute_dtype == "bfloat16"
    for a, b in zip(mixed.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="--precision"):
        checkpoints.load_img2vid(str(tmp_path), precision="bfloat16")


@pytest.mark.parametrize("native, gpu, expected", [
    (True, False, "mixed_bfloat16"), (False, True, "mixed_bfloat16"),
    (True, True, "mixed_bfloat16"), (False, False, "float32")])
def test_bfloat16_runs_only_with_native_arithmetic_or_a_gpu(native, gpu, expected):
    chosen, message = precision.choose_precision("mixed_bfloat16", native_bfloat16=native,
                                                 gpu=gpu)
    assert chosen == expected
    if expected == "float32":
        assert "--precision=mixed_bfloat16: running float32" in message
        assert "AVX512_BF16" in message and "\n" not in message
    else:
        assert message is None


def test_float32_is_never_changed_and_unknown_precisions_are_refused():
    assert precision.choose_precision("float32", native_bfloat16=False, gpu=False) == (
        "float32", None)
    with pytest.raises(ValueError, match="--precision must be one of"):
        precision.choose_precision("float16", native_bfloat16=True, gpu=False)


def test_the_flag_choice_prints_its_one_line(monkeypatch, capsys):
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: False)
    monkeypatch.setattr(precision, "_gpu_has_bfloat16", lambda: False)
    assert precision.precision_for_flag("mixed_bfloat16") == "float32"
    assert capsys.readouterr().err.count("\n") == 1
    monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: True)
    assert precision.precision_for_flag("mixed_bfloat16") == "mixed_bfloat16"
    assert capsys.readouterr().err == ""


def test_cpu_flags_decide_native_bfloat16(monkeypatch):
    monkeypatch.setattr(precision, "cpu_info", lambda: ("cpu", {"avx2", "avx512_bf16"}))
    assert precision.cpu_has_native_bfloat16()
    monkeypatch.setattr(precision, "cpu_info", lambda: ("cpu", {"avx2", "amx_bf16"}))
    assert precision.cpu_has_native_bfloat16()
    monkeypatch.setattr(precision, "cpu_info", lambda: ("cpu", {"avx2", "avx512f"}))
    assert not precision.cpu_has_native_bfloat16()


@pytest.mark.parametrize("capabilities, expected", [
    ([], False), ([(7, 0)], False), ([(8, 0)], True), ([(7, 5), (9, 0)], True)])
def test_gpus_count_from_compute_capability_8(monkeypatch, capabilities, expected):
    devices = [f"GPU:{index}" for index in range(len(capabilities))]
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: devices if kind == "GPU" else ["CPU:0"])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: {
        "compute_capability": capabilities[devices.index(device)]})
    assert precision._gpu_has_bfloat16() is expected  # pylint: disable=protected-access


def test_a_mixed_seg2vid_paints_in_bfloat16_and_returns_float32(tmp_path):
    """`load_seg2vid(precision=...)` applies to stage 1 too (the export's `--precision`)."""
    from seg2vid_tf.models import pix2pixhd
    from seg2vid_tf.models.pix2pixhd_config import Pix2PixHDConfig

    reference, _ = _pair()
    checkpoints.save_img2vid(reference, str(tmp_path / "img2vid"))
    painter_config = Pix2PixHDConfig(input_channels=20, output_channels=3, ngf=16,
                                     n_downsampling=2, n_blocks=1)
    painter = pix2pixhd.build_generator(painter_config).build_for_size()
    checkpoints.save_label2image(painter, str(tmp_path / "label2image"))
    label_map = tf.constant(np.repeat(np.arange(16, dtype=np.int32).reshape(1, 4, 4) % 20,
                                      32, axis=1).repeat(32, axis=2))
    images = {}
    for name in precision.PRECISIONS:
        pipeline = checkpoints.load_seg2vid(str(tmp_path / "img2vid"),
                                            str(tmp_path / "label2image"), precision=name)
        assert pipeline.painter.compute_dtype == name.replace("mixed_", "")
        images[name] = pipeline.paint(label_map)
        assert images[name].dtype == tf.float32
    mse = np.mean((images["float32"].numpy() - images["mixed_bfloat16"].numpy()) ** 2)
    assert not np.array_equal(images["float32"], images["mixed_bfloat16"])
    assert 10 * np.log10(1.0 / mse) >= 35.0
