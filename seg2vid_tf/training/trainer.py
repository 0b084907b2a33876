"""The img2vid trainer: `train_and_evaluate(config, workdir)`.

The skeleton (strategy, who writes, checkpoints, the loop) is
`seg2vid_tf.training.base.TrainerBase`; this module adds the model, its
losses, its step and the evaluation after training.

* Strategy: `MultiWorkerMirroredStrategy` when `TF_CONFIG` names several
  workers (chief included), else `MirroredStrategy` over the local GPUs (or the
  CPU). With several workers every worker runs the same command with the same
  `workdir`; the chief (`chief`, else `worker` 0) writes checkpoints, summaries
  and samples there, the others write theirs to `workdir/workertemp_<id>`
  (TensorFlow's multi-worker convention), removed when training ends. Every
  worker restores from the chief's checkpoints. The input is sharded by data:
  every worker reads the same seeded stream and keeps its replicas' share of
  each global batch.
* Data: `registry.make_dataset` for `--dataset` (synthetic, cityscapes, kth,
  ucf101); the evaluation after training reads the same dataset's "val" split.
* The loss is scaled by the global batch: each replica's objective is its share
  of the global loss (mean-type terms times local/global batch, the summed KL as
  is), and Keras 3 optimizers all-reduce (sum) the gradients inside
  `strategy.run`, so the update equals the one-device update on the global batch.
* The VAE's reparameterization noise and the refine fill noise come from the
  input pipeline (stateless, keyed by seed and batch index), so they split with
  the batch across replicas and a resumed run sees the same noise.
* A step whose loss is not finite is skipped (no update); after
  `max_nonfinite_steps` in a row training stops with a clear error.
* `tf.train.CheckpointManager` keeps model, optimizer, step and the data
  iterator; a run resumes where it stopped, and SIGTERM/SIGINT save first.
  Checkpoints are written atomically, and a damaged latest checkpoint is
  skipped for the previous one (`checkpoints`).
"""

import json
import os

import numpy as np
import tensorflow as tf

import keras

from seg2vid_tf import losses, visualization
from seg2vid_tf.conversion.checkpoints import CONFIG_FILENAME
from seg2vid_tf.conversion.vgg import load_vgg19
from seg2vid_tf.data import registry
from seg2vid_tf.layers.batch_norm import set_synchronized
from seg2vid_tf.models import config as model_config
from seg2vid_tf.models import precision
from seg2vid_tf.models.img2vid import Img2Vid
from seg2vid_tf.training import base, summaries
from seg2vid_tf.training.adam import FusedAdam
from seg2vid_tf.training.base import is_chief, make_strategy  # noqa: F401  (public here too)
from seg2vid_tf.training.loop import NonFiniteLossError  # noqa: F401  (public here too)

# Terms averaged over the batch (scaled by local/global batch); the others are sums.
_SUMMED_TERMS = {"kld"}


def add_noise(batch, model_cfg, seed):
    """Adds `noise` (refine fill) and `eps` (posterior sample) keyed by (seed, batch index)."""
    index, batch = batch
    size = tf.shape(batch["video"])[0]
    key = tf.stack([tf.cast(seed, tf.int64), index])
    batch = dict(batch)
    batch["noise"] = tf.random.stateless_normal(
        tf.stack([size, model_cfg.height, model_cfg.width, model_cfg.channels]), seed=key)
    batch["eps"] = tf.random.stateless_normal(
        tf.stack([size, model_cfg.latent_rows, model_config.LATENT_ROW]), seed=key + 1)
    return batch


def learning_rate(config):
    """Adam's learning rate: a float, or a schedule of the optimizer's step count.

    The schedule reads the optimizer's `iterations`, which checkpoints keep, so a
    resumed run continues on the same curve.
    """
    if config.learning_rate_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, config.train_steps)
    return config.learning_rate


def train_dataset(config, split="train", repeat=True, shuffle=True):
    """Batched clips (global batch) of `config.dataset` with their per-batch noise.

    Args:
        config: A `TrainConfig`; the dataset comes from `registry.make_dataset`.
        split: "train" or "val".
        repeat: Repeat forever (and drop a final partial batch).
        shuffle: Shuffle, seeded by `config.seed`.

    Returns:
        A `tf.data.Dataset` of dicts with `video`, `clip_id`, `noise`, `eps`
        and, for label-conditioned models, `label_map`.
    """
    dataset = registry.make_dataset(config, split, shuffle=shuffle, repeat=repeat,
                                    drop_remainder=repeat)
    dataset = dataset.enumerate().map(lambda i, b: add_noise((i, b), config.model, config.seed))
    options = tf.data.Options()
    # The clips are file names in memory, not files to shard: every worker reads the same
    # stream and keeps its share of each global batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def model_inputs(batch):
    inputs = {"video": batch["video"], "noise": batch["noise"]}
    if "label_map" in batch:
        inputs["label_map"] = batch["label_map"]
    return inputs


class Trainer(base.TrainerBase):
    """The img2vid model, its optimizer and its step (the rest is `base.TrainerBase`).

    `restore` (every worker) reads the chief's checkpoints in `workdir`; `save`
    (every worker must call it) writes to `write_dir`.
    """

    def __init__(self, config, workdir, strategy=None):
        super().__init__(config, workdir, strategy)
        with self.strategy.scope(), precision.policy_scope(config.precision):
            self.model = Img2Vid(config.model, seed=config.seed)
            self.model.build_for_size()
            if config.sync_batch_norm:
                set_synchronized(self.model)
            self.optimizer = FusedAdam(
                learning_rate=learning_rate(config), beta_1=config.beta_1, beta_2=config.beta_2)
            self.optimizer.build(self.model.trainable_variables)
            self.perceptual = None
            if config.weights.get("vgg", 0.0) > 0:
                self.perceptual = load_vgg19(config.vgg19_weights)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.dataset = self.strategy.experimental_distribute_dataset(train_dataset(config))
        self.iterator = iter(self.dataset)
        self.track(dict(model=self.model, optimizer=self.optimizer, step=self.step),
                   self.iterator, CONFIG_FILENAME, config.model.to_dict())

    # ------------------------------------------------------------------ steps
    def _replica_objective(self, batch):
        global_batch = float(self.config.batch_size)
        local_batch = tf.cast(tf.shape(batch["video"])[0], tf.float32)
        model = self.model
        mu, logvar = model.encode_motion(batch["video"], batch.get("label_map"), training=True)
        # The reparameterized posterior sample (its noise ramped in over a warm-up, if any).
        noise_scale = self.ramp(self.config.posterior_noise_warmup_steps)
        z = mu + noise_scale * tf.exp(0.5 * logvar) * batch["eps"]
        inputs = model_inputs(batch)
        inputs["video"] = batch["video"][:, :1]
        inputs["z"] = z
        outputs = dict(model(inputs, training=True), mu=mu, logvar=logvar)
        terms = losses.img2vid_losses(batch["video"], outputs, self.perceptual, self.config.weights,
                                      self.config.recon_coarse_factors)
        scaled = {key: value * (1.0 if key in _SUMMED_TERMS else local_batch / global_batch)
                  for key, value in terms.items() if key != "total"}
        weights = dict(self.config.weights,
                       kld=self.config.weights["kld"] * self.ramp(self.config.kld_warmup_steps))
        objective = losses.weighted_total(scaled, weights)
        return objective, scaled, outputs

    def ramp(self, warmup):
        """A warm-up factor at this step: 0 for `latent_warmup_delay_steps`, then linear to 1
        over `warmup` steps (a step function at the delay when `warmup` is 0)."""
        since = tf.cast(self.step, tf.float32) - float(self.config.latent_warmup_delay_steps)
        if warmup <= 0:
            return tf.where(since >= 0.0, 1.0, 0.0)
        return tf.clip_by_value(since / float(warmup), 0.0, 1.0)

    def replica_gradients(self, batch):
        """One replica's gradients of the objective and its scaled terms (`total` too)."""
        with tf.GradientTape() as tape:
            objective, scaled, _ = self._replica_objective(batch)
        grads = tape.gradient(objective, self.model.trainable_variables)
        return grads, dict(scaled, total=objective)

    def optimizers_and_variables(self):
        return [(self.optimizer, self.model.trainable_variables)]

    # ------------------------------------------------------------------ loop
    def fit(self, progress=True):
        """Trains until `train_steps`; returns the last loss terms (see `loop.fit`)."""
        return self.run_loop(
            desc="train", postfix=lambda terms: {"loss": f"{terms['total']:.4f}"},
            scalars=lambda step, rate: {"learning_rate": self.current_learning_rate(),
                                        "clips_per_second": rate},
            progress=progress)

    def current_learning_rate(self):
        """The learning rate of the next step (a float)."""
        return float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))

    def write_samples(self, writer, step):
        """Start frame, predictions, ground truth, flow and masks to TensorBoard."""
        batch = next(iter(train_dataset(self.config, repeat=False, shuffle=False).take(1)))
        inputs = model_inputs(batch)
        mu, _ = self.model.encode_motion(batch["video"], batch.get("label_map"), training=False)
        outputs = self.model(dict(inputs, video=batch["video"][:, :1], z=mu), training=False)
        grid = summaries.sample_grid(batch["video"].numpy(), outputs)
        with writer.as_default(step=step):
            tf.summary.image("samples", grid[None], max_outputs=1)
        visualization.write_gif(os.path.join(self.write_dir, "samples", f"step_{step:06d}.gif"),
                            summaries.sample_frames(batch["video"].numpy(), outputs))


def train_and_evaluate(config, workdir, strategy=None, progress=True, num_samples=0,
                       keep_clips=0):
    """Trains `config` in `workdir` (resuming if a checkpoint is there), then evaluates.

    With several workers only the chief evaluates and writes `metrics.json`.

    Args:
        config: A `TrainConfig`.
        workdir: Checkpoints, summaries and `metrics.json`.
        strategy: A distribution strategy (default: `make_strategy()`).
        progress: Show the progress bar.
        num_samples: Prior samples per held-out clip for the generation mode of the
            evaluation (0: reconstruction only; see `model_evaluation.evaluate_model`).
        keep_clips: Also return this many held-out clips with their predictions
            (for `evaluation.reports.write_report`).

    Returns:
        dict with the final training loss terms (`train`), the evaluation metrics
        (`eval`, empty on the other workers) and the kept clips (`clips`).
    """
    trainer = Trainer(config, workdir, strategy=strategy)
    trainer.restore()
    terms = trainer.fit(progress=progress)
    if not trainer.is_chief:
        return {"train": terms, "eval": {}, "clips": []}
    from seg2vid_tf.evaluation import model_evaluation  # pylint: disable=import-outside-toplevel

    metrics = model_evaluation.evaluate_model(
        trainer.model, config, split="val", max_batches=config.eval_batches,
        num_samples=num_samples, seed=config.seed, keep_clips=keep_clips)
    clips = metrics.pop("_clips", [])
    with open(os.path.join(workdir, "metrics.json"), "w", encoding="utf-8") as handle:
        json.dump({"train": terms, "eval": metrics}, handle, indent=2, sort_keys=True)
    return {"train": terms, "eval": metrics, "clips": clips}


def trainable_weights_numpy(model):
    """All trainable weights as NumPy arrays (for comparisons in tests)."""
    return [np.asarray(v.numpy()) for v in model.trainable_variables]
