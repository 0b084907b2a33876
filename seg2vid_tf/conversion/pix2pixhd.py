"""The pix2pixHD (stage 1) generator and discriminator from reference state_dicts.

The architecture (global generator or local enhancer, widths, blocks, norm;
discriminator scales and layers) is read off the parameter names and shapes,
then the tensors are copied strictly (`assign_reference_variables`).
"""

import re

import numpy as np

from seg2vid_tf.conversion.state_dicts import ConversionError, assign_reference_variables
from seg2vid_tf.models import pix2pixhd

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
