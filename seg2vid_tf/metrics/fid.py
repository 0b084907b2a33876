"""Fréchet Inception Distance (FID) of video frames with a local InceptionV3.

Nothing is downloaded. The network comes from a local file:

* ``*.keras``: a full Keras model mapping ``[B, 299, 299, 3]`` in ``[-1, 1]``
  to pooled ``[B, D]`` features (e.g. ``InceptionV3(include_top=False,
  pooling="avg")`` saved with ``model.save``, or the stand-in written by
  `seg2vid_tf.metrics.standins.save_standin_inception`);
* ``*.h5``: InceptionV3 weights such as Keras' ImageNet file
  ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`` (or a
  ``.weights.h5`` file), loaded into ``keras.applications.InceptionV3(
  include_top=False, weights=None, pooling="avg")`` (2048 features).

Note: the Keras ImageNet InceptionV3 weights are not the TF "FID Inception"
graph of the original TTUR / pytorch-fid implementations, so values are only
comparable with FIDs computed with the same weights (see `FID_PROTOCOL`).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf.metrics.frechet import batched_features, frechet_distance_from_features
from seg2vid_tf.metrics.pixels import check_pixels

__all__ = [
    "FID_PROTOCOL",
    "INCEPTION_RESOLUTION",
    "fid",
    "inception_features",
    "load_inception",
    "preprocess_images",
]

INCEPTION_RESOLUTION = 299

FID_PROTOCOL = (
    "FID: every frame is an image; frames resized to 299x299 with TF1 "
    "resize_bilinear (align_corners=False, half_pixel_centers=False, as in the "
    "TTUR FID graph); values in [0, 1] (uint8 / 255) scaled to [-1, 1]; grayscale "
    "repeated to RGB; features = global-average-pooled InceptionV3 activations "
    "(Keras InceptionV3 include_top=False, pooling='avg', 2048-d, from the local "
    "--inception_weights file; NOT the TTUR/pytorch-fid FID-Inception weights, so "
    "values are not comparable with published FIDs); squared Frechet distance "
    "between Gaussians (mean, unbiased covariance) of real and generated "
    "features, float64, eigendecomposition-based matrix square root."
)


def load_inception(path, flag_name="inception_weights"):
    """Loads the InceptionV3 feature extractor from a local file.

    Args:
        path: A ``.keras`` model file (full model, ``[B, 299, 299, 3]`` in
            ``[-1, 1]`` -> ``[B, D]``) or a ``.h5`` InceptionV3 weights file
            (no top), e.g.
            ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``.
        flag_name: Command-line flag that supplied the path, named in errors.

    Returns:
        A Keras model mapping ``[B, 299, 299, 3]`` images in ``[-1, 1]`` to
        ``[B, D]`` features.

    Raises:
        ValueError: If the extension is neither ``.keras`` nor ``.h5``, or the
            model does not take 299x299 RGB images.
        FileNotFoundError: If the file does not exist.
    """
    path = os.fspath(path)
    lower = path.lower()
    if not lower.endswith((".keras", ".h5")):
        raise ValueError(f"--{flag_name}: expected a .keras model or a .h5 InceptionV3 weights "
                         f"file, got {path!r}.")
    if not tf.io.gfile.exists(path) or tf.io.gfile.isdir(path):
        raise FileNotFoundError(f"--{flag_name}: InceptionV3 file not found: {path!r}.")
    if lower.endswith(".keras"):
        model = keras.models.load_model(path, compile=False)
    else:
        model = keras.applications.InceptionV3(
            include_top=False, weights=None, pooling="avg",
            input_shape=(INCEPTION_RESOLUTION, INCEPTION_RESOLUTION, 3))
        model.load_weights(path)
    input_shape = tuple(model.inputs[0].shape)
    if len(input_shape) != 4 or input_shape[-1] not in (3, None) or any(
            size not in (INCEPTION_RESOLUTION, None) for size in input_shape[1:3]):
        raise ValueError(f"--{flag_name}: the model must take [B, {INCEPTION_RESOLUTION}, "
                         f"{INCEPTION_RESOLUTION}, 3] images, got input shape {input_shape}.")
    return model


def _check_images(values, name):
    """`check_pixels` for [N, H, W, C] (see `seg2vid_tf.metrics.pixels`)."""
    return check_pixels(values, name, "N, H, W, C")


def preprocess_images(images):
    """Resizes images to 299x299 and scales them to ``[-1, 1]`` for InceptionV3.

    Args:
        images: ``[B, H, W, C]`` NumPy images, uint8 or float in ``[0, 1]``,
            ``C`` in ``{1, 3}``.

    Returns:
        A float32 ``[B, 299, 299, 3]`` tensor in ``[-1, 1]``.
    """
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    images = tf.convert_to_tensor(images.astype(np.float32) / np.float32(scale))
    if tuple(images.shape[1:3]) != (INCEPTION_RESOLUTION, INCEPTION_RESOLUTION):
        images = tf.raw_ops.ResizeBilinear(
            images=images, size=[INCEPTION_RESOLUTION, INCEPTION_RESOLUTION],
            align_corners=False, half_pixel_centers=False)
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    return tf.clip_by_value(images, 0.0, 1.0) * 2.0 - 1.0


def inception_features(model, images, batch_size=16):
    """InceptionV3 pooled features of a set of images.

    Args:
        model: A model from `load_inception`.
        images: ``[N, H, W, C]`` images (array or tensor), uint8 or float in
            ``[0, 1]``, ``C`` in ``{1, 3}``; grayscale is repeated to RGB.
            Video frames ``[B, T, H, W, C]`` should be reshaped to
            ``[B*T, H, W, C]`` first.
        batch_size: Images per forward pass.

    Returns:
        A float64 NumPy array ``[N, D]``.

    Raises:
        ValueError: If the images or ``batch_size`` are invalid, or the model
            does not return ``[B, D]`` features.
    """
    images = _check_images(images, "images")
    return batched_features(images, batch_size, preprocess_images,
                            lambda batch: model(batch, training=False),
                            ("Inception model", "images"))


def fid(model, real_images, generated_images, batch_size=16):
    """Fréchet Inception Distance between real and generated images (`FID_PROTOCOL`).

    Args:
        model: A model from `load_inception`.
        real_images: ``[N1, H, W, C]`` real images (e.g. video frames
            flattened over time), uint8 or float in ``[0, 1]``, ``N1 >= 2``.
        generated_images: ``[N2, H, W, C]`` generated images, ``N2 >= 2``.
        batch_size: Images per forward pass.

    Returns:
        The FID (squared Fréchet distance of the pooled features) as a Python
        float.

    Raises:
        ValueError: If an image set is invalid or has fewer than 2 images.
    """
    real = inception_features(model, _check_images(real_images, "real_images"), batch_size)
    generated = inception_features(model, _check_images(generated_images, "generated_images"),
                                   batch_size)
    return frechet_distance_from_features(real, generated)
