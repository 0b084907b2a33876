"""Motion saliency: which pixels of the start frame and which label classes drive the motion.

With the latent fixed, the predicted motion (mean forward-flow magnitude in a
region, `motion_score`) is a function of the image encoder's input, the start
frame stacked with the one-hot label map. `motion_model` wraps that path as a
functional Keras model (tf-keras-vis works only on functional models);
`explain` computes SmoothGrad saliency and Grad-CAM on it and
`write_explanations` draws the maps. `python -m seg2vid_tf.explain` is the
command around it (its docstring describes the maps).
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from seg2vid_tf import labels
from seg2vid_tf.models import config as config_lib
from seg2vid_tf.models.flow_decoder import frames_to_time_axis
from seg2vid_tf.ops.warp import normalized_to_pixel_flow


BOTTLENECK_LAYER = "encoder_bottleneck"


class _MotionFromEncoding(keras.layers.Layer):
    """Steps 3-5 of img2vid (latent codes, flow decoder, forward-flow head) for a fixed latent.

    Inputs: the image encoder's `[e1, e2, e3, code]`; output: the forward flow
    in pixels `[B, T, H, W, 2]`.
    """

    def __init__(self, video_model, z, **kwargs):
        super().__init__(**kwargs)
        self.video_model = video_model
        self.z = tf.constant(z, tf.float32)

    def call(self, inputs):
        e1, e2, e3, code = inputs
        model = self.video_model
        batch = tf.shape(code)[0]
        z = tf.repeat(self.z, batch, axis=0) if self.z.shape[0] == 1 else self.z
        codes = model.per_frame_codes(z, code)
        features = model.flow_decoder(codes, e1, e2, e3, training=False)
        flow = model.forward_flow_head(features, training=False)
        return frames_to_time_axis(normalized_to_pixel_flow(flow)[..., ::-1],
                                   model.config.num_predicted_frames)


def motion_model(video_model, z):
    """A functional Keras model: conditioning `[B, H, W, C (+20)]` -> flow `[B, T, H, W, 2]`.

    Args:
        video_model: A built `Img2Vid`.
        z: `[1, R, 1024]` latent held fixed.

    Returns:
        `keras.Model` whose layer `encoder_bottleneck` is the image encoder's
        bottleneck (for Grad-CAM).
    """
    c = video_model.config
    channels = c.channels + (config_lib.NUM_CLASSES if c.has_labels else 0)
    conditioning = keras.Input((c.height, c.width, channels), name="conditioning")
    e1, e2, e3, code = video_model.image_encoder(conditioning, training=False)
    code = keras.layers.Activation("linear", name=BOTTLENECK_LAYER)(code)
    flow = _MotionFromEncoding(video_model, z, name="motion")([e1, e2, e3, code])
    # A list of inputs, as tf-keras-vis passes them.
    return keras.Model([conditioning], flow, name="img2vid_motion")


def motion_score(region):
    """tf-keras-vis score: mean forward-flow magnitude inside `region` (`[H, W]` 0/1)."""
    region = tf.constant(region, tf.float32)
    total = tf.maximum(tf.reduce_sum(region), 1.0)

    def score(flow):
        magnitude = tf.sqrt(tf.reduce_sum(tf.square(flow), axis=-1) + 1e-12)  # [B, T, H, W]
        return tf.reduce_sum(tf.reduce_mean(magnitude, axis=1) * region, axis=[1, 2]) / total

    return score


def explain(video_model, first_frame, label_map=None, region=None, seed=0, smooth_samples=20):
    """Saliency and Grad-CAM maps of the predicted motion.

    Args:
        video_model: A built `Img2Vid`.
        first_frame: float `[H, W, C]` in [0, 1].
        label_map: int `[H, W]` train ids (label-conditioned models).
        region: Optional `[H, W]` 0/1 mask of the pixels whose motion is explained.
        seed: Key of the latent (prior sample).
        smooth_samples: SmoothGrad samples (0: plain gradients).

    Returns:
        dict: `score` (float), `frame_saliency` `[H, W]`, `label_saliency`
        `[H, W, 20]` (None without labels), `gradcam` `[H, W]`, each map in [0, 1].
    """
    from tf_keras_vis.gradcam import Gradcam  # pylint: disable=import-outside-toplevel
    from tf_keras_vis.saliency import Saliency  # pylint: disable=import-outside-toplevel

    c = video_model.config
    height, width = c.height, c.width
    z = tf.random.stateless_normal([1, c.latent_rows, config_lib.LATENT_ROW], seed=[seed, 0])
    model = motion_model(video_model, z)
    frame = tf.convert_to_tensor(np.asarray(first_frame, np.float32)[None])
    if c.has_labels:
        if label_map is None:
            raise ValueError("This label-conditioned model needs --label_map.")
        conditioning = video_model.conditioning(frame, tf.constant(label_map[None], tf.int32))
    else:
        conditioning = frame
    region = np.ones((height, width), np.float32) if region is None else region
    if region.sum() == 0:
        raise ValueError("The explained region is empty (no pixel of --explain_class or "
                         "--region in the frame).")
    score = motion_score(region)
    value = float(score(model([conditioning]))[0])
    seed_input = conditioning.numpy()
    saliency = Saliency(model, clone=False)(
        score, seed_input, smooth_samples=smooth_samples, smooth_noise=0.1, keepdims=True,
        normalize_map=False)[0]
    saliency = np.abs(saliency)
    frame_saliency = saliency[..., :c.channels].max(axis=-1)
    label_saliency = saliency[..., c.channels:] if c.has_labels else None
    scale = max(float(saliency.max()), 1e-12)
    gradcam = Gradcam(model, clone=False)(score, seed_input, penultimate_layer=BOTTLENECK_LAYER,
                                          seek_penultimate_conv_layer=False)[0]
    return {
        "score": value,
        "frame_saliency": frame_saliency / scale,
        "label_saliency": None if label_saliency is None else label_saliency / scale,
        "gradcam": np.nan_to_num(gradcam),
    }


# --------------------------------------------------------------------------- pictures
def _heat(map_2d):
    """`[H, W]` in [0, 1] -> uint8 RGB, dark blue -> red -> yellow."""
    x = np.clip(np.asarray(map_2d, np.float64), 0.0, 1.0)[..., None]
    low, mid, high = np.array([20, 20, 90.0]), np.array([220, 40, 30.0]), np.array([255, 240, 80.0])
    color = np.where(x < 0.5, low + (mid - low) * (x / 0.5), mid + (high - mid) * ((x - 0.5) / 0.5))
    return color.astype(np.uint8)


def overlay(image, map_2d, alpha=0.55):
    """A heat map over an image (uint8 `[H, W, 3]`)."""
    image = np.asarray(image, np.float64)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    heat = _heat(map_2d / max(float(np.max(map_2d)), 1e-12))
    return (image * (1 - alpha) + heat * alpha).astype(np.uint8)


def _label_grid(label_saliency, scale=1):
    """The 20 label-channel maps in a 4x5 grid, each titled with its class."""
    height, width = label_saliency.shape[:2]
    names = labels.LABEL_NAMES
    title = 12
    grid = np.full((4 * (height + title), 5 * width, 3), 255, np.uint8)
    largest = max(float(label_saliency.max()), 1e-12)
    canvas = Image.fromarray(grid)
    draw = ImageDraw.Draw(canvas)
    for index in range(config_lib.NUM_CLASSES):
        row, column = divmod(index, 5)
        top, left = row * (height + title), column * width
        canvas.paste(Image.fromarray(_heat(label_saliency[..., index] / largest)),
                     (left, top + title))
        draw.text((left + 2, top), names[index][:14], fill=(0, 0, 0))
    return np.asarray(canvas)


def write_explanations(result, first_frame, output_dir):
    """Writes the pictures and `explain.json`; returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    image = (np.clip(first_frame, 0, 1) * 255).astype(np.uint8)
    paths = {}
    for name in ("frame_saliency", "gradcam"):
        path = os.path.join(output_dir, "saliency_frame.png" if name == "frame_saliency"
                            else "gradcam.png")
        Image.fromarray(np.concatenate([np.repeat(image, 3 // image.shape[-1], axis=-1),
                                        overlay(image, result[name])], axis=1)).save(path)
        paths[name] = path
    summary = {"score_mean_flow_px": result["score"]}
    if result["label_saliency"] is not None:
        path = os.path.join(output_dir, "saliency_labels.png")
        Image.fromarray(_label_grid(result["label_saliency"])).save(path)
        paths["label_saliency"] = path
        names = labels.LABEL_NAMES
        summary["label_saliency_total"] = {
            names[index]: float(result["label_saliency"][..., index].sum())
            for index in range(config_lib.NUM_CLASSES)}
    paths["json"] = os.path.join(output_dir, "explain.json")
    with open(paths["json"], "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    return paths
