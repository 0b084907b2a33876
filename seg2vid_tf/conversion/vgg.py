"""The frozen perceptual VGG19 from torchvision or img2vid state_dicts, and its files."""

import os
import re

import numpy as np

from seg2vid_tf.conversion.state_dicts import (
    ConversionError,
    assign_reference_variables,
    load_reference_state_dict,
)
from seg2vid_tf.models import vgg19

# Parameter-name prefix of the frozen VGG19 inside the img2vid reference checkpoints.
VGG_PREFIX = "vgg_net.vgg."
_FEATURES_NAME = re.compile(r"(?:^|\.)features\.(\d+)\.(weight|bias)$")


def vgg19_from_reference(state_dict, *, output_layers=None, pooling="avg"):
    """The perceptual feature network from torchvision VGG19 `features.*` entries.

    Accepts an img2vid reference state_dict (its `vgg_net.vgg.features.*`
    entries are used, the rest ignored) or a plain torchvision `vgg19`
    state_dict (`features.*`; its `classifier.*` head is not needed).

    Args:
        state_dict: dict from names to arrays in PyTorch layout.
        output_layers: ReLU outputs to return; seg2vid's relu1_1..relu4_4 by default.
        pooling: `"avg"` (seg2vid's perceptual loss) or `"max"` (torchvision, pix2pixHD).

    Returns:
        A built `VGG19Features`.

    Raises:
        ConversionError: No, incomplete or misshapen VGG19 feature tensors.
    """

    if any(name.startswith(VGG_PREFIX) for name in state_dict):
        candidates = {name[len(VGG_PREFIX):]: value for name, value in state_dict.items()
                      if name.startswith(VGG_PREFIX)}
    else:
        candidates = {name: value for name, value in state_dict.items()
                      if not name.startswith("classifier.")}
    features = {}
    for name, value in candidates.items():
        match = _FEATURES_NAME.search(name)
        if match is None or not name.startswith("features."):
            raise ConversionError(f"Unexpected tensor {name!r} among the VGG19 features.")
        features[f"{match.group(1)}.{match.group(2)}"] = value
    if not features:
        raise ConversionError("No VGG19 'features.*' tensors in this state_dict.")
    network = vgg19.VGG19Features(
        output_layers=output_layers or vgg19.SEG2VID_PERCEPTUAL_LAYERS, pooling=pooling)
    network.build((None, None, None, 3))
    assign_reference_variables(network.reference_variables(), features, "VGG19 features")
    return network


def save_vgg19(network, path):
    """Writes a `VGG19Features` as a torchvision-named `.npz` (PyTorch layout)."""
    arrays = {}
    for name, (variable, _) in network.reference_variables().items():
        value = np.asarray(variable.numpy())
        arrays[f"features.{name}"] = (np.transpose(value, (3, 2, 0, 1)) if value.ndim == 4
                                      else value)
    np.savez(path, **arrays)
    return path


def load_vgg19(path, *, output_layers=None, pooling="avg", flag_name="vgg19_weights"):
    """The perceptual network from a local file: a torchvision/img2vid state_dict
    (`.npz`, `.pth`) or a Keras `VGG19` ImageNet `.h5` weights file.

    Raises:
        FileNotFoundError: Naming `--flag_name` when the file is missing.
    """

    if not path or not os.path.isfile(path):
        raise FileNotFoundError(
            f"VGG19 weights not found: {path!r}. Set --{flag_name} to a local torchvision vgg19 "
            "state_dict (.pth or .npz) or a Keras VGG19 ImageNet .h5 file; nothing is "
            "downloaded at run time.")
    if path.endswith(".h5"):
        network = vgg19.VGG19Features(
            output_layers=output_layers or vgg19.SEG2VID_PERCEPTUAL_LAYERS, pooling=pooling)
        return vgg19.load_keras_vgg19_weights(network, path, flag_name=flag_name)
    return vgg19_from_reference(load_reference_state_dict(path, flag_name),
                                output_layers=output_layers, pooling=pooling)
