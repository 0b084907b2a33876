"""Load the original PyTorch checkpoints into the Keras networks.

A reference state_dict maps PyTorch parameter names to arrays in PyTorch layout
(conv `[out, in, kh, kw]`, conv3d `[out, in, kt, kh, kw]`, transposed conv
`[in, out, kh, kw]`, linear `[out, in]`). Every network here lists its variables
under those names (`reference_variables()`), so conversion is a strict
name-by-name copy: every reference tensor must be consumed and every Keras
variable assigned, or the conversion fails naming the leftovers.

Command line (writes a TensorFlow checkpoint that loads at any valid size):

    python -m seg2vid_tf.convert --reference=model.pth.tar --output_dir=DIR \
        --height=128 --width=256

`--label2image_reference=latest_net_G.pth` also (or only) converts a pix2pixHD
generator for stage 1 into `DIR/label2image` (`load_label2image`).

The reference file may be a `.npz` of arrays or the authors' `.pth`/`.pth.tar`
(zip or legacy PyTorch layout), read weights-only without PyTorch by
`seg2vid_tf.torch_checkpoint`.
"""

import json
import os
import re
import sys

import numpy as np
import tensorflow as tf
from absl import flags

from seg2vid_tf import cli
from seg2vid_tf import torch_checkpoint
from seg2vid_tf.models import config as config_lib
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.models import precision as precision_lib
from seg2vid_tf.models import vgg19
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.img2vid import Img2Vid

# Parameter-name prefix of the frozen VGG19 inside the img2vid reference checkpoints.
VGG_PREFIX = "vgg_net.vgg."
CONFIG_FILENAME = "img2vid_config.json"
_FEATURES_NAME = re.compile(r"(?:^|\.)features\.(\d+)\.(weight|bias)$")


class ConversionError(ValueError):
    """A reference state_dict does not fit the network it is loaded into."""


# --------------------------------------------------------------------------- files
def load_reference_state_dict(path, flag_name="reference"):
    """Reads a reference state_dict from `.npz` or a PyTorch checkpoint.

    PyTorch checkpoints may wrap the state_dict (`{"state_dict": ...}`, as the
    authors' `.pth.tar` files do) and may carry DataParallel's `module.` prefix;
    both are undone.

    Args:
        path: `.npz`, `.pth`, `.pth.tar` or `.pt` file.
        flag_name: Flag that named the file, for error messages.

    Returns:
        dict from parameter name to `np.ndarray`.

    Raises:
        FileNotFoundError: The file does not exist.
        ConversionError: The file holds no recognizable state_dict, or its
            pickle names a global beyond weights (naming the file and the global;
            nothing in it is run).
    """
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(f"Reference weights not found: {path!r} (set --{flag_name}).")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            state = {name: archive[name] for name in archive.files}
    elif path.endswith((".pth", ".pth.tar", ".pt", ".tar")):
        state = _read_torch_state_dict(path, flag_name)
    else:
        raise ConversionError(
            f"{path}: unknown reference format; expected .npz, .pth, .pth.tar or .pt (--{flag_name}).")
    if state and all(name.startswith("module.") for name in state):
        state = {name[len("module."):]: value for name, value in state.items()}
    if not state:
        raise ConversionError(f"{path}: no tensors found (--{flag_name}).")
    return state


def _read_torch_state_dict(path, flag_name):
    """The arrays of a `torch.save` state_dict, read without PyTorch (weights only).

    Used also where PyTorch is installed: one code path, tested without PyTorch,
    whose allow-list does not depend on the PyTorch version (before 1.13
    `torch.load` has no `weights_only` and would run any pickle).
    """
    try:
        loaded = torch_checkpoint.load(path)
    except torch_checkpoint.CheckpointError as error:
        raise ConversionError(f"{error} (--{flag_name}).") from error
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict):
        raise ConversionError(f"{path}: expected a state_dict, found {type(loaded).__name__} "
                              f"(--{flag_name}).")
    return {name: value for name, value in loaded.items() if isinstance(value, np.ndarray)}


# --------------------------------------------------------------------------- assignment
def assign_reference_variables(variables, state_dict, what):
    """Copies `state_dict` into the variables of `reference_variables()` strictly.

    Args:
        variables: dict name -> (variable or None, to_keras) of the network.
        state_dict: dict name -> array (PyTorch layout), exactly the tensors
            meant for this network.
        what: Network description for error messages.

    Raises:
        ConversionError: Listing missing tensors, unused tensors and shape mismatches.
    """
    missing = sorted(set(variables) - set(state_dict))
    unused = sorted(set(state_dict) - set(variables))
    mismatched = []
    pending = []
    for name, (variable, to_keras) in variables.items():
        if name not in state_dict or variable is None:
            continue
        value = to_keras(state_dict[name])
        if tuple(value.shape) != tuple(variable.shape):
            mismatched.append(f"{name}: reference {tuple(np.shape(state_dict[name]))} -> "
                              f"{tuple(value.shape)}, Keras variable {tuple(variable.shape)}")
            continue
        pending.append((variable, value))
    problems = []
    if missing:
        problems.append(f"{len(missing)} Keras variables have no reference tensor: {missing[:20]}")
    if unused:
        problems.append(f"{len(unused)} reference tensors were not used: {unused[:20]}")
    if mismatched:
        problems.append(f"{len(mismatched)} shapes differ: {mismatched[:20]}")
    if problems:
        raise ConversionError(f"Cannot load the reference {what}: " + "; ".join(problems))
    for variable, value in pending:
        variable.assign(value.astype(np.float32))


def _shape(state_dict, name):
    if name not in state_dict:
        raise ConversionError(f"Not an img2vid state_dict: {name!r} is missing.")
    return tuple(np.shape(state_dict[name]))


def infer_img2vid_config(state_dict, *, height, width):
    """Reads the img2vid variant and widths off the parameter names and shapes.

    Returns:
        An `Img2VidConfig` for `height` x `width`.
    """

    channels = _shape(state_dict, "refine_net.image_decoder.upc6.1.weight")[1]
    first_width = _shape(state_dict, "encoder.econv1.main.0.weight")[0]
    frames = _shape(state_dict, "zconv.main.0.weight")[0] // config_lib.CODE_CHANNELS_PER_FRAME
    if "motion_net_bg.main.0.weight" in state_dict:
        label_mode = "two_path"
    else:
        motion_inputs = _shape(state_dict, "motion_net.main.0.weight")[1]
        clip_channels = (frames + 1) * channels
        if motion_inputs == clip_channels:
            label_mode = "none"
        elif motion_inputs == clip_channels + config_lib.NUM_CLASSES:
            label_mode = "one_path"
        else:
            raise ConversionError(
                f"motion_net.main.0.weight has {motion_inputs} input channels; expected "
                f"{clip_channels} (no labels) or {clip_channels + config_lib.NUM_CLASSES} (one path).")
    return config_lib.Img2VidConfig(
        height=height, width=width, label_mode=label_mode, channels=channels,
        num_predicted_frames=frames, width_multiplier=first_width / 32.0)


def img2vid_from_reference(state_dict, *, height, width):
    """Builds an `Img2Vid` for `height` x `width` and loads a reference state_dict.

    The variant (two-path, one-path, no labels; RGB or grayscale) is recognized
    from the names and shapes. Entries of the frozen perceptual VGG19
    (`vgg_net.vgg.*`) belong to `vgg19_from_reference` and are left alone.

    Args:
        state_dict: dict from PyTorch names to NumPy arrays in PyTorch layout.
        height, width: Frame size the model will run at.

    Returns:
        The built `Img2Vid` with every variable assigned.

    Raises:
        ConversionError: Unused or missing tensors, or shape mismatches.
        ValueError: An unsupported frame size.
    """

    state_dict = {name: value for name, value in state_dict.items()
                  if not name.startswith("vgg_net.")}
    model = Img2Vid(infer_img2vid_config(state_dict, height=height, width=width))
    model.build_for_size()
    assign_reference_variables(model.reference_variables(), state_dict, "img2vid network")
    return model


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


# --------------------------------------------------------------------------- checkpoints
def read_checkpoint_dir(checkpoint_dir, config_filename, flag_name):
    """The config dict and latest checkpoint prefix of a model directory.

    Raises:
        FileNotFoundError: No `config_filename` or no checkpoint in `checkpoint_dir`
            (naming `--flag_name`).
    """
    config_path = os.path.join(checkpoint_dir or "", config_filename)
    if not checkpoint_dir or not os.path.isfile(config_path):
        raise FileNotFoundError(f"No {config_filename} in {checkpoint_dir!r} (set --{flag_name}).")
    prefix = tf.train.latest_checkpoint(checkpoint_dir)
    if prefix is None:
        raise FileNotFoundError(
            f"No TensorFlow checkpoint in {checkpoint_dir!r} (set --{flag_name}).")
    with open(config_path, encoding="utf-8") as handle:
        return json.load(handle), prefix


def save_img2vid(model, output_dir):
    """Writes `model` as a TensorFlow checkpoint plus its config JSON into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """

    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, CONFIG_FILENAME), "w", encoding="utf-8") as handle:
        json.dump(model.config.to_dict(), handle, indent=2, sort_keys=True)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), output_dir, max_to_keep=1)
    return manager.save()


def load_img2vid(checkpoint_dir, *, height=None, width=None, flag_name="checkpoint_dir",
                 precision="float32"):
    """Rebuilds an `Img2Vid` from a directory written by `save_img2vid` or training.

    Weights do not depend on the frame size, so `height`/`width` may differ
    from the size the checkpoint was written at, nor on the precision
    (`"float32"` or `"mixed_bfloat16"`, see `seg2vid_tf.models.precision`).

    Raises:
        FileNotFoundError: No config or checkpoint in `checkpoint_dir`.
        ValueError: An unknown precision.
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, CONFIG_FILENAME, flag_name)
    config = Img2VidConfig.from_dict(values)
    config = config.replace(height=height or config.height, width=width or config.width)
    with precision_lib.policy_scope(precision):
        model = Img2Vid(config).build_for_size()
    status = tf.train.Checkpoint(model=model).restore(prefix)
    status.expect_partial().assert_existing_objects_matched()
    return model


def save_vgg19(network, path):
    """Writes a `VGG19Features` as a torchvision-named `.npz` (PyTorch layout)."""
    arrays = {}
    for name, (variable, _) in network.reference_variables().items():
        value = np.asarray(variable.numpy())
        arrays[f"features.{name}"] = (np.transpose(value, (3, 2, 0, 1)) if value.ndim == 4 else value)
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


# --------------------------------------------------------------------------- pix2pixHD (stage 1)
LABEL2IMAGE_CONFIG_FILENAME = "label2image_config.json"
# First name components of a pix2pixHD generator / multiscale discriminator state_dict.
_GENERATOR_ROOT = re.compile(r"^(?:model|model\d+_[12])\.\d+\.")
_DISCRIMINATOR_ROOT = re.compile(r"^(?:scale\d+_layer\d+|layer\d+)\.\d+\.")
_LOCAL_BRANCH = re.compile(r"^model(\d+)_[12]\.")


def _strip_wrapper_prefixes(state_dict, root):
    """Removes prefixes shared by every name (`module.`, `netG.`, `model.`) until
    the names start like `root`, so wrapped checkpoints load too."""
    state = dict(state_dict)
    while state and not all(root.match(name) for name in state):
        first = next(iter(state))
        if "." not in first:
            break
        head = first.split(".", 1)[0] + "."
        if not all(name.startswith(head) for name in state):
            break
        state = {name[len(head):]: value for name, value in state.items()}
    return state


def _require_shape(state_dict, name, what, rank=None):
    if name not in state_dict:
        raise ConversionError(f"Not a pix2pixHD {what} state_dict: {name!r} is missing.")
    shape = tuple(np.shape(state_dict[name]))
    if rank is not None and len(shape) != rank:
        raise ConversionError(f"{name} has shape {shape}; expected {rank} dimensions ({what}).")
    return shape


def _module_indices(state_dict, prefix):
    """Sorted `nn.Sequential` indices `i` of the names `<prefix>.<i>.*`."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.")
    return sorted({int(match.group(1)) for match in map(pattern.match, state_dict) if match})


def _conv_kernels(state_dict, prefix, kernel_size):
    """`{index: shape}` of the 4-D `<prefix>.<index>.weight` tensors with a square kernel."""
    kernels = {}
    for index in _module_indices(state_dict, prefix):
        shape = tuple(np.shape(state_dict.get(f"{prefix}.{index}.weight", ())))
        if len(shape) == 4 and shape[2:] == (kernel_size, kernel_size):
            kernels[index] = shape
    return kernels


def _residual_block_count(state_dict, prefix):
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.conv_block\.")
    return len({match.group(1) for match in map(pattern.match, state_dict) if match})


def infer_label2image_config(state_dict):
    """Reads a pix2pixHD generator's architecture off its parameter names and shapes.

    `GlobalGenerator` (`model.*` only) or `LocalEnhancer` (`model.*` plus
    `model{n}_1.*`, `model{n}_2.*`); `ngf`, downsamplings, residual blocks,
    input and output channels from the convolution shapes; batch norm when
    running statistics are present, else instance norm. Wrapper prefixes
    (`module.`, an outer `model.`) are ignored.

    Args:
        state_dict: dict from PyTorch names to arrays in PyTorch layout.

    Returns:
        A `pix2pixhd.Pix2PixHDConfig`.

    Raises:
        ConversionError: Not a pix2pixHD generator, or inconsistent widths.
    """
    what = "generator"
    state = _strip_wrapper_prefixes(state_dict, _GENERATOR_ROOT)
    branches = sorted({int(match.group(1)) for match in map(_LOCAL_BRANCH.match, state) if match})
    n_local = len(branches)
    if branches != list(range(1, n_local + 1)):
        raise ConversionError(
            f"Local enhancer branches {branches} are not numbered 1..{n_local} (model{{n}}_1/_2).")
    global_ngf, input_channels = _require_shape(state, "model.1.weight", what, rank=4)[:2]
    global_convs = _conv_kernels(state, "model", 3)
    if len(global_convs) % 2:
        raise ConversionError(
            f"The global generator has {len(global_convs)} 3x3 convolutions outside its residual "
            f"blocks (indices {sorted(global_convs)}); expected as many downsampling as "
            "upsampling ones.")
    n_downsampling = len(global_convs) // 2
    n_blocks = _residual_block_count(state, "model")
    norm = "batch" if "model.2.running_mean" in state else "instance"
    if n_local:
        ngf = _require_shape(state, f"model{n_local}_1.1.weight", what, rank=4)[0]
        if global_ngf != ngf * 2 ** n_local:
            raise ConversionError(
                f"model.1.weight has {global_ngf} filters; a LocalEnhancer with "
                f"{n_local} enhancers and ngf {ngf} (model{n_local}_1.1.weight) needs "
                f"{ngf * 2 ** n_local}.")
        head_prefix = f"model{n_local}_2"
        n_blocks_local = _residual_block_count(state, "model1_2")
    else:
        ngf, head_prefix, n_blocks_local = global_ngf, "model", 3
    heads = {index: shape for index, shape in _conv_kernels(state, head_prefix, 7).items()
             if (head_prefix, index) != ("model", 1)}
    if not heads:
        raise ConversionError(
            f"Not a pix2pixHD {what} state_dict: no 7x7 output convolution in {head_prefix}.*.")
    output_channels = heads[max(heads)][0]
    try:
        return pix2pixhd.Pix2PixHDConfig(
            input_channels=int(input_channels), output_channels=int(output_channels),
            ngf=int(ngf), n_downsampling=n_downsampling, n_blocks=n_blocks,
            n_local_enhancers=n_local, n_blocks_local=n_blocks_local, norm=norm)
    except ValueError as error:
        raise ConversionError(f"Inferred an invalid pix2pixHD generator: {error}") from error


def label2image_from_reference(state_dict):
    """Builds the pix2pixHD generator of a reference state_dict and loads it strictly.

    The architecture comes from `infer_label2image_config`; then every
    reference tensor must be used and every Keras variable assigned.

    Args:
        state_dict: A pix2pixHD `netG` state_dict (names and PyTorch layouts),
            optionally with the `module.` or an outer `model.` prefix.

    Returns:
        The built `GlobalGenerator` or `LocalEnhancer`.

    Raises:
        ConversionError: Unknown, missing, unused or misshapen tensors (named).
    """
    state = _strip_wrapper_prefixes(state_dict, _GENERATOR_ROOT)
    generator = pix2pixhd.build_generator(infer_label2image_config(state)).build_for_size()
    assign_reference_variables(generator.reference_variables(), state, "pix2pixHD generator")
    return generator


def infer_discriminator_config(state_dict, *, use_sigmoid=False):
    """Reads a pix2pixHD `MultiscaleDiscriminator`'s architecture off a state_dict.

    Intermediate features (`scale{i}_layer{j}.*`) or not (`layer{i}.*`), the
    number of scales and layers, `ndf`, input channels and the norm (batch when
    running statistics are present). The final sigmoid has no parameters, so
    `use_sigmoid` is given.

    Returns:
        A `pix2pixhd.DiscriminatorConfig`.

    Raises:
        ConversionError: Not a pix2pixHD discriminator state_dict.
    """
    what = "discriminator"
    state = _strip_wrapper_prefixes(state_dict, _DISCRIMINATOR_ROOT)
    grouped = re.compile(r"^scale(\d+)_layer(\d+)\.")
    groups = {(int(match.group(1)), int(match.group(2)))
              for match in map(grouped.match, state) if match}
    if groups:
        scales = sorted({scale for scale, _ in groups})
        num_groups = len({group for scale, group in groups if scale == 0})
        first, norm_probe = "scale0_layer0.0.weight", "scale0_layer1.1.running_mean"
    else:
        scales = sorted({int(match.group(1))
                         for match in map(re.compile(r"^layer(\d+)\.").match, state) if match})
        num_groups = len(_conv_kernels(state, "layer0", 4))
        first, norm_probe = "layer0.0.weight", "layer0.3.running_mean"
    if not scales:
        raise ConversionError(
            f"Not a pix2pixHD {what} state_dict: no 'scale{{i}}_layer{{j}}.*' or 'layer{{i}}.*' "
            "tensors.")
    if scales != list(range(len(scales))):
        raise ConversionError(
            f"Discriminator scales {scales} are not numbered 0..{len(scales) - 1}.")
    ndf, input_channels = _require_shape(state, first, what, rank=4)[:2]
    try:
        return pix2pixhd.DiscriminatorConfig(
            input_channels=int(input_channels), ndf=int(ndf), n_layers=num_groups - 2,
            num_d=len(scales), norm="batch" if norm_probe in state else "instance",
            use_sigmoid=use_sigmoid, intermediate_features=bool(groups))
    except ValueError as error:
        raise ConversionError(f"Inferred an invalid pix2pixHD discriminator: {error}") from error


def discriminator_from_reference(state_dict, *, use_sigmoid=False):
    """Builds the pix2pixHD multiscale discriminator of a state_dict and loads it strictly.

    Args:
        state_dict: A pix2pixHD `netD` state_dict, optionally with a
            `module.` prefix.
        use_sigmoid: pix2pixHD's `--no_lsgan` (see `DiscriminatorConfig`).

    Returns:
        The built `MultiscaleDiscriminator`.

    Raises:
        ConversionError: Unknown, missing, unused or misshapen tensors (named).
    """
    state = _strip_wrapper_prefixes(state_dict, _DISCRIMINATOR_ROOT)
    discriminator = pix2pixhd.MultiscaleDiscriminator(
        infer_discriminator_config(state, use_sigmoid=use_sigmoid), name="discriminator")
    discriminator.build_for_size()
    assign_reference_variables(
        discriminator.reference_variables(), state, "pix2pixHD discriminator")
    return discriminator


def save_label2image(generator, output_dir):
    """Writes a pix2pixHD generator as a TensorFlow checkpoint plus
    `label2image_config.json` into `output_dir`.

    Returns:
        The checkpoint path prefix.
    """
    os.makedirs(output_dir, exist_ok=True)
    config_path = os.path.join(output_dir, LABEL2IMAGE_CONFIG_FILENAME)
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(generator.config.to_dict(), handle, indent=2, sort_keys=True)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(model=generator), output_dir, max_to_keep=1)
    return manager.save()


def load_label2image(checkpoint_dir, flag_name="label2image_checkpoint_dir"):
    """Rebuilds a pix2pixHD generator from a directory written by `save_label2image`.

    The generator runs at any size its config allows
    (`Pix2PixHDConfig.check_size`).

    Raises:
        FileNotFoundError: No config or checkpoint in `checkpoint_dir` (naming `--flag_name`).
    """
    values, prefix = read_checkpoint_dir(checkpoint_dir, LABEL2IMAGE_CONFIG_FILENAME, flag_name)
    config = pix2pixhd.Pix2PixHDConfig.from_dict(values)
    generator = pix2pixhd.build_generator(config).build_for_size()
    status = tf.train.Checkpoint(model=generator).restore(prefix)
    status.expect_partial().assert_existing_objects_matched()
    return generator


# --------------------------------------------------------------------------- command line
def main(argv):
    """Converts a reference checkpoint into a TensorFlow checkpoint directory."""
    del argv
    try:
        _convert(flags.FLAGS)
    except (FileNotFoundError, ConversionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _convert(values):
    """Converts `--reference` and/or `--label2image_reference` into `--output_dir`."""
    if values.reference:
        state_dict = load_reference_state_dict(values.reference, "reference")
        model = img2vid_from_reference(state_dict, height=values.height, width=values.width)
        prefix = save_img2vid(model, values.output_dir)
        print(f"img2vid ({model.config.label_mode}, {model.config.channels} channels, "
              f"{model.count_params():,} parameters) -> {prefix}")
        if any(name.startswith(VGG_PREFIX) for name in state_dict):
            vgg_path = save_vgg19(vgg19_from_reference(state_dict),
                                  os.path.join(values.output_dir, "vgg19.npz"))
            print(f"perceptual VGG19 -> {vgg_path} (use with --vgg19_weights)")
    if values.label2image_reference:
        generator = label2image_from_reference(
            load_reference_state_dict(values.label2image_reference, "label2image_reference"))
        output_dir = os.path.join(values.output_dir, "label2image")
        prefix = save_label2image(generator, output_dir)
        kind = "LocalEnhancer" if generator.config.n_local_enhancers else "GlobalGenerator"
        print(f"label2image ({kind}, {generator.config.input_channels} input channels, "
              f"{generator.count_params():,} parameters) -> {prefix} "
              f"(use with --label2image_checkpoint_dir={output_dir})")


def _define_flags():
    flags.DEFINE_string("reference", None, "Reference state_dict: .npz or .pth/.pth.tar.")
    flags.DEFINE_string("output_dir", None, "Directory for the TensorFlow checkpoint.")
    flags.DEFINE_integer("height", 128, "Frame height the model is built at.")
    flags.DEFINE_integer("width", 256, "Frame width the model is built at.")
    flags.DEFINE_string(
        "label2image_reference", None,
        "pix2pixHD generator state_dict (netG, .npz or .pth); written to OUTPUT_DIR/label2image.")
    flags.mark_flags_as_required(["output_dir"])
    flags.register_multi_flags_validator(
        ["reference", "label2image_reference"],
        lambda values: bool(values["reference"] or values["label2image_reference"]),
        message="Set --reference (img2vid) and/or --label2image_reference (pix2pixHD generator).")


if __name__ == "__main__":
    _define_flags()
    cli.run(main)
