"""Stage-1 training: pix2pixHD, label map -> first frame (`train_label2image`).

    python -m seg2vid_tf.train_label2image --flagfile=configs/label2image_synthetic.cfg \
        --data_dir=DIR --model_dir=DIR [--train_steps=N]

The pix2pixHD objective (docs/method.md, "pix2pixHD"; defaults of pix2pixHD's
`train.py`):

* generator input: the one-hot train ids (20 classes, void included), plus
  with `--label_edges` one channel of label-map boundaries (pix2pixHD's
  instance edges; the data here has no instance maps, so the edges of the
  semantic map stand in); output an image in [-1, 1] (tanh);
* least-squares GAN: the discriminator regresses real -> 1 and fake -> 0 on
  the last output of every scale (`loss_D = 0.5 (D_fake + D_real)`), the
  generator fake -> 1;
* discriminator feature matching: L1 between the intermediate features of
  the fake and the real image (all groups but the last of every scale),
  weighted `(1 / num_D) * (4 / (n_layers_D + 1))` each, times
  `--weight_feat` (pix2pixHD's `lambda_feat` = 10);
* VGG19 perceptual loss: L1 between relu1_1, relu2_1, relu3_1, relu4_1 and
  relu5_1 (max pooling, weights 1/32, 1/16, 1/8, 1/4, 1) of fake and real,
  times `--weight_vgg` (10; `--weight_vgg=0` turns it off, pix2pixHD's
  `--no_vgg_loss`). The network is `convert.load_vgg19` on a local file
  (`--vgg19_weights`). Difference to pix2pixHD: its VGG reads the [-1, 1]
  images as they are; here they are mapped to [0, 1] and normalized the way
  the weights were trained (ImageNet mean/std for torchvision weights);
* both networks are updated from the same forward pass (generator first in
  pix2pixHD; the discriminator's loss sees the generated image detached), by
  Adam with lr 2e-4 and betas (0.5, 0.999), the learning rate decaying
  linearly to zero over the last `--decay_fraction` of the steps (pix2pixHD:
  100 constant + 100 decaying epochs, so 0.5).

The training system is the skeleton both trainers share
(`seg2vid_tf.training.base.TrainerBase`): `make_strategy()` distribution
(with several workers only the chief writes checkpoints, summaries and
samples) with every loss term scaled by local / global
batch (Keras 3 optimizers all-reduce the gradients inside `strategy.run`), a
`tf.train.CheckpointManager` over generator, discriminator, both optimizers,
the step and the data iterator, resuming, SIGTERM/SIGINT saving, skipped
non-finite steps, tqdm, TensorBoard scalars and sample grids
(label colours | generated | real).

The generator is checkpointed under the name `model` and `model_dir` holds
`label2image_config.json`, so `convert.load_label2image(model_dir)` (and the
pipeline's `--label2image_checkpoint_dir=MODEL_DIR`) loads it directly.
"""

import dataclasses
import json
import math
import os

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf import command_flags, labels, visualization
from seg2vid_tf.conversion.checkpoints import LABEL2IMAGE_CONFIG_FILENAME
from seg2vid_tf.conversion.vgg import load_vgg19
from seg2vid_tf.data import cityscapes
from seg2vid_tf.config_data import check_ints
from seg2vid_tf.layers.normalization import NORM_TYPES
from seg2vid_tf.models import pix2pixhd, vgg19
from seg2vid_tf.models.seg2vid import painter_input
from seg2vid_tf.training import base, loop
from seg2vid_tf.training.adam import FusedAdam
from seg2vid_tf.training.base import make_strategy  # noqa: F401  (public here too)

NUM_LABELS = labels.NUM_LABELS  # train ids 0..18 and void 19
LOSS_KEYS = ("g_gan", "g_feat", "g_vgg", "g_l1", "d_real", "d_fake")
# pix2pixHD's VGGLoss: relu1_1 .. relu5_1 weighted 1/32 .. 1.
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


# The networks' own defaults (pix2pixHD's), under the flag names below.
_GENERATOR = pix2pixhd.Pix2PixHDConfig
_DISCRIMINATOR = pix2pixhd.DiscriminatorConfig


@dataclasses.dataclass(frozen=True)
class Label2ImageConfig(base.ImageTrainingConfig):
    """Everything stage-1 training needs besides the work directory.

    Field names are the flag names (see `define_flags`); the defaults are
    pix2pixHD's except the image size (the paper's 128x256 video size). Data,
    size and schedule fields come from `base.ImageTrainingConfig`.
    """

    beta_1: float = 0.5
    beta_2: float = 0.999
    decay_fraction: float = 0.5
    # Generator (pix2pixHD --netG global / local).
    ngf: int = _GENERATOR.ngf
    n_downsample_global: int = _GENERATOR.n_downsampling
    n_blocks_global: int = _GENERATOR.n_blocks
    n_local_enhancers: int = _GENERATOR.n_local_enhancers
    n_blocks_local: int = _GENERATOR.n_blocks_local
    norm: str = _GENERATOR.norm
    label_edges: bool = False
    # Discriminator.
    ndf: int = _DISCRIMINATOR.ndf
    n_layers_d: int = _DISCRIMINATOR.n_layers
    num_d: int = _DISCRIMINATOR.num_d
    # Loss weights.
    weight_gan: float = 1.0
    weight_feat: float = 10.0
    weight_vgg: float = 10.0
    vgg19_weights: str = ""
    # Not in pix2pixHD (0 = off): an L1 pixel term, see docs/training.md.
    weight_l1: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        check_ints(self, ("ngf", "ndf", "n_layers_d", "num_d"), 1)
        check_ints(self, ("n_downsample_global", "n_blocks_global", "n_local_enhancers",
                          "n_blocks_local"), 0)
        if self.norm not in NORM_TYPES:
            raise ValueError(f"--norm must be one of {NORM_TYPES}, got {self.norm!r}.")
        for name in ("beta_1", "beta_2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"--{name} must be in [0, 1), got {getattr(self, name)}.")
        if not 0.0 <= self.decay_fraction <= 1.0:
            raise ValueError(f"--decay_fraction must be in [0, 1], got {self.decay_fraction}.")
        for name in ("weight_gan", "weight_feat", "weight_vgg", "weight_l1"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"--{name} must be a finite number >= 0, got {value}.")
        if self.weight_vgg > 0 and not self.vgg19_weights:
            raise ValueError(
                "The VGG perceptual loss (--weight_vgg > 0) needs VGG19 weights: set "
                "--vgg19_weights to a local file (torchvision vgg19 .pth/.npz or Keras VGG19 "
                ".h5), or --weight_vgg=0 to turn it off. Nothing is downloaded at run time.")
        generator = self.generator_config
        for name in ("height", "width"):
            value = getattr(self, name)
            if value % generator.size_multiple or value < generator.minimum_size:
                raise ValueError(
                    f"--{name}={value} does not fit the generator: it must be a multiple of "
                    f"{generator.size_multiple} (2**(--n_downsample_global + "
                    f"--n_local_enhancers)) and at least {generator.minimum_size}.")

    @property
    def generator_config(self):
        """The `Pix2PixHDConfig` of the generator."""
        return pix2pixhd.Pix2PixHDConfig(
            input_channels=NUM_LABELS + int(self.label_edges), output_channels=3, ngf=self.ngf,
            n_downsampling=self.n_downsample_global, n_blocks=self.n_blocks_global,
            n_local_enhancers=self.n_local_enhancers, n_blocks_local=self.n_blocks_local,
            norm=self.norm)

    @property
    def discriminator_config(self):
        """The `DiscriminatorConfig` (input: generator input + RGB image)."""
        return pix2pixhd.DiscriminatorConfig(
            input_channels=self.generator_config.input_channels + 3, ndf=self.ndf,
            n_layers=self.n_layers_d, num_d=self.num_d, norm=self.norm)


# --------------------------------------------------------------------------- flags
_FLAG_HELP = {
    "data_dir": "Dataset root (Cityscapes sequence layout); every labelled frame of the train "
                "split is a training pair.",
    "model_dir": "Checkpoints, TensorBoard summaries and label2image_config.json.",
    "height": "Image height.",
    "width": "Image width.",
    "batch_size": "Global batch size over all replicas (pix2pixHD: 1).",
    "train_steps": "Total training steps.",
    "learning_rate": "Adam learning rate of both networks (pix2pixHD: 2e-4).",
    "beta_1": "Adam beta_1 (pix2pixHD: 0.5).",
    "beta_2": "Adam beta_2 (pix2pixHD: 0.999).",
    "decay_fraction": "Fraction of the steps at the end over which the learning rate decays "
                      "linearly to 0 (pix2pixHD: 0.5).",
    "seed": "Random seed (initialization, shuffling, flips).",
    "flip": "Random horizontal flips (pix2pixHD's default; --noflip turns them off).",
    "ngf": "Generator filters of the finest convolution (pix2pixHD --ngf).",
    "n_downsample_global": "Stride-2 convolutions of the global generator.",
    "n_blocks_global": "Residual blocks of the global generator.",
    "n_local_enhancers": "Local enhancers (0: --netG global, 1: --netG local).",
    "n_blocks_local": "Residual blocks of each local enhancer.",
    "norm": "Normalization of both networks: instance or batch.",
    "label_edges": "Append the label map's boundary map as an input channel (stands in for "
                   "pix2pixHD's instance edges).",
    "ndf": "Discriminator filters of the first convolution.",
    "n_layers_d": "Stride-2 convolutions of each PatchGAN plus one (pix2pixHD --n_layers_D).",
    "num_d": "Discriminator scales (pix2pixHD --num_D).",
    "weight_gan": "Weight of the generator's least-squares GAN loss.",
    "weight_feat": "Weight of discriminator feature matching (pix2pixHD lambda_feat).",
    "weight_vgg": "Weight of the VGG19 perceptual loss (pix2pixHD: lambda_feat = 10); 0 = off.",
    "vgg19_weights": "Local VGG19 weights (torchvision .pth/.npz or Keras .h5) for the "
                     "perceptual loss.",
    "weight_l1": "Weight of an L1 loss between generated and real image (not in pix2pixHD: "
                 "0 = off, its default). It stands in for the perceptual loss where no VGG19 "
                 "weights are at hand; see docs/training.md.",
    "num_samples": "Images in each sample grid.",
    **base.BOOKKEEPING_HELP,
}


def define_flags(flag_values=None):
    """Defines the stage-1 flags in `flag_values` (absl's global FLAGS by default).

    Idempotent per flag: a flag already defined (by an earlier call, or by
    `seg2vid_tf.training.config.define_flags` for the names the two commands
    share, such as `--data_dir` or `--learning_rate`) is kept as it is, so
    both sets can live in one process. The configs set every value, so the
    defaults of the first definition do not matter there.

    Args:
        flag_values: An `absl.flags.FlagValues`.
    """
    command_flags.define_flag("string", "model_dir", None, _FLAG_HELP["model_dir"],
                              flag_values=flag_values)
    command_flags.define_config_flags(Label2ImageConfig, _FLAG_HELP, flag_values)


def config_from_flags(flag_values=None):
    """A `Label2ImageConfig` from parsed flags (FlagError, a ValueError, naming a bad flag)."""
    return command_flags.config_from_flags(Label2ImageConfig, flag_values)


# --------------------------------------------------------------------------- data
def image_dataset(config, split="train", repeat=True, shuffle=True, flip=None, batch_size=None):
    """(label map, image) pairs: every labelled frame of `split`.

    Elements: `label_map` int32 `[B, H, W]` train ids 0..19, `image` float32
    `[B, H, W, 3]` in [-1, 1]. Flips are keyed by (seed, batch index), so a
    resumed run sees the same ones.
    """
    clips = cityscapes.find_clips(config.data_dir, split, num_frames=1)
    dataset = cityscapes.make_dataset(
        clips, height=config.height, width=config.width,
        batch_size=batch_size or config.batch_size, shuffle=shuffle, seed=config.seed,
        repeat=repeat, drop_remainder=repeat, with_flow=False)
    flip = config.flip if flip is None else flip

    def to_pair(index, batch):
        image = batch["video"][:, 0] * 2.0 - 1.0
        label_map = batch["label_map"]
        if flip:
            key = tf.stack([tf.cast(config.seed, tf.int64), index])
            flipped = tf.random.stateless_uniform(tf.shape(label_map)[:1], seed=key) < 0.5
            image = tf.where(flipped[:, None, None, None], tf.reverse(image, [2]), image)
            label_map = tf.where(flipped[:, None, None], tf.reverse(label_map, [2]), label_map)
        return {"label_map": label_map, "image": image}

    return dataset.enumerate().map(to_pair)


# --------------------------------------------------------------------------- losses
def least_squares_gan_loss(predictions, target_is_real):
    """pix2pixHD's `GANLoss` with LSGAN: sum over scales of `mean((D_last - target)^2)`.

    Args:
        predictions: The discriminator's output, a list over scales of lists
            of feature maps; only each scale's last map is used.
        target_is_real: Target 1 (True) or 0 (False).
    """
    target = 1.0 if target_is_real else 0.0
    return tf.add_n([tf.reduce_mean(tf.square(scale[-1] - target)) for scale in predictions])


def feature_matching_loss(fake_predictions, real_predictions, n_layers):
    """pix2pixHD's GAN feature loss (without lambda_feat).

    Sum over scales and all groups but the last of
    `(1 / num_D) * (4 / (n_layers + 1)) * mean|fake - real|`, the real
    features detached.
    """
    num_d = len(fake_predictions)
    weight = (1.0 / num_d) * (4.0 / (n_layers + 1))
    terms = []
    for fake_scale, real_scale in zip(fake_predictions, real_predictions):
        for fake, real in zip(fake_scale[:-1], real_scale[:-1]):
            terms.append(weight * tf.reduce_mean(tf.abs(fake - tf.stop_gradient(real))))
    return tf.add_n(terms)


def vgg_loss(perceptual, fake, real):
    """pix2pixHD's `VGGLoss` on images in [-1, 1] (mapped to [0, 1] for the network)."""
    fake_features = perceptual((fake + 1.0) * 0.5)
    real_features = perceptual((real + 1.0) * 0.5)
    return tf.add_n([
        weight * tf.reduce_mean(tf.abs(f - tf.stop_gradient(r)))
        for weight, f, r in zip(VGG_LAYER_WEIGHTS, fake_features, real_features)])


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear decay to 0 over the last `decay_fraction` of the steps."""

    def __init__(self, learning_rate, train_steps, decay_fraction):
        self.learning_rate = float(learning_rate)
        self.train_steps = int(train_steps)
        self.decay_steps = int(round(train_steps * decay_fraction))

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        if self.decay_steps <= 0:
            return tf.fill([], self.learning_rate)
        remaining = (self.train_steps - step) / float(self.decay_steps)
        return self.learning_rate * tf.clip_by_value(remaining, 0.0, 1.0)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "train_steps": self.train_steps,
                "decay_fraction": self.decay_steps / max(self.train_steps, 1)}


# --------------------------------------------------------------------------- trainer
class Label2ImageTrainer(base.TrainerBase):
    """The two networks, their optimizers and their step (the rest is `base.TrainerBase`).

    Args:
        config: A `Label2ImageConfig`.
        workdir: Model directory (checkpoints, summaries, config JSON).
        strategy: A `tf.distribute.Strategy`; `make_strategy()` when None.
    """

    def __init__(self, config, workdir, strategy=None):
        super().__init__(config, workdir, strategy)
        self.schedule = LinearDecay(config.learning_rate, config.train_steps,
                                    config.decay_fraction)
        with self.strategy.scope():
            self.generator = pix2pixhd.build_generator(config.generator_config)
            self.generator.build_for_size(config.height, config.width)
            self.discriminator = pix2pixhd.MultiscaleDiscriminator(
                config.discriminator_config, name="discriminator")
            self.discriminator.build_for_size(config.height, config.width)
            self.generator_optimizer = FusedAdam(
                learning_rate=self.schedule, beta_1=config.beta_1, beta_2=config.beta_2)
            self.discriminator_optimizer = FusedAdam(
                learning_rate=self.schedule, beta_1=config.beta_1, beta_2=config.beta_2)
            self.generator_optimizer.build(self.generator.trainable_variables)
            self.discriminator_optimizer.build(self.discriminator.trainable_variables)
            self.perceptual = None
            if config.weight_vgg > 0:
                self.perceptual = load_vgg19(
                    config.vgg19_weights, output_layers=vgg19.PIX2PIXHD_PERCEPTUAL_LAYERS,
                    pooling="max")
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.dataset = self.strategy.experimental_distribute_dataset(image_dataset(config))
        self.iterator = iter(self.dataset)
        # The generator is `model`, so `convert.load_label2image(workdir)` restores it.
        self.track(dict(model=self.generator, discriminator=self.discriminator,
                        generator_optimizer=self.generator_optimizer,
                        discriminator_optimizer=self.discriminator_optimizer, step=self.step),
                   self.iterator, LABEL2IMAGE_CONFIG_FILENAME,
                   config.generator_config.to_dict())

    # ------------------------------------------------------------------ steps
    def generator_inputs(self, label_map):
        """The generator's input for train-id label maps (one-hot [+ edges])."""
        return painter_input(label_map, self.config.generator_config.input_channels)

    def replica_losses(self, batch, training=True):
        """Loss terms of one replica's batch, each scaled by local / global batch.

        Returns:
            `(generator_objective, discriminator_objective, terms, fake_image)`.
        """
        config = self.config
        scale = tf.cast(tf.shape(batch["image"])[0], tf.float32) / float(config.batch_size)
        inputs = self.generator_inputs(batch["label_map"])
        real = tf.cast(batch["image"], tf.float32)
        fake = self.generator(inputs, training=training)
        discriminator = self.discriminator
        pred_fake_detached = discriminator(
            tf.concat([inputs, tf.stop_gradient(fake)], axis=-1), training=training)
        pred_real = discriminator(tf.concat([inputs, real], axis=-1), training=training)
        pred_fake = discriminator(tf.concat([inputs, fake], axis=-1), training=training)
        terms = {
            "d_fake": least_squares_gan_loss(pred_fake_detached, False),
            "d_real": least_squares_gan_loss(pred_real, True),
            "g_gan": least_squares_gan_loss(pred_fake, True),
            "g_feat": feature_matching_loss(pred_fake, pred_real, config.n_layers_d),
        }
        if self.perceptual is not None:
            terms["g_vgg"] = vgg_loss(self.perceptual, fake, real)
        else:
            terms["g_vgg"] = tf.zeros([])
        terms["g_l1"] = tf.reduce_mean(tf.abs(fake - real))
        terms = {key: value * scale for key, value in terms.items()}
        generator_objective = (config.weight_gan * terms["g_gan"]
                               + config.weight_feat * terms["g_feat"]
                               + config.weight_vgg * terms["g_vgg"]
                               + config.weight_l1 * terms["g_l1"])
        discriminator_objective = 0.5 * (terms["d_fake"] + terms["d_real"])
        terms["g_total"] = generator_objective
        terms["d_total"] = discriminator_objective
        return generator_objective, discriminator_objective, terms, fake

    def replica_gradients(self, batch):
        """One replica's generator and discriminator gradients and its loss terms."""
        with tf.GradientTape(persistent=True) as tape:
            g_objective, d_objective, terms, _ = self.replica_losses(batch)
        g_grads = tape.gradient(g_objective, self.generator.trainable_variables)
        d_grads = tape.gradient(d_objective, self.discriminator.trainable_variables)
        del tape
        return g_grads, d_grads, terms

    def optimizers_and_variables(self):
        return [(self.generator_optimizer, self.generator.trainable_variables),
                (self.discriminator_optimizer, self.discriminator.trainable_variables)]

    # ------------------------------------------------------------------ loop
    def fit(self, progress=True):
        """Trains until `train_steps`; returns the last loss terms (see `loop.fit`)."""
        return self.run_loop(
            desc="train label2image",
            postfix=lambda terms: {"g": f"{terms['g_total']:.3f}", "d": f"{terms['d_total']:.3f}"},
            scalars=lambda step, rate: {"learning_rate": float(self.schedule(step - 1)),
                                        "images_per_second": rate},
            progress=progress)

    def sample_batch(self):
        """A fixed batch for pictures: the val split when there is one, else train."""
        for split in ("val", "train"):
            try:
                dataset = image_dataset(self.config, split, repeat=False, shuffle=False,
                                        flip=False, batch_size=self.config.num_samples)
            except (FileNotFoundError, ValueError):
                continue
            return next(iter(dataset))
        raise ValueError(f"No labelled frames in {self.config.data_dir!r} (set --data_dir).")

    def write_samples(self, writer, step):
        """Grid rows label colours | generated | real, to TensorBoard and `samples/`."""
        batch = self.sample_batch()
        fake = self.generator(self.generator_inputs(batch["label_map"]), training=False)
        grid = sample_grid(batch["label_map"].numpy(), fake.numpy(), batch["image"].numpy())
        return loop.write_sample_grid(writer, self.write_dir, step, grid)


def sample_grid(label_maps, fakes, reals):
    """uint8 picture: one row per sample, label colours | generated | real.

    Args:
        label_maps: `[B, H, W]` train ids.
        fakes, reals: `[B, H, W, 3]` images in [-1, 1].
    """
    rows = []
    for label_map, fake, real in zip(label_maps, fakes, reals):
        rows.append(np.concatenate([
            labels.colorize(label_map),
            visualization.to_uint8((fake + 1.0) * 0.5),
            visualization.to_uint8((real + 1.0) * 0.5)], axis=1))
    return np.concatenate(rows, axis=0)


def train(config, workdir, strategy=None, progress=True):
    """Trains stage 1 in `workdir` (resuming from its latest checkpoint).

    Returns:
        dict of the last step's loss terms.
    """
    trainer = Label2ImageTrainer(config, workdir, strategy=strategy)
    trainer.restore()
    terms = trainer.fit(progress=progress)
    if not trainer.is_chief:
        return terms
    with open(os.path.join(workdir, "train_label2image.json"), "w", encoding="utf-8") as handle:
        json.dump({"step": int(trainer.step.numpy()), "losses": terms}, handle, indent=2,
                  sort_keys=True)
    return terms


def weights_numpy(network):
    """All trainable weights of a network as NumPy arrays (for comparisons)."""
    return [np.asarray(variable.numpy()) for variable in network.trainable_variables]
