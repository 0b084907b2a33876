"""Img2Vid: the conditional VAE of seg2vid's second stage (start frame -> video).

Figure 2 of the paper, in code: motion encoders give a Gaussian posterior over
a latent (prior N(0, I) at inference); the image encoder reads the start frame
and the label map; the flow decoder with its 3-D convolutions predicts, for each
future frame, forward and backward flow and two occlusion masks; the start frame
is warped by the forward flow and the refine network fills in what warping
cannot. docs/method.md ("img2vid forward pass") describes every step; this
module follows it step by step and names the steps the same way.
"""

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from seg2vid_tf.layers import reference_names
from seg2vid_tf.layers.blocks import ConvBase
from seg2vid_tf.layers.convolution import Linear
from seg2vid_tf.models import config as config_lib
from seg2vid_tf.models.flow_decoder import FlowDecoder, frames_to_time_axis, repeat_frames
from seg2vid_tf.models.heads import OutputHead, run_heads
from seg2vid_tf.models.image_encoder import ImageEncoder
from seg2vid_tf.models.motion_encoder import MotionEncoder, motion_input, rows_to_features
from seg2vid_tf.models.refine import RefineNetwork
from seg2vid_tf.ops.warp import warp

tfd = tfp.distributions

OUTPUT_KEYS = ("warped", "frames", "flow", "flow_back", "mask_fw", "mask_bw", "mu", "logvar")
_LABEL_RANGE_MESSAGE = f"'label_map' ids must be in 0..{config_lib.NUM_CLASSES - 1}"


def _float32(x):
    """`x` as float32; the same tensor when it is float32 already."""
    return tf.cast(x, tf.float32)


def label_volume(label_map):
    """One-hot `[B, H, W, 20]` float32 of train ids 0..19 (bg ids 0..10 first)."""
    return tf.one_hot(tf.cast(label_map, tf.int32), config_lib.NUM_CLASSES, dtype=tf.float32)


def standard_normal_prior(batch_size, latent_rows):
    """The prior N(0, I) over the `[B, R, 1024]` latent."""
    shape = tf.stack([batch_size, latent_rows, config_lib.LATENT_ROW])
    return tfd.MultivariateNormalDiag(loc=tf.zeros(shape), scale_diag=tf.ones(shape))


def gaussian_posterior(mu, logvar):
    """The motion encoders' posterior: diagonal Gaussian with `scale = exp(logvar / 2)`."""
    return tfd.MultivariateNormalDiag(loc=mu, scale_diag=tf.exp(0.5 * logvar))


class Img2Vid(keras.Model):
    """The img2vid network (two-path, one-path or no-label variant).

    Call it with a dict:
        video: float32 `[B, F, H, W, C]` in [0, 1]; frame 0 is the start frame.
            Training needs the whole clip (`F = T + 1`, 5 in the paper) to encode
            the motion, unless `z` is given; at inference frame 0 is enough.
        label_map: int `[B, H, W]`, train ids 0..19 (not for `label_mode="none"`).
        noise: optional float32 `[B, H, W, C]`, the refine step's fill where the
            forward mask is low; standard normal when absent.
        z: optional float32 `[B, R, 1024]`, the latent. When absent: a
            reparameterized posterior sample in training, a prior sample otherwise.

    Returns a dict of channels-last tensors (T predicted frames):
        warped, frames: `[B, T, H, W, C]`, the start frame warped by each forward
            flow, and the refined frames.
        flow, flow_back: `[B, T, H, W, 2]` in the reference's normalized units
            (channel 0 = x, -1..1 spans the image between the outer pixel centres).
        mask_fw, mask_bw: `[B, T, H, W]` occlusion masks in (0, 1).
        mu, logvar: `[B, R, 1024]`, the posterior of the motion encoders when the
            clip had `T + 1` frames, else the prior's (zeros).

    Args:
        config: An `Img2VidConfig`; the paper's Cityscapes model at 128x256 when None.
        seed: Seed of the model's own random draws (latent, fill noise).
    """

    def __init__(self, config=None, seed=None, **kwargs):
        kwargs.setdefault("name", "img2vid")
        # The model itself computes in float32, so its inputs (frames, noise, latent) stay
        # float32 under a mixed precision policy too; each sublayer, created under the
        # global policy, casts what it computes with.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.config = config if config is not None else config_lib.Img2VidConfig()
        c = self.config
        # Layers are attributes, not lists: TF checkpoints do not follow Keras' tracked lists.
        if c.label_mode == "two_path":
            self.motion_net_bg = MotionEncoder(config_lib.LATENT_ROW // 2, c, name="motion_net_bg")
            self.motion_net_fg = MotionEncoder(config_lib.LATENT_ROW // 2, c, name="motion_net_fg")
        else:
            self.motion_net = MotionEncoder(config_lib.LATENT_ROW, c, name="motion_net")
        self.image_encoder = ImageEncoder(c, name="encoder")
        self.latent_fc = Linear(config_lib.LATENT_ROW, name="fc")
        self.zconv = ConvBase(config_lib.CODE_CHANNELS_PER_FRAME * c.num_predicted_frames,
                              3, 1, 1, name="zconv")
        self.flow_decoder = FlowDecoder(c, name="flow_decoder")
        self.forward_flow_head = OutputHead(c, name="flownext")
        self.backward_flow_head = OutputHead(c, name="flowprev")
        self.occlusion_head = OutputHead(c, activation="sigmoid", name="get_mask")
        self.refine = RefineNetwork(c, name="refine_net")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")

    @property
    def motion_encoders(self):
        """`[background, foreground]` for the two-path model, else `[motion_net]`."""
        if self.config.label_mode == "two_path":
            return [self.motion_net_bg, self.motion_net_fg]
        return [self.motion_net]

    def build(self, input_shape=None):
        # Sublayers are built by the first call; their shapes depend on the variant.
        self.built = True

    # ----------------------------------------------------------------- inputs
    def _validate(self, inputs):
        """Static checks raise ValueError; data checks raise InvalidArgumentError."""
        c = self.config
        if not isinstance(inputs, dict) or "video" not in inputs:
            raise ValueError("Img2Vid expects a dict with at least a 'video' entry "
                             f"[B, F, H, W, {c.channels}]; got {type(inputs).__name__}.")
        unknown = set(inputs) - {"video", "label_map", "noise", "z"}
        if unknown:
            raise ValueError(f"Unknown Img2Vid inputs {sorted(unknown)}; expected video, "
                             "label_map, noise, z.")
        video = tf.convert_to_tensor(inputs["video"])
        if not video.dtype.is_floating:
            raise ValueError(f"'video' must be float in [0, 1], got dtype {video.dtype.name}.")
        video = tf.cast(video, tf.float32)
        expected = f"[B, F, {c.height}, {c.width}, {c.channels}]"
        if video.shape.rank != 5:
            raise ValueError(f"'video' must have rank 5 {expected}, got shape {video.shape}.")
        if tuple(video.shape[2:]) != (c.height, c.width, c.channels):
            raise ValueError(f"'video' must be {expected} for this model, got shape {video.shape}.")
        video = tf.debugging.check_numerics(video, "'video' contains NaN or Inf")
        label_map = inputs.get("label_map")
        if c.has_labels:
            if label_map is None:
                raise ValueError(f"This {c.label_mode} model needs a 'label_map' "
                                 f"[B, {c.height}, {c.width}] of train ids 0..19.")
            label_map = tf.convert_to_tensor(label_map)
            if not label_map.dtype.is_integer:
                raise ValueError(f"'label_map' must be an integer tensor of train ids, "
                                 f"got dtype {label_map.dtype.name}.")
            if label_map.shape.rank != 3 or tuple(label_map.shape[1:]) != (c.height, c.width):
                raise ValueError(f"'label_map' must be [B, {c.height}, {c.width}], "
                                 f"got shape {label_map.shape}.")
            label_map = tf.cast(label_map, tf.int32)
            with tf.control_dependencies([
                    tf.debugging.assert_greater_equal(
                        label_map, 0, message=_LABEL_RANGE_MESSAGE),
                    tf.debugging.assert_less(
                        label_map, config_lib.NUM_CLASSES, message=_LABEL_RANGE_MESSAGE)]):
                label_map = tf.identity(label_map)
        elif label_map is not None:
            raise ValueError("This model was built with label_mode='none' and takes no 'label_map'.")
        noise = inputs.get("noise")
        if noise is not None:
            noise = tf.cast(tf.convert_to_tensor(noise), tf.float32)
            if noise.shape.rank != 4 or tuple(noise.shape[1:]) != (c.height, c.width, c.channels):
                raise ValueError(f"'noise' must be [B, {c.height}, {c.width}, {c.channels}], "
                                 f"got shape {noise.shape}.")
        z = inputs.get("z")
        if z is not None:
            z = tf.cast(tf.convert_to_tensor(z), tf.float32)
            if z.shape.rank != 3 or tuple(z.shape[1:]) != (c.latent_rows, config_lib.LATENT_ROW):
                raise ValueError(f"'z' must be [B, {c.latent_rows}, {config_lib.LATENT_ROW}] at "
                                 f"{c.height}x{c.width}, got shape {z.shape}.")
        return video, label_map, noise, z

    def conditioning(self, first_frame, label_map):
        """Image-encoder input: the start frame and, if the model has labels, the one-hot map."""
        if not self.config.has_labels:
            return first_frame
        return tf.concat([first_frame, label_volume(label_map)], axis=-1)

    # ----------------------------------------------------------------- latent
    def encode_motion(self, video, label_map=None, training=None):
        """Posterior parameters `(mu, logvar)`, each `[B, R, 1024]`, of a clip.

        Args:
            video: `[B, T+1, H, W, C]`, the start frame and the T frames to predict.
            label_map: `[B, H, W]` train ids, for the label-conditioned variants.
            training: Batch-norm mode.
        """
        y = motion_input(video[:, :self.config.num_frames])
        if self.config.label_mode == "two_path":
            labels = label_volume(label_map)
            background = labels[..., :config_lib.NUM_BACKGROUND_CLASSES]
            foreground = labels[..., config_lib.NUM_BACKGROUND_CLASSES:]
            halves = [encoder(tf.concat([y, mask], axis=-1), training=training)
                      for encoder, mask in zip(self.motion_encoders, (background, foreground))]
            return (_float32(tf.concat([halves[0][0], halves[1][0]], axis=-1)),
                    _float32(tf.concat([halves[0][1], halves[1][1]], axis=-1)))
        if self.config.label_mode == "one_path":
            y = tf.concat([y, label_volume(label_map)], axis=-1)
        mu, logvar = self.motion_net(y, training=training)
        return _float32(mu), _float32(logvar)

    def _stateless_seed(self):
        return keras.random.randint((2,), 0, 2 ** 31 - 1, dtype="int32", seed=self.seed_generator)

    def per_frame_codes(self, z, code):
        """Step 3: the latent `z` `[B, R, 1024]` and the image code -> the decoder's codes.

        Returns:
            `[T*B, H/16, W/16, C]`, frame-major: the image code beside each frame's
            slice of `zconv(latent, code)`.
        """
        c = self.config
        latent = rows_to_features(self.latent_fc(z), c.height // 16, c.width // 16)
        frame_codes = self.zconv(tf.concat([latent, code], axis=-1))
        per_frame = config_lib.CODE_CHANNELS_PER_FRAME
        return tf.concat([
            tf.concat([code, frame_codes[..., per_frame * i:per_frame * (i + 1)]], axis=-1)
            for i in range(c.num_predicted_frames)], axis=0)

    # ----------------------------------------------------------------- forward
    def call(self, inputs, training=None):
        video, label_map, noise, z = self._validate(inputs)
        c = self.config
        t = c.num_predicted_frames
        batch = tf.shape(video)[0]
        first = video[:, 0]

        # 1. Motion encoders (whenever the whole clip is there).
        has_clip = video.shape[1] is not None and video.shape[1] >= c.num_frames
        if has_clip:
            mu, logvar = self.encode_motion(video, label_map, training=training)
        else:
            zeros = tf.zeros(tf.stack([batch, c.latent_rows, config_lib.LATENT_ROW]))
            mu, logvar = zeros, zeros
        if z is None:
            if training:
                if not has_clip:
                    raise ValueError(
                        f"Training needs the whole clip ({c.num_frames} frames) in 'video' to "
                        f"encode the motion, or an explicit 'z'; got {video.shape[1]} frames.")
                z = gaussian_posterior(mu, logvar).sample(seed=self._stateless_seed())
            else:
                z = standard_normal_prior(batch, c.latent_rows).sample(seed=self._stateless_seed())

        # 2. Image encoder.
        e1, e2, e3, code = self.image_encoder(self.conditioning(first, label_map), training=training)

        # 3. Latent to per-frame codes, stacked frame-major.
        codes = self.per_frame_codes(z, code)

        # 4. Flow decoder and 5. heads.
        features = self.flow_decoder(codes, e1, e2, e3, training=training)
        # The heads' outputs in float32 (a no-op unless the layers compute in bfloat16:
        # warping, the masks' blend and the losses stay in float32).
        flow, masks = (_float32(head) for head in run_heads(
            [self.forward_flow_head, self.occlusion_head], features, training=training))
        flow_back = _float32(self.backward_flow_head(features, training=training))
        mask_fw, mask_bw = tf.split(masks, 2, axis=-1)  # a slice's gradient is a scatter

        # 6. Warp the start frame by the masked forward flow.
        first_per_frame = repeat_frames(first, t)
        warped = warp(first_per_frame, flow * mask_fw)

        # 7. Refine, with noise where the forward mask says the pixel is unseen.
        if noise is None:
            noise = keras.random.normal(tf.shape(first), seed=self.seed_generator)
        refine_input = warped * mask_fw + repeat_frames(noise, t) * (1.0 - mask_fw)
        frames = _float32(self.refine(refine_input, training=training))

        def per_sample(x):
            return frames_to_time_axis(x, t)

        return {
            "warped": per_sample(warped),
            "frames": per_sample(frames),
            "flow": per_sample(flow),
            "flow_back": per_sample(flow_back),
            "mask_fw": per_sample(tf.squeeze(mask_fw, -1)),
            "mask_bw": per_sample(tf.squeeze(mask_bw, -1)),
            "mu": mu,
            "logvar": logvar,
        }

    # ----------------------------------------------------------------- weights
    def build_for_size(self, batch_size=1):
        """Creates every variable by running one tiny inference pass."""
        c = self.config
        inputs = {"video": tf.zeros([batch_size, c.num_frames, c.height, c.width, c.channels]),
                  "z": tf.zeros([batch_size, c.latent_rows, config_lib.LATENT_ROW]),
                  "noise": tf.zeros([batch_size, c.height, c.width, c.channels])}
        if c.has_labels:
            inputs["label_map"] = tf.zeros([batch_size, c.height, c.width], tf.int32)
        self(inputs, training=False)
        return self

    def reference_variables(self):
        """Every variable under its PyTorch state_dict name (see `reference_names`)."""
        children = {}
        if self.config.label_mode == "two_path":
            children["motion_net_bg"], children["motion_net_fg"] = self.motion_encoders
        else:
            children["motion_net"] = self.motion_net
        children.update({
            "encoder": self.image_encoder, "fc": self.latent_fc, "zconv": self.zconv,
            "flow_decoder": self.flow_decoder, "flownext": self.forward_flow_head,
            "flowprev": self.backward_flow_head, "get_mask": self.occlusion_head,
            "refine_net": self.refine})
        return reference_names.nest(children)

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(config_lib.Img2VidConfig.from_dict(config["config"]), name=config.get("name"))
