"""Segmenters read from local files: images in, class ids of their label space out.

`load_segmenter(path)` detects the kind of `path` and returns a `Segmenter`:

=================================  ===========================================================
`path`                             kind
=================================  ===========================================================
None                               the project's synthetic-data segmenter shipped with the demo
                                   weights (`seg2vid_tf.demo_weights`); train ids
a directory with ``segmenter_config.json``  a segmenter trained here (`seg2vid_tf.train_segmenter`)
a ``.pb`` file                     a DeepLab frozen graph (tensorflow/models DeepLab model zoo):
                                   ``ImageTensor:0`` uint8 ``[1, H, W, 3]`` in,
                                   ``SemanticPredictions:0`` ids out
a directory with ``saved_model.pb``  a TF SavedModel: its ``serving_default`` signature (or
                                   `signature`), one image input (uint8 0..255, or float 0..1),
                                   class ids or logits out
a ``.keras`` / ``.h5`` file        a Keras model: float images 0..1 in, logits (or a dict with
                                   ``logits``) out
=================================  ===========================================================

Nothing is downloaded. Logits are turned into ids by arg-max, after a bilinear
resize to the image's size when the network predicts at a lower resolution;
ids of another size are resized by nearest neighbour. A keras-hub preset
directory is recognised but not loaded: keras-hub is not a dependency (it
would add 14 packages, tensorflow-text among them); save the model as a
``.keras`` file or a SavedModel instead.
"""

import dataclasses
import os
from typing import Callable

import numpy as np
import tensorflow as tf

from seg2vid_tf.segmentation import label_spaces

DEEPLAB_INPUT = "ImageTensor:0"
DEEPLAB_OUTPUT = "SemanticPredictions:0"
KINDS = ("project", "deeplab_frozen_graph", "saved_model", "keras")


@dataclasses.dataclass
class Segmenter:
    """A loaded segmenter.

    Attributes:
        kind: One of `KINDS`.
        path: The file or directory it came from (None: the shipped one).
        label_space: The space of the ids `predict_ids` returns.
        predict_batch: Function from uint8 images `[N, H, W, 3]` to ids
            (integer `[N, h, w]`) or logits (float `[N, h, w, C]`).
        batch_size: Largest batch `predict_batch` takes (1 for fixed graphs).
        input_size: `(height, width)` the network needs, or None for any size.
        size_multiple: Sides are resized to a multiple of this (1: any).
    """

    kind: str
    path: str
    label_space: str
    predict_batch: Callable
    batch_size: int = 8
    input_size: tuple = None
    size_multiple: int = 1

    def describe(self):
        """One line naming the kind, the source and the label space."""
        names = {"project": "seg2vid_tf segmenter", "deeplab_frozen_graph":
                 f"DeepLab frozen graph ({DEEPLAB_INPUT} -> {DEEPLAB_OUTPUT})",
                 "saved_model": "TF SavedModel", "keras": "Keras model"}
        source = self.path or "the shipped synthetic-data weights"
        return f"{names[self.kind]} from {source}, label space {self.label_space}"

    def predict_ids(self, images):
        """Class ids of this segmenter's label space, at the images' size.

        Args:
            images: uint8 `[N, H, W, 3]`.

        Returns:
            int32 NumPy `[N, H, W]`.
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"Segmenter input must be uint8 [N, H, W, 3], got {images.dtype} "
                             f"{list(images.shape)}.")
        height, width = images.shape[1:3]
        run_size = self.input_size or (_round_up(height, self.size_multiple),
                                       _round_up(width, self.size_multiple))
        outputs = []
        for start in range(0, len(images), self.batch_size):
            batch = tf.constant(images[start:start + self.batch_size])
            if tuple(batch.shape[1:3]) != tuple(run_size):
                batch = tf.cast(tf.clip_by_value(tf.round(tf.image.resize(
                    tf.cast(batch, tf.float32), run_size, antialias=True)), 0, 255), tf.uint8)
            outputs.append(_ids_at_size(self.predict_batch(batch), (height, width), self.path))
        return np.concatenate(outputs)

    def segment(self, images, source="segmenter output"):
        """Train ids 0..19 of uint8 `images` `[N, H, W, 3]` (int32 NumPy `[N, H, W]`)."""
        return label_spaces.to_train_ids(self.predict_ids(images), self.label_space, source)


def _round_up(value, multiple):
    return max(multiple, -(-value // multiple) * multiple)


def _ids_at_size(output, size, path):
    """Ids `[N, H, W]` from a network's ids or logits, resized to `size`."""
    output = tf.convert_to_tensor(output)
    if output.dtype.is_floating:
        if output.shape.rank != 4 or output.shape[-1] < 2:
            raise ValueError(f"{path}: a float output must be logits [N, H, W, classes], got "
                             f"shape {output.shape}.")
        if tuple(output.shape[1:3]) != tuple(size):
            output = tf.image.resize(output, size, method="bilinear")
        return tf.argmax(output, axis=-1, output_type=tf.int32).numpy()
    if output.shape.rank == 4 and output.shape[-1] == 1:
        output = output[..., 0]
    if output.shape.rank != 3:
        raise ValueError(f"{path}: class ids must be [N, H, W] (or [N, H, W, 1]), got shape "
                         f"{output.shape}.")
    if tuple(output.shape[1:3]) != tuple(size):
        output = tf.image.resize(output[..., None], size, method="nearest")[..., 0]
    return tf.cast(output, tf.int32).numpy()


# --------------------------------------------------------------------------- kinds
def _project(path, label_space):
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.conversion import checkpoints  # pylint: disable=import-outside-toplevel

    if label_space not in (None, "cityscapes_train_id"):
        raise ValueError("The project's segmenters predict Cityscapes train ids: "
                         f"--segmenter_label_space must be cityscapes_train_id, got {label_space}.")
    if path is None:
        model = demo_weights.load_shipped("segmenter")
    else:
        model = checkpoints.load_segmenter(path, flag_name="segmenter")

    def predict(batch):
        return model(tf.cast(batch, tf.float32) / 255.0, training=False)["logits"]

    return Segmenter("project", path, "cityscapes_train_id", predict,
                     size_multiple=model.config.size_multiple)


def _frozen_graph(path, label_space):
    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(path, "rb") as handle:
            graph_def.ParseFromString(handle.read())
    except Exception as error:  # protobuf raises its own DecodeError
        raise ValueError(f"{path} (--segmenter) is not a TensorFlow GraphDef: {error}") from error
    names = {node.name for node in graph_def.node}
    missing = [name for name in (DEEPLAB_INPUT, DEEPLAB_OUTPUT) if name[:-2] not in names]
    if missing:
        placeholders = sorted(node.name for node in graph_def.node if node.op == "Placeholder")
        raise ValueError(
            f"{path} (--segmenter) is not a DeepLab frozen graph: it has no tensor "
            f"{', '.join(missing)} (its placeholders: {placeholders or 'none'}). Expected the "
            f"tensorflow/models DeepLab export: {DEEPLAB_INPUT} uint8 [1, H, W, 3] -> "
            f"{DEEPLAB_OUTPUT}.")

    def import_graph():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(import_graph, [])
    function = wrapped.prune(wrapped.graph.get_tensor_by_name(DEEPLAB_INPUT),
                             wrapped.graph.get_tensor_by_name(DEEPLAB_OUTPUT))
    return Segmenter("deeplab_frozen_graph", path, label_space or "cityscapes_train_id",
                     function, batch_size=1)


def _input_spec(signature, path, signature_name):
    _, inputs = signature.structured_input_signature
    if len(inputs) != 1:
        raise ValueError(f"{path} (--segmenter): signature {signature_name!r} must take one "
                         f"image input, it takes {sorted(inputs)}.")
    (name, spec), = inputs.items()
    if spec.shape.rank != 4 or spec.shape[-1] not in (3, None):
        raise ValueError(f"{path} (--segmenter): input {name!r} must be [N, H, W, 3] images, "
                         f"got {spec.shape}.")
    return name, spec


def _saved_model(path, label_space, signature_name):
    try:
        loaded = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise ValueError(f"{path} (--segmenter) is not a loadable SavedModel: {error}") from error
    if signature_name not in loaded.signatures:
        raise ValueError(f"{path} (--segmenter) has no signature {signature_name!r} "
                         f"(it has {sorted(loaded.signatures)}).")
    signature = loaded.signatures[signature_name]
    name, spec = _input_spec(signature, path, signature_name)
    size = tuple(spec.shape[1:3]) if None not in spec.shape[1:3] else None
    batch_size = spec.shape[0] or 8

    def predict(batch):
        values = batch if spec.dtype == tf.uint8 else tf.cast(batch, spec.dtype) / 255.0
        outputs = signature(**{name: values})
        if len(outputs) != 1:
            wanted = [key for key in ("logits", "class_ids", "predictions") if key in outputs]
            if not wanted:
                raise ValueError(f"{path}: signature {signature_name!r} has outputs "
                                 f"{sorted(outputs)}; expected one, or one named logits, "
                                 "class_ids or predictions.")
            return outputs[wanted[0]]
        return next(iter(outputs.values()))

    return Segmenter("saved_model", path, label_space or "cityscapes_train_id", predict,
                     batch_size=batch_size, input_size=size)


def _keras(path, label_space):
    import keras  # pylint: disable=import-outside-toplevel

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise ValueError(f"{path} (--segmenter) is not a loadable Keras model: {error}") from error

    def predict(batch):
        output = model(tf.cast(batch, tf.float32) / 255.0, training=False)
        if isinstance(output, dict):
            if "logits" not in output:
                raise ValueError(f"{path}: the Keras model's outputs {sorted(output)} have no "
                                 "'logits'.")
            output = output["logits"]
        return output

    shape = model.inputs[0].shape if model.inputs else None
    size = tuple(shape[1:3]) if shape is not None and None not in shape[1:3] else None
    return Segmenter("keras", path, label_space or "cityscapes_train_id", predict,
                     input_size=size)


def load_segmenter(path=None, label_space=None, signature="serving_default"):
    """Loads a segmenter from a local file or directory (see the module docstring).

    Args:
        path: File or directory; None for the shipped synthetic-data segmenter.
        label_space: Space of the segmenter's ids (`label_spaces.LABEL_SPACES`);
            None means cityscapes_train_id.
        signature: SavedModel signature to call.

    Returns:
        A `Segmenter`.

    Raises:
        FileNotFoundError: `path` does not exist (naming `--segmenter`).
        ValueError: An unknown kind of file, a bad label space, or a model
            without the expected tensors (naming the file).
    """
    if label_space is not None:
        label_spaces.check_label_space(label_space)
    if path is None:
        return _project(None, label_space)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Segmenter not found: {path!r} (--segmenter).")
    if os.path.isdir(path):
        from seg2vid_tf.conversion import checkpoints  # pylint: disable=import-outside-toplevel

        if os.path.isfile(os.path.join(path, checkpoints.SEGMENTER_CONFIG_FILENAME)):
            return _project(path, label_space)
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return _saved_model(path, label_space, signature)
        if os.path.isfile(os.path.join(path, "metadata.json")) and \
                os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(
                f"{path} (--segmenter) looks like a keras-hub preset; keras-hub is not a "
                "dependency of seg2vid_tf. Load it with keras-hub and save it as a .keras file "
                "or a SavedModel, then pass that.")
        raise ValueError(f"{path} (--segmenter) is a directory with neither "
                         f"{checkpoints.SEGMENTER_CONFIG_FILENAME} (a seg2vid_tf "
                         "segmenter) nor saved_model.pb (a SavedModel).")
    extension = os.path.splitext(path)[1].lower()
    if extension == ".pb":
        return _frozen_graph(path, label_space)
    if extension in (".keras", ".h5"):
        return _keras(path, label_space)
    raise ValueError(f"{path} (--segmenter): unknown kind of file; expected a DeepLab frozen "
                     "graph (.pb), a Keras model (.keras, .h5), a SavedModel directory or a "
                     "seg2vid_tf segmenter directory.")
