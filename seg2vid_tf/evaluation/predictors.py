"""What the evaluation runs: a Keras `Img2Vid` checkpoint or an exported SavedModel.

A predictor has `can_reconstruct` and `sample(video, label_map, seeds)`
(prior latents and fill noise keyed by the seeds, exactly as
`Seg2Vid.generate` and the exported signatures do); a checkpoint also
`reconstruct(video, label_map)` (posterior-mean latent, zero fill noise). Both
return `frames`, `flow` (pixels, x first) and `mask_fw` as NumPy arrays.
"""

import os

import tensorflow as tf

from seg2vid_tf.models import config as model_config
from seg2vid_tf.models.seg2vid import seeded_normal
from seg2vid_tf.ops.warp import normalized_to_pixel_flow


class CheckpointPredictor:
    """Reconstruction and generation with a Keras `Img2Vid`.

    The network runs as traced functions (one trace per batch shape, the last
    smaller batch included), not op by op: see docs/performance.md, "Evaluation".
    """

    can_reconstruct = True

    def __init__(self, model):
        self.model = model
        self.config = model.config
        self._forward = tf.function(self._outputs, autograph=False)
        self._encode = tf.function(
            lambda video, label_map: model.encode_motion(video, label_map, training=False)[0],
            autograph=False)

    def _outputs(self, inputs):
        outputs = self.model(inputs, training=False)
        flow = outputs["flow"]
        merged = tf.reshape(flow, [-1] + flow.shape[2:].as_list())
        pixels = tf.reshape(normalized_to_pixel_flow(merged), tf.shape(flow))
        return {"frames": outputs["frames"], "flow": pixels, "mask_fw": outputs["mask_fw"]}

    def _run(self, video, label_map, z, noise):
        inputs = {"video": video[:, :1], "z": z, "noise": noise}
        if label_map is not None:
            inputs["label_map"] = label_map
        outputs = self._forward(inputs)
        return {"frames": outputs["frames"].numpy(), "flow": outputs["flow"].numpy()[..., ::-1],
                "mask_fw": outputs["mask_fw"].numpy()}

    def reconstruct(self, video, label_map):
        mu = self._encode(video, label_map)
        return dict(self._run(video, label_map, mu, tf.zeros_like(video[:, 0])),
                    latent=mu.numpy())

    def sample(self, video, label_map, seeds):
        c = self.config
        z = seeded_normal(seeds, [c.latent_rows, model_config.LATENT_ROW], stream=0)
        noise = seeded_normal(seeds, [c.height, c.width, c.channels], stream=1)
        return self._run(video, label_map, z, noise)


class SavedModelPredictor:
    """Generation with an exported SavedModel's `img2vid` signature (no reconstruction)."""

    can_reconstruct = False

    def __init__(self, export_dir, flag_name="saved_model_dir"):
        if not export_dir or not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
            raise FileNotFoundError(f"No SavedModel (saved_model.pb) in {export_dir!r} "
                                    f"(--{flag_name}); give a version directory such as "
                                    "models/seg2vid/1.")
        self.signature = tf.saved_model.load(export_dir).signatures["img2vid"]
        _, specs = self.signature.structured_input_signature
        self.uses_labels = "label_map" in specs

    def sample(self, video, label_map, seeds):
        start = tf.cast(tf.round(tf.clip_by_value(video[:, 0], 0.0, 1.0) * 255.0), tf.uint8)
        channels = video.shape[-1]
        if channels == 1:
            start = tf.repeat(start, 3, axis=-1)
        inputs = {"first_frame": start, "seed": tf.constant(seeds, tf.int64)}
        if self.uses_labels:
            inputs["label_map"] = tf.cast(label_map, tf.int32)
        outputs = self.signature(**inputs)
        count = video.shape[1] - 1
        if outputs["flow"].shape[1] < count:
            raise ValueError(f"The export predicts {outputs['flow'].shape[1]} frames; the clips "
                             f"need {count} (export again with --num_frames={count}).")
        frames = tf.cast(outputs["frames"][:, 1:count + 1], tf.float32) / 255.0
        if channels == 1:
            frames = tf.image.rgb_to_grayscale(frames)
        return {"frames": frames.numpy(), "flow": outputs["flow"][:, :count].numpy(),
                "mask_fw": 1.0 - outputs["occlusion"][:, :count].numpy()}
