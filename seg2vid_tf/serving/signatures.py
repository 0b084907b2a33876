"""The serving signatures of a Seg2Vid pipeline, as traceable functions.

Every signature takes a batch (dimension 0) and names all its tensors:

* `seg2vid` (also `serving_default` when stage 1 is exported):
  `label_map` int32 `[B, H, W]` train ids 0..19 and `seed` int64 `[B]` ->
  `frames` uint8 `[B, T, H, W, 3]` (the painted first frame included),
  `flow` float32 `[B, T-1, H, W, 2]` forward flow in pixels (dx, dy) from the
  start frame of each frame's round, `occlusion` float32 `[B, T-1, H, W]`
  (`1 - mask_fw`: where the refine network, not the warp, paints the pixel).
* `img2vid`: `first_frame` uint8 `[B, H, W, 3]`, `label_map` (label-conditioned
  models only) and `seed` -> the same outputs.
* `label2image`: `label_map` -> `image` uint8 `[B, H, W, 3]`.
* `seg2vid_png`: `label_map_png_bytes` string `[B]` (single-channel PNGs of
  train ids) and `seed` -> `frames_png_bytes` string `[B, T]` (PNG frames; the
  `_bytes` suffix makes TF Serving's REST API return base64).

The inputs are declared with their ranks and fixed sizes (`[None, H, W]`,
`[None, H, W, 3]`, `[None]`), so that `saved_model_cli show` and TF Serving's
metadata tell a client the whole contract. A request that breaks it is refused
before the model by the local server (`seg2vid_tf.serving.rest.check_shapes`,
REST and gRPC alike); inside the graph, the batch, the rows, the ids and the
PNG payloads are checked again, so that a bad request fails with an
`INVALID_ARGUMENT` that says what was wrong. Randomness is stateless and keyed by each row's seed, as in
`Seg2Vid.generate`: the same request gives the same video, whatever the rows
around it.
"""

import tensorflow as tf

from seg2vid_tf.image_formats import PNG_SIGNATURE
from seg2vid_tf.models import seg2vid as seg2vid_lib

SEG2VID = "seg2vid"
IMG2VID = "img2vid"
LABEL2IMAGE = "label2image"
SEG2VID_PNG = "seg2vid_png"
# zlib level of the returned PNG frames: 1 encodes 128x128 frames 2.5x faster than the
# default (6) for 8% more bytes (docs/performance.md, "Serving").
PNG_COMPRESSION = 1


def _checked(tensor, condition, fallback, *message):
    """`tensor`, once `condition` holds; otherwise INVALID_ARGUMENT with `message`.

    The check is a `tf.cond` the result flows through. When it fails, the failing
    branch returns `fallback`, a harmless stand-in of the expected shape, so
    that no later op (say an `EnsureShape` that the graph optimizer schedules
    early) can fail first with a less helpful message. The message never
    holds the tensor's data (which may be binary).
    """
    def fail():
        with tf.control_dependencies([tf.debugging.Assert(False, list(message))]):
            return tf.identity(fallback)

    return tf.cond(tf.reduce_all(condition), lambda: tf.identity(tensor), fail)


def _check_batch(tensor, name, rank, trailing, dtype_name):
    """Checks (in the graph) that `tensor` is `[B, *trailing]` with B >= 1; returns it with static shape."""
    shape_text = ", ".join(["batch"] + [str(size) for size in trailing])
    shape = tf.shape(tensor)
    # Padded, so that the comparison is defined whatever the rank.
    padded = tf.concat([shape, tf.zeros([rank], tf.int32)], axis=0)
    condition = tf.logical_and(tf.equal(tf.rank(tensor), rank), padded[0] > 0)
    if trailing:
        condition = tf.logical_and(condition, tf.reduce_all(
            tf.equal(padded[1:rank], tf.constant(trailing, tf.int32))))
    tensor = _checked(tensor, condition, tf.zeros([1] + list(trailing), tensor.dtype),
                      f"{name} must be {dtype_name} [{shape_text}] with at least one row; "
                      "got shape", shape)
    return tf.ensure_shape(tensor, [None] + list(trailing))


def _check_ids(label_map, name):
    """Checks train ids 0..19 (19 = void)."""
    last = seg2vid_lib.NUM_TRAIN_IDS - 1
    return _checked(
        label_map, (label_map >= 0) & (label_map <= last), tf.zeros_like(label_map),
        f"{name} has ids outside the train ids 0..{last} ({last} = void); found min",
        tf.reduce_min(label_map), "max", tf.reduce_max(label_map))


def _check_rows(tensor, other, message):
    """`tensor`, once it has as many rows as `other`."""
    fallback = tf.zeros(tf.concat([tf.shape(other)[:1], tf.shape(tensor)[1:]], axis=0),
                        tensor.dtype)
    return _checked(tensor, tf.equal(tf.shape(tensor)[0], tf.shape(other)[0]), fallback,
                    message, "; got", tf.shape(tensor)[0], "and", tf.shape(other)[0], "rows")


def _check_seed(seed, batch_of, name_of_batch):
    seed = _check_batch(seed, "seed", 1, [], "int64")
    return _check_rows(seed, batch_of, f"seed must have one entry per row of {name_of_batch}")


def _to_uint8_rgb(images):
    """float `[..., H, W, C]` in [0, 1] (C = 1 or 3) -> uint8 RGB."""
    images = tf.cast(tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0), tf.uint8)
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    return images


def _decode_label_pngs(png_bytes, height, width):
    """string `[B]` single-channel PNGs -> int32 `[B, H, W]`, checked in the graph."""
    png_bytes = _check_batch(png_bytes, "label_map_png_bytes", 1, [], "string")
    # The stand-in of a bad batch is a valid blank PNG of the expected size.
    blank = tf.io.encode_png(tf.zeros([height, width, 1], tf.uint8))
    png_bytes = _checked(
        png_bytes,
        tf.equal(tf.strings.substr(png_bytes, 0, len(PNG_SIGNATURE)), tf.constant(PNG_SIGNATURE)),
        tf.fill(tf.shape(png_bytes), blank),
        "label_map_png_bytes must hold PNG files: a row does not start with the PNG signature")

    def decode(one):
        image = tf.io.decode_png(one, channels=0, dtype=tf.uint8)
        image = _checked(
            image, tf.equal(tf.shape(image), tf.constant([height, width, 1], tf.int32)),
            tf.zeros([height, width, 1], tf.uint8),
            f"label_map_png_bytes must be single-channel (grayscale) {width}x{height} PNGs of "
            "train ids; got [height, width, channels]", tf.shape(image))
        return tf.cast(tf.reshape(image, [height, width]), tf.int32)

    label_map = tf.map_fn(decode, png_bytes,
                          fn_output_signature=tf.TensorSpec([height, width], tf.int32))
    return _check_ids(label_map, "label_map_png_bytes")


def _encode_png_frame(frame):
    return tf.io.encode_png(frame, compression=PNG_COMPRESSION)


def _encode_png_frames(frames):
    """uint8 `[B, T, H, W, 3]` -> string `[B, T]` PNGs (zlib level `PNG_COMPRESSION`)."""
    shape = tf.shape(frames)
    flat = tf.reshape(frames, tf.concat([[-1], shape[2:]], axis=0))
    encoded = tf.map_fn(_encode_png_frame, flat,
                        fn_output_signature=tf.TensorSpec([], tf.string))
    return tf.reshape(encoded, shape[:2])


class ServingFunctions:
    """The signature functions of one pipeline, for a fixed video length.

    Args:
        pipeline: A `seg2vid_tf.models.seg2vid.Seg2Vid` (stage 1 optional).
        num_frames: Frames predicted after the first one (`T - 1`).

    Raises:
        ValueError: `num_frames` < 1.
    """

    def __init__(self, pipeline, num_frames):
        if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f"num_frames must be an integer >= 1, got {num_frames!r}.")
        self.pipeline = pipeline
        self.num_frames = num_frames
        self.height, self.width = pipeline.height, pipeline.width
        # One trace of the rollout, called by seg2vid, img2vid and seg2vid_png alike.
        self._rollout = tf.function(
            lambda first_frame, label_map, seed: pipeline.rollout(first_frame, label_map, seed,
                                                                  num_frames, label_maps=False),
            autograph=False)

    def _label_map(self, label_map):
        label_map = _check_batch(label_map, "label_map", 3, [self.height, self.width], "int32")
        return _check_ids(label_map, "label_map")

    def _video(self, first_frame, label_map, seed):
        rolled = self._rollout(first_frame, label_map, seed)
        return {
            "frames": _to_uint8_rgb(rolled["video"]),
            "flow": tf.identity(rolled["flow"]),
            "occlusion": 1.0 - rolled["mask_fw"],
        }

    def _paint(self, label_map):
        return seg2vid_lib.painted_image(self.pipeline.painter, label_map)

    def _first_frame_for_video(self, image):
        """Stage-1 RGB (or any 3-channel image) -> the video model's channels."""
        if self.pipeline.channels == 1 and image.shape[-1] == 3:
            return tf.image.rgb_to_grayscale(image)
        return image

    def seg2vid(self, label_map, seed):
        """`label_map`, `seed` -> `frames`, `flow`, `occlusion`."""
        label_map = self._label_map(label_map)
        seed = _check_seed(seed, label_map, "label_map")
        first = self._first_frame_for_video(self._paint(label_map))
        return self._video(first, label_map if self.pipeline.uses_labels else None, seed)

    def img2vid(self, first_frame, seed, label_map=None):
        """`first_frame` (uint8 RGB), [`label_map`], `seed` -> `frames`, `flow`, `occlusion`."""
        first_frame = _check_batch(first_frame, "first_frame", 4, [self.height, self.width, 3],
                                   "uint8")
        seed = _check_seed(seed, first_frame, "first_frame")
        if label_map is not None:
            label_map = self._label_map(label_map)
            label_map = _check_rows(label_map, first_frame,
                                    "label_map and first_frame must have the same number of rows")
        image = self._first_frame_for_video(tf.cast(first_frame, tf.float32) / 255.0)
        return self._video(image, label_map, seed)

    def label2image(self, label_map):
        """`label_map` -> `image` uint8 `[B, H, W, 3]`."""
        return {"image": _to_uint8_rgb(self._paint(self._label_map(label_map)))}

    def seg2vid_png(self, label_map_png_bytes, seed):
        """`label_map_png_bytes` string `[B]`, `seed` -> `frames_png_bytes` string `[B, T]`."""
        label_map = _decode_label_pngs(label_map_png_bytes, self.height, self.width)
        outputs = self.seg2vid(label_map, seed)
        return {"frames_png_bytes": _encode_png_frames(outputs["frames"])}

    def endpoints(self):
        """`(name, fn, input_signature)` in export order; the first one becomes `serving_default`.

        With stage 1: seg2vid, img2vid, label2image, seg2vid_png. Without: img2vid.
        """
        height, width = self.height, self.width
        label_spec = tf.TensorSpec([None, height, width], tf.int32, name="label_map")
        seed_spec = tf.TensorSpec([None], tf.int64, name="seed")
        frame_spec = tf.TensorSpec([None, height, width, 3], tf.uint8, name="first_frame")
        if self.pipeline.uses_labels:
            def img2vid(first_frame, label_map, seed):
                return self.img2vid(first_frame, seed, label_map)
            img2vid_entry = (IMG2VID, img2vid, [frame_spec, label_spec, seed_spec])
        else:
            def img2vid(first_frame, seed):
                return self.img2vid(first_frame, seed)
            img2vid_entry = (IMG2VID, img2vid, [frame_spec, seed_spec])
        if self.pipeline.painter is None:
            return [img2vid_entry]

        def seg2vid(label_map, seed):
            return self.seg2vid(label_map, seed)

        def label2image(label_map):
            return self.label2image(label_map)

        def seg2vid_png(label_map_png_bytes, seed):
            return self.seg2vid_png(label_map_png_bytes, seed)

        return [
            (SEG2VID, seg2vid, [label_spec, seed_spec]),
            img2vid_entry,
            (LABEL2IMAGE, label2image, [label_spec]),
            (SEG2VID_PNG, seg2vid_png,
             [tf.TensorSpec([None], tf.string, name="label_map_png_bytes"), seed_spec]),
        ]
