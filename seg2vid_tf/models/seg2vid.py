"""Seg2Vid: a video from a single semantic label map (the paper's whole pipeline).

Stage 1 (pix2pixHD, `seg2vid_tf.models.pix2pixhd`) paints the first frame
from the label map; stage 2 (img2vid, `seg2vid_tf.models.img2vid`) predicts
the next frames from the first frame, the label map and a latent drawn from
the prior N(0, I).

Longer videos than the model's `T` predicted frames (4 in the paper) are made
in rounds, by default the way the reference's iterative variant makes them
(docs/method.md, "Long videos"): the one-hot label volume is warped with the masked
forward flow of the frame, `warp(onehot(labels), flow_t * mask_fw_t)`, exactly
like the frame; the next round starts from the last predicted frame and the
last warped labels, with the same latent. The reference feeds the warped soft
volume back; `Img2Vid` takes integer train ids, so the warped volume is
turned back into ids by argmax (`warp_label_map`); where the warp reads
mostly outside the image (less than half a pixel's worth of label mass, e.g.
at the border the scene moves away from), the previous label is kept.
`seg2vid_tf.models.rollout.RolloutOptions` names the departures.

Randomness is stateless and keyed by a seed per row: the latent by `(seed, 0)`,
the refine network's fill noise of round `r` by `(seed, r + 1)`, so the same
seed gives the same video, here and in the exported signatures
(`seg2vid_tf.serving`).

`seg2vid_tf.conversion.checkpoints.load_seg2vid` builds one from the
networks' checkpoint directories.
"""

import numpy as np
import tensorflow as tf

from seg2vid_tf import labels
from seg2vid_tf.models import config as model_config
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.models.rollout import RolloutOptions, rollout, warp_label_map  # noqa: F401

NUM_TRAIN_IDS = labels.NUM_LABELS  # train ids 0..18, void 19
# pix2pixHD's Cityscapes label_nc: a one-hot over ids 0..34, one more than the
# Cityscapes label ids 0..33 (`labels.NUM_CITYSCAPES_IDS`).
CITYSCAPES_ONE_HOT_CHANNELS = 35
CITYSCAPES_ID_TO_TRAIN_ID = labels.CITYSCAPES_ID_TO_TRAIN_ID
TRAIN_ID_TO_CITYSCAPES_ID = labels.TRAIN_ID_TO_CITYSCAPES_ID


def cityscapes_to_train_ids(label_ids):
    """Cityscapes label ids 0..33 -> train ids 0..19 (see `labels.cityscapes_ids_to_train_ids`)."""
    return labels.cityscapes_ids_to_train_ids(label_ids)


def train_to_cityscapes_ids(train_ids):
    """Train ids 0..19 -> the Cityscapes label id of each class (void -> 0)."""
    return tf.gather(tf.constant(labels.TRAIN_ID_TO_CITYSCAPES_TABLE), tf.cast(train_ids, tf.int32))


def painter_input(label_map, input_channels, cityscapes_label_map=None):
    """The stage-1 generator's input for a train-id label map.

    The number of input channels tells the label set: 20 (train ids 0..19,
    the generators trained here) or 35 (Cityscapes label ids, the released
    pix2pixHD), each optionally plus one edge channel (21, 36). The edges are
    those of the label map (`pix2pixhd.instance_edges` of the ids): no
    instance maps are read, so semantic boundaries stand in for instance ones.

    Args:
        label_map: int `[B, H, W]` train ids 0..19.
        input_channels: The generator's `Pix2PixHDConfig.input_channels`.
        cityscapes_label_map: Optional int `[B, H, W]` Cityscapes label ids for
            a 35-class generator; mapped from the train ids when None.

    Returns:
        float32 `[B, H, W, input_channels]`.

    Raises:
        ValueError: An input width that is none of 20, 21, 35, 36.
    """
    if input_channels in (NUM_TRAIN_IDS, NUM_TRAIN_IDS + 1):
        ids, num_labels = tf.cast(label_map, tf.int32), NUM_TRAIN_IDS
    elif input_channels in (CITYSCAPES_ONE_HOT_CHANNELS, CITYSCAPES_ONE_HOT_CHANNELS + 1):
        ids = (train_to_cityscapes_ids(label_map) if cityscapes_label_map is None
               else tf.cast(cityscapes_label_map, tf.int32))
        num_labels = CITYSCAPES_ONE_HOT_CHANNELS
    else:
        raise ValueError(
            f"A label-to-image generator with {input_channels} input channels is not supported: "
            f"expected {NUM_TRAIN_IDS} (train ids) or {CITYSCAPES_ONE_HOT_CHANNELS} (Cityscapes "
            "label ids), each optionally plus one edge channel.")
    edges = pix2pixhd.instance_edges(ids) if input_channels > num_labels else None
    return pix2pixhd.generator_input(ids, num_labels, edges)


def painted_image(painter, label_map, cityscapes_label_map=None):
    """A pix2pixHD generator's image of int `[B, H, W]` train ids: float32 `[B, H, W, 3]` in
    [0, 1], whatever precision the generator computes in. No checks; traceable."""
    inputs = painter_input(label_map, painter.config.input_channels, cityscapes_label_map)
    image = tf.cast(painter(inputs, training=False), tf.float32)  # bfloat16 painters
    return tf.clip_by_value((image + 1.0) * 0.5, 0.0, 1.0)


def _to_channels(images, channels):
    """`[B, H, W, 3 or 1]` images -> `channels` channels (grey by luminance, or repeated)."""
    if images.shape[-1] == channels:
        return images
    if channels == 1:
        return tf.image.rgb_to_grayscale(images)
    return tf.repeat(images, 3, axis=-1)


class Seg2Vid:
    """Label map -> video, with the two trained stages.

    Args:
        video_model: A built `Img2Vid` (stage 2).
        painter: Optional built pix2pixHD generator (stage 1); without it the
            first frame must be given.
    """

    def __init__(self, video_model, painter=None, rollout_options=RolloutOptions()):
        self.video_model = video_model
        self.painter = painter
        self.rollout_options = rollout_options
        self._traced_calls = {}
        config = video_model.config
        if painter is not None:
            painter.config.check_size(config.height, config.width)

    @property
    def height(self):
        return self.video_model.config.height

    @property
    def width(self):
        return self.video_model.config.width

    @property
    def channels(self):
        return self.video_model.config.channels

    @property
    def uses_labels(self):
        """Whether stage 2 reads the label map (not for `label_mode="none"`)."""
        return self.video_model.config.has_labels

    def _check_label_map(self, label_map, name="label_map"):
        label_map = tf.convert_to_tensor(label_map)
        if not label_map.dtype.is_integer:
            raise ValueError(f"{name} must be integer train ids, got dtype {label_map.dtype.name}.")
        if label_map.shape.rank != 3 or tuple(label_map.shape[1:]) != (self.height, self.width):
            raise ValueError(f"{name} must be [batch, {self.height}, {self.width}], got shape "
                             f"{label_map.shape}.")
        values = label_map.numpy()
        bad = np.unique(values[(values < 0) | (values >= NUM_TRAIN_IDS)])
        if bad.size:
            raise ValueError(f"{name} has ids {bad.tolist()} outside the train ids "
                             f"0..{NUM_TRAIN_IDS - 1}.")
        return tf.cast(label_map, tf.int32)

    def paint(self, label_map, cityscapes_label_map=None):
        """Stage 1: the first frame, float32 `[B, H, W, C]` in [0, 1].

        Args:
            label_map: int `[B, H, W]` train ids 0..19.
            cityscapes_label_map: Optional original Cityscapes label ids, for a
                35-class generator.

        Raises:
            ValueError: No stage-1 generator, or a bad label map.
        """
        if self.painter is None:
            raise ValueError("No label-to-image generator (stage 1) to paint the first frame: "
                             "load one (--label2image_checkpoint_dir) or give the first frame "
                             "(--first_frame).")
        return self.paint_tensor(self._check_label_map(label_map), cityscapes_label_map)

    def paint_tensor(self, label_map, cityscapes_label_map=None):
        """`paint` without the checks; traceable inside a `tf.function`."""
        return _to_channels(painted_image(self.painter, label_map, cityscapes_label_map),
                            self.channels)

    def sample_latent(self, seeds):
        """The prior sample `[B, R, 1024]`, row `i` keyed by `(seeds[i], 0)` (stateless)."""
        shape = [self.video_model.config.latent_rows, model_config.LATENT_ROW]
        return seeded_normal(seeds, shape, stream=0)

    def traced_call(self, name, call, argument):
        """`call(argument)`; inside a traced function through one `tf.function` per `name`,
        so that every call of a rollout shares a single trace of the network."""
        if tf.executing_eagerly():  # `generate`: the network as it is, call by call.
            return call(argument)
        if name not in self._traced_calls:
            self._traced_calls[name] = tf.function(call, autograph=False)
        return self._traced_calls[name](argument)

    def video_step(self, inputs):
        """One round of the video model, `video_model(inputs, training=False)`.

        Inside a traced function (the serving signatures) a `tf.function`, so
        that a rollout of many rounds traces the network once per input
        signature rather than once per round (an export of 24 frames would
        otherwise hold six copies of the network's graph); eagerly, the call.
        """
        return self.traced_call("video", lambda x: self.video_model(x, training=False), inputs)

    def refine_step(self, warped):
        """The video model's refine network on one warped frame, traced once like
        `video_step` (the composed frame warp refines every frame of a rollout)."""
        return self.traced_call("refine", lambda x: self.video_model.refine(x, training=False),
                                warped)

    def rollout(self, first_frame, label_map, seeds, num_frames, label_maps=True):
        """The prediction rounds on tensors (`seg2vid_tf.models.rollout.rollout` with this
        pipeline's `rollout_options`); traceable inside a `tf.function`."""
        return rollout(self, first_frame, label_map, seeds, num_frames, self.rollout_options,
                       label_maps=label_maps)

    def generate(self, num_frames, seed, label_map=None, first_frame=None,
                 cityscapes_label_map=None):
        """A video of the first frame and `num_frames` predicted frames.

        Args:
            num_frames: Frames predicted after the first one (>= 1); beyond
                the model's `T` per round, rounds restart from the last frame
                with the warped label map (`rollout_options`).
            seed: Integer key of the latent and the fill noise, used for every
                row, or a sequence of one integer per row. A row with seed `s`
                is the same whatever the batch around it (and the same as the
                exported signatures give for `s`).
            label_map: int `[B, H, W]` train ids 0..19; needed unless the model
                has no labels and `first_frame` is given.
            first_frame: Optional float `[B, H, W, C]` in [0, 1]; painted from
                the label map by stage 1 when None.
            cityscapes_label_map: Optional Cityscapes label ids for a
                35-class stage-1 generator.

        Returns:
            dict of NumPy arrays:
                video `[B, N + 1, H, W, C]` in [0, 1] (frame 0 the first frame),
                first_frame `[B, H, W, C]`,
                label_maps `[B, N + 1, H, W]` (the label map warped along; only
                    with a label map),
                flow `[B, N, H, W, 2]` forward flow in pixels (dx, dy) from the
                    start frame of each frame's round,
                mask_fw, mask_bw `[B, N, H, W]`.

        Raises:
            ValueError: Bad arguments (named).
        """
        if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) \
                or num_frames < 1:
            raise ValueError(f"num_frames must be an integer >= 1, got {num_frames!r}.")
        seeds = list(seed) if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
        if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                            for s in seeds):
            raise ValueError(f"seed must be an integer or a sequence of integers, got {seed!r}.")
        if label_map is None and (self.uses_labels or first_frame is None):
            raise ValueError(
                "A label map is needed: this img2vid model is label-conditioned."
                if self.uses_labels else
                "Give a label map (to paint the first frame) or a first frame.")
        if label_map is not None:
            label_map = self._check_label_map(label_map)
        if first_frame is None:
            first_frame = self.paint(label_map, cityscapes_label_map)
        first_frame = tf.cast(tf.convert_to_tensor(first_frame), tf.float32)
        expected = (self.height, self.width, self.channels)
        if first_frame.shape.rank != 4 or tuple(first_frame.shape[1:]) != expected:
            raise ValueError(f"first_frame must be [batch, {self.height}, {self.width}, "
                             f"{self.channels}], got shape {first_frame.shape}.")
        batch_size = first_frame.shape[0]
        if label_map is not None and label_map.shape[0] != batch_size:
            raise ValueError(f"label_map has batch {label_map.shape[0]}, first_frame "
                             f"{batch_size}.")
        if len(seeds) == 1:
            seeds = seeds * batch_size
        if len(seeds) != batch_size:
            raise ValueError(f"seed has {len(seeds)} entries for a batch of {batch_size}.")
        rolled = self.rollout(first_frame, label_map, tf.constant(seeds, tf.int64), num_frames)
        result = {key: value.numpy() for key, value in rolled.items()}
        result["first_frame"] = first_frame.numpy()
        return result


def seeded_normal(seeds, shape, stream):
    """Standard normal samples, one independent stream per row.

    Args:
        seeds: int `[B]` tensor or sequence.
        shape: The shape of one row's sample (a list of Python ints).
        stream: Python int; row `i` is `tf.random.stateless_normal(shape,
            seed=[seeds[i], stream])`.

    Returns:
        float32 `[B, *shape]`.
    """
    seeds = tf.cast(tf.convert_to_tensor(seeds), tf.int64)
    return tf.map_fn(
        lambda row_seed: tf.random.stateless_normal(
            shape, seed=tf.stack([row_seed, tf.constant(stream, tf.int64)])),
        seeds, fn_output_signature=tf.TensorSpec(shape, tf.float32))
