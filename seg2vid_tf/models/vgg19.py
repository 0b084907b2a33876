"""VGG19 convolutional features for perceptual losses.

The 16 convolutions of `torchvision.models.vgg19().features` (their indices are
the reference parameter names), with a choice of pooling: seg2vid's perceptual
loss uses 2x2 *average* pooling and compares the 12 ReLU outputs relu1_1 ..
relu4_4; pix2pixHD uses max pooling and relu{1..5}_1.

Weights never download: they come from a torchvision state_dict through
`seg2vid_tf.conversion.vgg.vgg19_from_reference`, or from a local Keras `VGG19`
ImageNet weights file through `load_keras_vgg19_weights` (those were trained on
Caffe-style inputs, so the network then preprocesses that way).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.convolution import Conv2D

# (layer name, output channels, torchvision `features` index) in order; a pool follows
# the last convolution of every block.
VGG19_LAYERS = (
    ("relu1_1", 64, 0), ("relu1_2", 64, 2),
    ("relu2_1", 128, 5), ("relu2_2", 128, 7),
    ("relu3_1", 256, 10), ("relu3_2", 256, 12), ("relu3_3", 256, 14), ("relu3_4", 256, 16),
    ("relu4_1", 512, 19), ("relu4_2", 512, 21), ("relu4_3", 512, 23), ("relu4_4", 512, 25),
    ("relu5_1", 512, 28), ("relu5_2", 512, 30), ("relu5_3", 512, 32), ("relu5_4", 512, 34),
)
_POOL_AFTER = {"relu1_2", "relu2_2", "relu3_4", "relu4_4"}

SEG2VID_PERCEPTUAL_LAYERS = tuple(name for name, _, _ in VGG19_LAYERS[:12])
PIX2PIXHD_PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
INPUT_NORMALIZATIONS = ("imagenet", "caffe")


class VGG19Features(keras.layers.Layer):
    """RGB images in [0, 1] `[N, H, W, 3]` -> list of the requested ReLU outputs.

    Args:
        output_layers: Names from `VGG19_LAYERS`, in network order.
        pooling: `"avg"` (seg2vid) or `"max"` (pix2pixHD, torchvision).
        input_normalization: `"imagenet"` (torchvision weights: `(x - mean) / std`)
            or `"caffe"` (Keras application weights: BGR, 0..255, mean subtracted).
    """

    def __init__(self, output_layers=SEG2VID_PERCEPTUAL_LAYERS, pooling="avg",
                 input_normalization="imagenet", **kwargs):
        kwargs.setdefault("name", "vgg19_features")
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        names = [name for name, _, _ in VGG19_LAYERS]
        unknown = [name for name in output_layers if name not in names]
        if unknown or not output_layers:
            raise ValueError(f"output_layers must be a non-empty subset of {names}, got {output_layers}.")
        if list(output_layers) != sorted(output_layers, key=names.index):
            raise ValueError(f"output_layers must be in network order, got {output_layers}.")
        if pooling not in ("avg", "max"):
            raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}.")
        if input_normalization not in INPUT_NORMALIZATIONS:
            raise ValueError(f"input_normalization must be one of {INPUT_NORMALIZATIONS}, "
                             f"got {input_normalization!r}.")
        self.output_layers = tuple(output_layers)
        self.pooling = pooling
        self.input_normalization = input_normalization
        # Attributes, not a list: TF checkpoints do not follow Keras' tracked lists.
        for name, channels, _ in VGG19_LAYERS:
            setattr(self, f"conv{name[4:]}", Conv2D(channels, 3, 1, 1, name=f"conv{name[4:]}"))
        self._last_needed = max(names.index(name) for name in self.output_layers)

    @property
    def convs(self):
        """The 16 convolutions in network order."""
        return [getattr(self, f"conv{name[4:]}") for name, _, _ in VGG19_LAYERS]

    def build(self, input_shape):
        shape = list(input_shape)
        for conv, (_, channels, _) in zip(self.convs, VGG19_LAYERS):
            conv.build(shape)
            shape = shape[:-1] + [channels]

    def _normalize(self, images):
        if self.input_normalization == "imagenet":
            return (images - tf.constant(IMAGENET_MEAN, images.dtype)) / tf.constant(
                IMAGENET_STD, images.dtype)
        return images[..., ::-1] * 255.0 - tf.constant(CAFFE_BGR_MEAN, images.dtype)

    def call(self, images):
        x = self._normalize(images)
        pool = tf.nn.avg_pool2d if self.pooling == "avg" else tf.nn.max_pool2d
        outputs = []
        for index, (conv, (name, _, _)) in enumerate(zip(self.convs, VGG19_LAYERS)):
            x = tf.nn.relu(conv(x))
            if name in self.output_layers:
                outputs.append(x)
            if index == self._last_needed:
                break
            if name in _POOL_AFTER:
                x = pool(x, ksize=2, strides=2, padding="VALID")
        return outputs

    def reference_variables(self):
        """Names as in torchvision's `features` (the converter adds any prefix)."""
        return reference_names.nest(
            {str(index): conv for conv, (_, _, index) in zip(self.convs, VGG19_LAYERS)})

    def get_config(self):
        config = super().get_config()
        config.update(output_layers=self.output_layers, pooling=self.pooling,
                      input_normalization=self.input_normalization)
        return config


def load_keras_vgg19_weights(network, path, flag_name="vgg19_weights"):
    """Loads a local Keras `VGG19` ImageNet weights file (no top) into `network`.

    The file is what `keras.applications.VGG19(weights="imagenet", include_top=False)`
    would download (`vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`); it is
    never downloaded here. The network switches to Caffe-style input
    normalization, which those weights were trained with.

    Args:
        network: A `VGG19Features`.
        path: Path of the `.h5` weights file.
        flag_name: The command-line flag that named the path, for the error message.

    Raises:
        FileNotFoundError: When `path` does not exist.
    """
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(
            f"VGG19 weights file not found: {path!r}. Set --{flag_name} to a local Keras VGG19 "
            "ImageNet .h5 file or a torchvision vgg19 state_dict converted with "
            "`python -m seg2vid_tf.convert --vgg19=...`; nothing is downloaded at run time.")
    application = keras.applications.VGG19(weights=path, include_top=False, input_shape=(None, None, 3))
    kernels = [layer for layer in application.layers if isinstance(layer, keras.layers.Conv2D)]
    if len(kernels) != len(network.convs):
        raise ValueError(f"{path}: expected 16 VGG19 convolutions, found {len(kernels)}.")
    network.input_normalization = "caffe"
    if not network.built:
        network.build((None, None, None, 3))
    for conv, source in zip(network.convs, kernels):
        kernel, bias = source.get_weights()
        conv.kernel.assign(np.asarray(kernel, np.float32))
        conv.bias.assign(np.asarray(bias, np.float32))
    return network
