"""Shipped demo weights: pack -> verify -> unpack keeps the networks, damage is refused."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import demo_weights
from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_demo_weights, street_label_map

DATA = {"num_frames": 5, "height": SIZE, "width": SIZE}


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    return save_tiny_demo_weights(str(tmp_path_factory.mktemp("demo")), DATA)


def test_unpacked_networks_compute_what_the_originals_did(weights_dir, tmp_path):
    original_dir = os.path.join(os.path.dirname(weights_dir), "checkpoints")
    directories = demo_weights.unpack(weights_dir, str(tmp_path))
    assert sorted(directories) == sorted(demo_weights.NETWORKS)
    label_map = street_label_map()
    original = load_seg2vid(os.path.join(original_dir, "img2vid_two_path"),
                            os.path.join(original_dir, "label2image"))
    unpacked = load_seg2vid(directories["img2vid"], directories["label2image"])
    before = original.generate(2, 3, label_map=label_map)
    after = unpacked.generate(2, 3, label_map=label_map)
    # float16 storage of the large tensors: the outputs move by float16 rounding, no more.
    np.testing.assert_allclose(after["video"], before["video"], atol=5e-3)
    assert np.abs(after["video"] - before["video"]).max() > 0  # float16 really was stored
    segmenter = demo_weights.load_network("segmenter", directories["segmenter"])
    original_segmenter = demo_weights.load_network(
        "segmenter", os.path.join(original_dir, "segmenter"))
    image = tf.random.uniform([1, 32, 32, 3], seed=4)
    np.testing.assert_allclose(segmenter(image)["logits"], original_segmenter(image)["logits"],
                               atol=2e-2)


def test_manifest_records_checksums_shapes_and_recipe(weights_dir):
    manifest = demo_weights.verify(weights_dir)
    assert manifest["recipe"]["data"] == DATA
    for name in demo_weights.NETWORKS:
        entry = manifest["networks"][name]
        for filename, digest in entry["sha256"].items():
            assert demo_weights.sha256(os.path.join(weights_dir, filename)) == digest
        with np.load(os.path.join(weights_dir, entry["weights"])) as arrays:
            shapes = [list(arrays[key].shape) for key in sorted(arrays.files)]
            dtypes = {arrays[key].dtype.name for key in arrays.files}
        assert shapes == [shape for _, shape in entry["variables"]]
        assert dtypes <= {"float16", "float32"}


def _copy(weights_dir, tmp_path):
    copy = tmp_path / "weights"
    copy.mkdir()
    for name in os.listdir(weights_dir):
        (copy / name).write_bytes(open(os.path.join(weights_dir, name), "rb").read())
    return copy


def test_a_damaged_file_is_refused_by_name(weights_dir, tmp_path):
    copy = _copy(weights_dir, tmp_path)
    data = bytearray((copy / "label2image.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "label2image.npz").write_bytes(bytes(data))
    with pytest.raises(demo_weights.DamagedWeightsError,
                       match=r"label2image\.npz is damaged: its SHA-256 is"):
        demo_weights.unpack(str(copy), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_missing_file_or_manifest_is_named(weights_dir, tmp_path):
    copy = _copy(weights_dir, tmp_path)
    (copy / "segmenter_config.json").unlink()
    with pytest.raises(demo_weights.DamagedWeightsError, match="segmenter_config.json is missing"):
        demo_weights.verify(str(copy))
    (copy / demo_weights.MANIFEST_FILENAME).unlink()
    with pytest.raises(FileNotFoundError, match="--weights_dir.*make demo-train"):
        demo_weights.verify(str(copy))


def test_weights_that_do_not_fit_the_config_are_refused(weights_dir, tmp_path):
    copy = _copy(weights_dir, tmp_path)
    manifest = json.loads((copy / demo_weights.MANIFEST_FILENAME).read_text())
    config = json.loads((copy / "segmenter_config.json").read_text())
    config["base_filters"] = 8
    (copy / "segmenter_config.json").write_text(json.dumps(config))
    manifest["networks"]["segmenter"]["sha256"]["segmenter_config.json"] = demo_weights.sha256(
        str(copy / "segmenter_config.json"))
    (copy / demo_weights.MANIFEST_FILENAME).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="has shape"):
        demo_weights.load_shipped("segmenter", str(copy))


def test_the_shipped_weights_are_intact_and_fit_their_networks():
    manifest = demo_weights.verify(demo_weights.DEFAULT_DIR)
    total = sum(os.path.getsize(os.path.join(demo_weights.DEFAULT_DIR, name))
                for name in os.listdir(demo_weights.DEFAULT_DIR))
    assert total <= 20 * 2 ** 20  # the budget for weights in the repository
    assert manifest["recipe"]["data"]["seed"] == 0  # the demo's held-out data uses another
    for name in demo_weights.NETWORKS:
        network = demo_weights.load_shipped(name, demo_weights.DEFAULT_DIR, manifest)
        assert int(sum(np.prod(v.shape) for v in network.weights)) == \
            manifest["networks"][name]["parameters"]
