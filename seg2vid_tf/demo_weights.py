"""The demo's trained networks, shipped in the repository as small checksummed files.

`make demo-train` trains the three demo networks (img2vid, the stage-1
pix2pixHD generator and the FCN-score segmenter) and `pack`s them into
`seg2vid_tf/assets/demo_weights/`: per network a config JSON and an `.npz`
of its weights (float16 for tensors of at least `FLOAT16_MIN_SIZE` elements,
float32 for the small ones: biases, normalization parameters and statistics),
and `MANIFEST.json` with each file's SHA-256, the variables' paths and shapes,
and how the weights were made. `make demo` `unpack`s them into ordinary
TensorFlow checkpoint directories, which every command loads
(`--checkpoint_dir`, `--label2image_checkpoint_dir`,
`--segmenter_checkpoint_dir`).

A file whose checksum differs from the manifest's is refused with an error
that names it: damaged weights never load silently.
"""

import hashlib
import json
import os
import shutil

import numpy as np
import tensorflow as tf

from seg2vid_tf.conversion import checkpoints
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "demo_weights")
MANIFEST_FILENAME = "MANIFEST.json"
FLOAT16_MIN_SIZE = 1024
NETWORKS = ("img2vid", "label2image", "segmenter")
CONFIG_FILENAMES = {
    "img2vid": checkpoints.CONFIG_FILENAME,
    "label2image": checkpoints.LABEL2IMAGE_CONFIG_FILENAME,
    "segmenter": checkpoints.SEGMENTER_CONFIG_FILENAME,
}


class DamagedWeightsError(ValueError):
    """A shipped weights file is missing or its checksum differs from the manifest."""


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_network(name, checkpoint_dir):
    """One demo network from its checkpoint directory (`name` in `NETWORKS`)."""
    if name == "img2vid":
        return checkpoints.load_img2vid(checkpoint_dir)
    if name == "label2image":
        return checkpoints.load_label2image(checkpoint_dir)
    return checkpoints.load_segmenter(checkpoint_dir)


def _build_network(name, config_dict):
    if name == "img2vid":
        return Img2Vid(Img2VidConfig.from_dict(config_dict)).build_for_size()
    if name == "label2image":
        return pix2pixhd.build_generator(
            pix2pixhd.Pix2PixHDConfig.from_dict(config_dict)).build_for_size()
    from seg2vid_tf.models import segmenter  # pylint: disable=import-outside-toplevel

    return segmenter.build_segmenter(segmenter.SegmenterConfig.from_dict(config_dict))


def _save_network(name, network, output_dir):
    if name == "img2vid":
        return checkpoints.save_img2vid(network, output_dir)
    if name == "label2image":
        return checkpoints.save_label2image(network, output_dir)
    return checkpoints.save_segmenter(network, output_dir)


def pack(checkpoint_dirs, weights_dir, recipe):
    """Writes the shipped form of the networks.

    Args:
        checkpoint_dirs: dict network name -> checkpoint directory (all of `NETWORKS`).
        weights_dir: Output directory (replaced file by file).
        recipe: JSON-able dict describing how the weights were trained.

    Returns:
        The manifest dict.
    """
    os.makedirs(weights_dir, exist_ok=True)
    manifest = {"format": 1, "recipe": recipe, "networks": {}}
    for name in NETWORKS:
        network = load_network(name, checkpoint_dirs[name])
        arrays, variables = {}, []
        for index, variable in enumerate(network.weights):
            value = np.asarray(variable.numpy(), np.float32)
            dtype = np.float16 if value.size >= FLOAT16_MIN_SIZE else np.float32
            arrays[f"w{index:04d}"] = value.astype(dtype)
            variables.append([variable.path, list(value.shape)])
        weights_path = os.path.join(weights_dir, f"{name}.npz")
        np.savez_compressed(weights_path, **arrays)
        config_path = os.path.join(weights_dir, f"{name}_config.json")
        shutil.copyfile(os.path.join(checkpoint_dirs[name], CONFIG_FILENAMES[name]), config_path)
        manifest["networks"][name] = {
            "weights": os.path.basename(weights_path),
            "config": os.path.basename(config_path),
            "sha256": {os.path.basename(path): sha256(path)
                       for path in (weights_path, config_path)},
            "parameters": int(sum(np.prod(shape) for _, shape in variables)),
            "variables": variables,
        }
    with open(os.path.join(weights_dir, MANIFEST_FILENAME), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    return manifest


def read_manifest(weights_dir, flag_name="weights_dir"):
    """The manifest of `weights_dir` (FileNotFoundError naming the flag when absent)."""
    path = os.path.join(weights_dir or "", MANIFEST_FILENAME)
    if not weights_dir or not os.path.isfile(path):
        raise FileNotFoundError(
            f"No demo weights in {weights_dir!r} ({MANIFEST_FILENAME} is missing; set "
            f"--{flag_name}, or run `make demo-train` to make them).")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def verify(weights_dir, flag_name="weights_dir"):
    """Checks every file against the manifest's SHA-256; returns the manifest.

    Raises:
        FileNotFoundError: No manifest.
        DamagedWeightsError: A file is missing or its checksum differs (naming it).
    """
    manifest = read_manifest(weights_dir, flag_name)
    for name in NETWORKS:
        entry = manifest["networks"].get(name)
        if entry is None:
            raise DamagedWeightsError(f"{os.path.join(weights_dir, MANIFEST_FILENAME)} lists no "
                                      f"{name} network; run `make demo-train` again.")
        for filename, expected in entry["sha256"].items():
            path = os.path.join(weights_dir, filename)
            if not os.path.isfile(path):
                raise DamagedWeightsError(f"Demo weights file {path} is missing (--{flag_name}).")
            actual = sha256(path)
            if actual != expected:
                raise DamagedWeightsError(
                    f"Demo weights file {path} is damaged: its SHA-256 is {actual}, the manifest "
                    f"says {expected}. Restore it (git checkout -- {path}) or run `make "
                    "demo-train` to make new weights.")
    return manifest


def load_shipped(name, weights_dir=DEFAULT_DIR, manifest=None, flag_name="weights_dir"):
    """One network built from the shipped files (verified unless `manifest` is given).

    Raises:
        FileNotFoundError, DamagedWeightsError: See `verify`.
        ValueError: The weights do not fit the network their config describes.
    """
    manifest = manifest or verify(weights_dir, flag_name)
    entry = manifest["networks"][name]
    with open(os.path.join(weights_dir, entry["config"]), encoding="utf-8") as handle:
        network = _build_network(name, json.load(handle))
    with np.load(os.path.join(weights_dir, entry["weights"])) as arrays:
        values = [arrays[f"w{index:04d}"] for index in range(len(arrays.files))]
    if len(values) != len(network.weights):
        raise ValueError(f"{entry['weights']} holds {len(values)} tensors; the {name} network "
                         f"of {entry['config']} has {len(network.weights)}.")
    for variable, value, (path, shape) in zip(network.weights, values, entry["variables"]):
        if list(variable.shape) != list(shape) or list(value.shape) != list(shape):
            raise ValueError(f"{entry['weights']}: {path} has shape {list(value.shape)}, the "
                             f"network's variable {variable.path} {list(variable.shape)}.")
        variable.assign(tf.cast(value, variable.dtype))
    return network


def unpack(weights_dir, output_dir, flag_name="weights_dir", manifest=None):
    """Verifies the shipped weights and writes one checkpoint directory per network.

    A `manifest` already returned by `verify` skips the second verification.

    Returns:
        dict network name -> checkpoint directory under `output_dir`.

    Raises:
        FileNotFoundError, DamagedWeightsError: See `verify`.
        ValueError: The weights do not fit the network their config describes.
    """
    manifest = manifest or verify(weights_dir, flag_name)
    directories = {}
    for name in NETWORKS:
        network = load_shipped(name, weights_dir, manifest)
        directories[name] = os.path.join(output_dir, name)
        if os.path.isdir(directories[name]):
            shutil.rmtree(directories[name])
        _save_network(name, network, directories[name])
    return directories
