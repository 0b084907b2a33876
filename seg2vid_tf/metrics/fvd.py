"""Fréchet Video Distance (FVD) with a locally stored I3D network.

FVD (Unterthiner et al., 2018, "Towards Accurate Generative Models of
Video") compares Gaussians fitted to I3D features of real and generated
clips. Nothing is downloaded: the I3D network is DeepMind's
``i3d-kinetics-400`` TF Hub module (version 1, TF1 Hub format) unpacked into
a local directory, loaded with ``tf.saved_model.load`` and called through its
``"default"`` signature (float32 ``[B, T, 224, 224, 3]`` in ``[-1, 1]`` ->
400 Kinetics logits). `seg2vid_tf.metrics.standins.save_standin_i3d` writes a
tiny module with the same interface for tests.

The preprocessing follows the reference implementation
(google-research/frechet_video_distance), see `FVD_PROTOCOL`. Published FVD
numbers also differ in clip length, number of clips and frame rate, so
report them next to the value.
"""

import os

import numpy as np
import tensorflow as tf

from seg2vid_tf.metrics.frechet import batched_features, frechet_distance_from_features
from seg2vid_tf.metrics.pixels import check_pixels

__all__ = [
    "FVD_PROTOCOL",
    "I3D_NUM_FEATURES",
    "I3D_RESOLUTION",
    "I3DModel",
    "fvd",
    "i3d_features",
    "load_i3d",
    "preprocess_videos",
]

I3D_RESOLUTION = 224
I3D_NUM_FEATURES = 400

FVD_PROTOCOL = (
    "FVD: I3D (DeepMind i3d-kinetics-400 TF Hub module, 'default' signature) on every "
    "frame of each clip; frames resized per frame to 224x224 with TF1 "
    "resize_bilinear (align_corners=False, half_pixel_centers=False) as in the "
    "reference google-research/frechet_video_distance code; values in [0, 1] "
    "(uint8 / 255) scaled to [-1, 1]; grayscale repeated to RGB; features = the "
    "400 Kinetics logits; squared Frechet distance between Gaussians (mean, "
    "unbiased covariance) of real and generated features, float64, "
    "eigendecomposition-based matrix square root."
)


class I3DModel:
    """An I3D SavedModel and the signature used to compute features.

    Keeps a reference to the loaded object so that the variables captured by
    the signature stay alive.

    Attributes:
        module: The object returned by ``tf.saved_model.load``.
        signature: The ``"default"`` concrete function.
        input_name: Keyword name of the signature's single input.
        output_key: Key of the logits in the signature's output dict.
        path: The directory the module was loaded from.
    """

    def __init__(self, module, path=None):
        """Wraps a loaded module.

        Args:
            module: An object returned by ``tf.saved_model.load`` with a
                ``"default"`` signature taking one float32 ``[B, T, 224, 224, 3]``
                input.
            path: The directory the module was loaded from (for messages).

        Raises:
            ValueError: If the module has no ``"default"`` signature, the
                signature does not take exactly one input, or its outputs do
                not identify the logits.
        """
        signatures = getattr(module, "signatures", None)
        if signatures is None or "default" not in signatures:
            available = sorted(signatures.keys()) if signatures is not None else []
            raise ValueError(f"The I3D module at {path!r} has no 'default' signature "
                             f"(signatures: {available}).")
        signature = signatures["default"]
        _, kwargs = signature.structured_input_signature
        if len(kwargs) != 1:
            raise ValueError("The I3D 'default' signature must take exactly one input, got "
                             f"{sorted(kwargs)}.")
        outputs = signature.structured_outputs
        if isinstance(outputs, dict):
            if "default" in outputs:
                output_key = "default"
            elif len(outputs) == 1:
                output_key = next(iter(outputs))
            else:
                raise ValueError("The I3D 'default' signature has several outputs and none is "
                                 f"named 'default': {sorted(outputs)}.")
        else:
            output_key = None
        self.module = module
        self.signature = signature
        self.input_name = next(iter(kwargs))
        self.output_key = output_key
        self.path = path

    def __call__(self, videos):
        """Runs the network.

        Args:
            videos: float32 ``[B, T, 224, 224, 3]`` tensor in ``[-1, 1]``.

        Returns:
            The ``[B, 400]`` logits tensor.
        """
        outputs = self.signature(**{self.input_name: videos})
        if self.output_key is not None:
            outputs = outputs[self.output_key]
        return outputs


def load_i3d(module_dir, flag_name="i3d_module", tags=None):
    """Loads the I3D network from a local TF Hub / SavedModel directory.

    Args:
        module_dir: Directory of the unpacked ``i3d-kinetics-400`` TF Hub
            module (it holds ``saved_model.pb``), or of a stand-in written by
            `seg2vid_tf.metrics.standins.save_standin_i3d`.
        flag_name: Command-line flag that supplied the path, named in errors.
        tags: MetaGraph tags passed to ``tf.saved_model.load``. ``None`` uses
            the empty tag set for TF1 Hub modules (directories holding
            ``tfhub_module.pb``, like ``hub.load`` does) and the single
            MetaGraph otherwise.

    Returns:
        An `I3DModel`.

    Raises:
        FileNotFoundError: If the directory or its ``saved_model.pb`` is
            missing.
        ValueError: If the module lacks a usable ``"default"`` signature.
    """
    module_dir = os.fspath(module_dir)
    if not tf.io.gfile.isdir(module_dir):
        raise FileNotFoundError(f"--{flag_name}: I3D module directory not found: {module_dir!r} "
                                "(unpack DeepMind's i3d-kinetics-400 TF Hub module there).")
    if not tf.io.gfile.exists(os.path.join(module_dir, "saved_model.pb")):
        raise FileNotFoundError(f"--{flag_name}: no saved_model.pb in the I3D module directory "
                                f"{module_dir!r}.")
    if tags is None and tf.io.gfile.exists(os.path.join(module_dir, "tfhub_module.pb")):
        tags = []
    module = tf.saved_model.load(module_dir, tags=tags)
    return I3DModel(module, path=module_dir)


def _as_i3d(model):
    """Wraps a loaded SavedModel object in an `I3DModel` if needed.

    Args:
        model: An `I3DModel`, an object with a ``"default"`` signature, or a
            callable mapping ``[B, T, 224, 224, 3]`` to ``[B, 400]``.

    Returns:
        A callable returning the logits (a tensor, not a dict).

    Raises:
        ValueError: If ``model`` is neither a SavedModel object with a usable
            ``"default"`` signature nor a callable.
    """
    if isinstance(model, I3DModel):
        return model
    if hasattr(model, "signatures"):
        return I3DModel(model)
    if not callable(model):
        raise ValueError(f"`model` must be an I3DModel or a callable, got {type(model)!r}.")
    return model


def _check_videos(values, name):
    """`check_pixels` for [N, T, H, W, C] (see `seg2vid_tf.metrics.pixels`)."""
    return check_pixels(values, name, "N, T, H, W, C")


def preprocess_videos(videos):
    """Resizes clips to 224x224 and scales them to ``[-1, 1]`` for I3D.

    Args:
        videos: ``[B, T, H, W, C]`` NumPy clips, uint8 or float in ``[0, 1]``,
            ``C`` in ``{1, 3}``.

    Returns:
        A float32 ``[B, T, 224, 224, 3]`` tensor in ``[-1, 1]``.
    """
    videos = np.asarray(videos)
    scale = 255.0 if videos.dtype == np.uint8 else 1.0
    videos = tf.convert_to_tensor(videos.astype(np.float32) / np.float32(scale))
    batch, time, height, width, channels = videos.shape
    frames = tf.reshape(videos, [batch * time, height, width, channels])
    if (height, width) != (I3D_RESOLUTION, I3D_RESOLUTION):
        # TF1 tf.image.resize_bilinear semantics, as in the reference FVD code.
        frames = tf.raw_ops.ResizeBilinear(images=frames, size=[I3D_RESOLUTION, I3D_RESOLUTION],
                                           align_corners=False, half_pixel_centers=False)
    if channels == 1:
        frames = tf.repeat(frames, 3, axis=-1)
    frames = tf.clip_by_value(frames, 0.0, 1.0) * 2.0 - 1.0
    return tf.reshape(frames, [batch, time, I3D_RESOLUTION, I3D_RESOLUTION, 3])


def i3d_features(model, videos, batch_size=8):
    """I3D logits of a set of clips.

    Args:
        model: An `I3DModel` from `load_i3d` (or a loaded SavedModel object
            with a ``"default"`` signature).
        videos: ``[N, T, H, W, C]`` clips (array or tensor), uint8 or float in
            ``[0, 1]``, ``C`` in ``{1, 3}``; grayscale is repeated to RGB.
        batch_size: Clips per forward pass.

    Returns:
        A float64 NumPy array ``[N, 400]`` (the network's feature size).

    Raises:
        ValueError: If the clips or ``batch_size`` are invalid, or the network
            does not return ``[B, D]`` features.
    """
    network = _as_i3d(model)
    videos = _check_videos(videos, "videos")
    return batched_features(videos, batch_size, preprocess_videos, network,
                            ("I3D network", "clips"))


def fvd(model, real_videos, generated_videos, batch_size=8):
    """Fréchet Video Distance between real and generated clips (`FVD_PROTOCOL`).

    With fewer clips than feature dimensions (400) the covariances are
    singular; the Fréchet distance is still well defined and computed
    robustly, but the estimate is biased, so compare FVDs only at equal
    numbers of clips.

    Args:
        model: An `I3DModel` from `load_i3d`.
        real_videos: ``[N1, T, H, W, C]`` real clips, uint8 or float in
            ``[0, 1]``, ``N1 >= 2``.
        generated_videos: ``[N2, T, H, W, C]`` generated clips, ``N2 >= 2``.
        batch_size: Clips per forward pass.

    Returns:
        The FVD (squared Fréchet distance of the I3D logits) as a Python float.

    Raises:
        ValueError: If a clip set is invalid or has fewer than 2 clips.
    """
    real, generated = (i3d_features(model, _check_videos(clips, name), batch_size)
                       for name, clips in (("real_videos", real_videos),
                                           ("generated_videos", generated_videos)))
    return frechet_distance_from_features(real, generated)
