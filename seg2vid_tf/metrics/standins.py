"""Tiny stand-ins for I3D and InceptionV3 with the interfaces of the real networks.

The real FVD/FID networks cannot be downloaded in tests or CI. These fast,
deterministic random networks are saved to disk in the same formats, so the
whole loading and feature pipeline (`seg2vid_tf.metrics.fvd.load_i3d`,
`seg2vid_tf.metrics.fid.load_inception`) can be exercised. Their distances
are meaningless as quality measures.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf.metrics.fid import INCEPTION_RESOLUTION
from seg2vid_tf.metrics.fvd import I3D_NUM_FEATURES, I3D_RESOLUTION

__all__ = [
    "STANDIN_INCEPTION_FEATURES",
    "save_standin_i3d",
    "save_standin_inception",
]

STANDIN_INCEPTION_FEATURES = 64

_I3D_POOL = 28  # 224 / 28 = 8x8 cells per frame.


class _StandinI3D(tf.Module):
    """Random projection of per-clip statistics of spatially pooled frames."""

    def __init__(self, seed):
        """Creates the fixed projection.

        Args:
            seed: Seed of the random projection.
        """
        super().__init__(name="standin_i3d")
        cells = (I3D_RESOLUTION // _I3D_POOL) ** 2 * 3
        rng = np.random.default_rng(seed)
        # Mean and standard deviation over time of the pooled frames.
        projection = rng.normal(size=(2 * cells, I3D_NUM_FEATURES)) / np.sqrt(2 * cells)
        self.projection = tf.Variable(projection.astype(np.float32), trainable=False,
                                      name="projection")
        self.bias = tf.Variable(rng.normal(size=(I3D_NUM_FEATURES,)).astype(np.float32),
                                trainable=False, name="bias")

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, I3D_RESOLUTION, I3D_RESOLUTION, 3], tf.float32,
                      name="default")])
    def __call__(self, default):
        """Maps clips to 400 "logits".

        Args:
            default: float32 ``[B, T, 224, 224, 3]`` clips in ``[-1, 1]``.

        Returns:
            A dict ``{"default": [B, 400] float32}``.
        """
        shape = tf.shape(default)
        batch, time = shape[0], shape[1]
        frames = tf.reshape(default, [batch * time, I3D_RESOLUTION, I3D_RESOLUTION, 3])
        pooled = tf.nn.avg_pool2d(frames, _I3D_POOL, _I3D_POOL, "VALID")
        pooled = tf.reshape(pooled, [batch, time, -1])
        mean = tf.reduce_mean(pooled, axis=1)
        std = tf.math.reduce_std(pooled, axis=1)
        features = tf.concat([mean, std], axis=-1)
        return {"default": tf.matmul(features, self.projection) + self.bias}


def save_standin_i3d(directory, seed=0):
    """Writes a stand-in I3D SavedModel with a ``"default"`` signature.

    The signature takes float32 ``[B, T, 224, 224, 3]`` clips in ``[-1, 1]``
    (input name ``"default"``) and returns ``{"default": [B, 400]}``, like
    DeepMind's ``i3d-kinetics-400`` module.

    Args:
        directory: Output directory (created; must not hold another
            SavedModel).
        seed: Seed of the fixed random weights; equal seeds give identical
            networks.

    Returns:
        ``directory`` as a string.
    """
    directory = os.fspath(directory)
    module = _StandinI3D(seed)
    tf.saved_model.save(module, directory,
                        signatures={"default": module.__call__.get_concrete_function()})
    return directory


def save_standin_inception(path, seed=0):
    """Writes a stand-in InceptionV3 feature extractor as a ``.keras`` file.

    The model maps ``[B, 299, 299, 3]`` images in ``[-1, 1]`` to ``[B, 64]``
    features (average pooling, a 3x3 convolution with tanh, global average
    pooling).

    Args:
        path: Output file; must end with ``.keras``. Parent directories are
            created.
        seed: Seed of the fixed random weights; equal seeds give identical
            networks.

    Returns:
        ``path`` as a string.

    Raises:
        ValueError: If ``path`` does not end with ``.keras``.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"The stand-in Inception path must end with .keras, got {path!r}.")
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    inputs = keras.Input(shape=(INCEPTION_RESOLUTION, INCEPTION_RESOLUTION, 3), name="images")
    x = keras.layers.AveragePooling2D(pool_size=13, name="pool")(inputs)  # 23x23
    x = keras.layers.Conv2D(
        STANDIN_INCEPTION_FEATURES, 3, activation="tanh", name="conv",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed + 1))(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="features")(x)
    model = keras.Model(inputs, outputs, name="standin_inception")
    model.save(path)
    return path
