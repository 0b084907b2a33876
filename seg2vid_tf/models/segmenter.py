"""The FCN-score segmenter: a small U-Net from RGB frames to the 19 Cityscapes train ids.

pix2pixHD and pix2pix judge a label-map-to-image generator by segmenting its
output with a network trained on *real* images and comparing the result with
the label map the image was painted from (the "FCN-score"): a generator whose
pictures a segmenter reads as the right classes in the right places has
painted recognisable roads, cars and buildings. The project trains this
network itself on real synthetic frames (`seg2vid_tf.training.segmenter`),
so the score needs no download.

Architecture: `depth` stages of two 3x3 convolutions + batch norm + ReLU,
max pooling between them, a bottleneck, and a mirrored decoder (bilinear
upsampling, concatenation with the encoder's skip, two convolutions). The
decoder's last feature map (`base_filters` channels, full resolution) is the
"last hidden layer" whose statistics the Fréchet segmenter distance compares;
a 1x1 convolution turns it into 19 logits (void is not a class: it is ignored
in training and scoring).

The model is a Keras functional model (tf-keras-vis can explain it) with two
outputs, `logits` and `features`.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf.config_data import ConfigData, check_ints
from seg2vid_tf.models import config as model_config

NUM_SEGMENTER_CLASSES = model_config.NUM_CLASSES - 1  # train ids 0..18; void is ignored
FEATURES_LAYER = "last_hidden"


@dataclasses.dataclass(frozen=True)
class SegmenterConfig(ConfigData):
    """Architecture of the segmenter.

    Attributes:
        base_filters: Channels of the first stage (doubled at every stage).
        depth: Pooling stages; frame sides must be multiples of `2 ** depth`.
    """

    base_filters: int = 16
    depth: int = 3

    def __post_init__(self):
        check_ints(self, ("base_filters", "depth"), 1, "Segmenter ")

    @property
    def size_multiple(self):
        return 2 ** self.depth

    def check_size(self, height, width):
        """ValueError unless both sides are multiples of `size_multiple`."""
        for name, value in (("height", height), ("width", width)):
            if value % self.size_multiple:
                raise ValueError(f"The segmenter needs a {name} that is a multiple of "
                                 f"{self.size_multiple}, got {value}.")


def _conv_block(x, filters, name):
    for index in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                name=f"{name}_conv{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                            name=f"{name}_norm{index}")(x)
        x = keras.layers.ReLU(name=f"{name}_relu{index}")(x)
    return x


def build_segmenter(config=None):
    """The segmenter as a functional Keras model.

    Args:
        config: A `SegmenterConfig` (the defaults when None).

    Returns:
        A `keras.Model` from `image` float32 `[B, H, W, 3]` in [0, 1] to
        `{"logits": [B, H, W, 19], "features": [B, H, W, base_filters]}`.
    """
    config = config or SegmenterConfig()
    image = keras.Input((None, None, 3), name="image")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(image)
    skips = []
    for stage in range(config.depth):
        x = _conv_block(x, config.base_filters * 2 ** stage, f"down{stage}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = _conv_block(x, config.base_filters * 2 ** config.depth, "bottleneck")
    for stage in reversed(range(config.depth)):
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up{stage}")(x)
        x = keras.layers.Concatenate(name=f"skip{stage}")([x, skips[stage]])
        x = _conv_block(x, config.base_filters * 2 ** stage, f"decode{stage}")
    features = keras.layers.Identity(name=FEATURES_LAYER)(x)
    logits = keras.layers.Conv2D(NUM_SEGMENTER_CLASSES, 1, name="logits")(features)
    model = keras.Model(image, {"logits": logits, "features": features}, name="segmenter")
    model.config = config
    return model


def predict_train_ids(segmenter, images, batch_size=16):
    """Arg-max train ids (0..18) of `images`.

    Args:
        segmenter: A model from `build_segmenter`.
        images: float `[N, H, W, 3]` in [0, 1].
        batch_size: Images per forward pass.

    Returns:
        int32 NumPy `[N, H, W]`.
    """
    predictions = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32)
        logits = segmenter(batch, training=False)["logits"]
        predictions.append(tf.argmax(logits, axis=-1, output_type=tf.int32).numpy())
    return np.concatenate(predictions) if predictions else np.zeros((0,), np.int32)


def pooled_features(segmenter, images, batch_size=16):
    """The last hidden layer averaged over each image: float64 NumPy `[N, base_filters]`."""
    pooled = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32)
        features = segmenter(batch, training=False)["features"]
        pooled.append(tf.reduce_mean(features, axis=[1, 2]).numpy().astype(np.float64))
    return np.concatenate(pooled)
