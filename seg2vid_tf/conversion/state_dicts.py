"""Reference state_dicts: reading them from files and copying them strictly into Keras.

A reference state_dict maps PyTorch parameter names to arrays in PyTorch layout
(conv `[out, in, kh, kw]`, conv3d `[out, in, kt, kh, kw]`, transposed conv
`[in, out, kh, kw]`, linear `[out, in]`). Every network here lists its variables
under those names (`reference_variables()`), so conversion is a strict
name-by-name copy: every reference tensor must be consumed and every Keras
variable assigned, or the conversion fails naming the leftovers.

The reference file may be a `.npz` of arrays or the authors' `.pth`/`.pth.tar`
(zip or legacy PyTorch layout), read weights-only without PyTorch by
`seg2vid_tf.torch_checkpoint`.
"""

import os

import numpy as np

from seg2vid_tf import torch_checkpoint


class ConversionError(ValueError):
    """A reference state_dict does not fit the network it is loaded into."""


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
            f"{path}: unknown reference format; expected .npz, .pth, .pth.tar or .pt "
            f"(--{flag_name}).")
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
