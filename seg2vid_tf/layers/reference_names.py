"""How Keras variables correspond to the parameter names of the PyTorch originals.

Every layer that ports a PyTorch module implements `reference_variables()`,
returning a dict from the PyTorch parameter name (relative to the module) to a
pair `(keras_variable, to_keras)`, where `to_keras` turns the PyTorch array
(PyTorch layout) into the Keras layout. A `keras_variable` of `None` marks a
PyTorch buffer that carries no information for the port (`num_batches_tracked`):
the converter accepts it and assigns nothing. Composite layers build their dict
with `nest`. The converter (`seg2vid_tf/convert.py`) walks this dict, so the
names live next to the layers that own the variables.
"""

import numpy as np


def identity(array):
    """Vectors (biases, norm parameters) have the same layout in both frameworks."""
    return np.asarray(array)


def conv2d_kernel(array):
    """PyTorch conv `[out, in, kh, kw]` -> Keras `[kh, kw, in, out]`."""
    return np.transpose(np.asarray(array), (2, 3, 1, 0))


def conv3d_kernel(array):
    """PyTorch conv3d `[out, in, kt, kh, kw]` -> Keras `[kt, kh, kw, in, out]`."""
    return np.transpose(np.asarray(array), (2, 3, 4, 1, 0))


def conv2d_transpose_kernel(array):
    """PyTorch transposed conv `[in, out, kh, kw]` -> TF `[kh, kw, out, in]`.

    Both frameworks define the transposed convolution as the gradient of the
    (cross-correlation) convolution, so no spatial flip is needed.
    """
    return np.transpose(np.asarray(array), (2, 3, 1, 0))


def linear_kernel(array):
    """PyTorch linear `[out, in]` -> Keras dense `[in, out]`."""
    return np.transpose(np.asarray(array), (1, 0))


def nest(children):
    """Prefixes the reference variables of child layers.

    Args:
        children: dict from a PyTorch module path (e.g. `"main.0"`) to a layer
            implementing `reference_variables()`, or `None` to skip.

    Returns:
        dict from full PyTorch parameter names to `(variable, to_keras)`.
    """
    result = {}
    for prefix, child in children.items():
        if child is None:
            continue
        for name, entry in child.reference_variables().items():
            result[f"{prefix}.{name}" if prefix else name] = entry
    return result
