"""The trainer skeleton both stages share (img2vid and label2image).

A trainer built on `TrainerBase` gets, without writing them again:

* the distribution strategy (`make_strategy`: `MultiWorkerMirroredStrategy`
  when `TF_CONFIG` names several workers, `MirroredStrategy` over local GPUs,
  else the default strategy);
* who writes: the chief (`chief`, else `worker` 0) writes checkpoints,
  summaries and samples into the work directory; every other worker writes
  into `workdir/workertemp_<id>` (saving is a collective step, so they must
  write somewhere), removed when training ends: TensorFlow's multi-worker
  convention. Every worker resumes from the chief's checkpoints;
* atomic, verified checkpoints and resuming (`loop.CheckpointedRun`,
  `checkpoints.AtomicCheckpoint`), the model's config JSON beside them;
* the step with its non-finite guard (`train_step`) and the shared loop
  (`loop.fit`: progress bar, signals, summaries, periodic saving).

A model's trainer specialises only its networks, its losses and its step:
it builds its state inside `self.strategy.scope()`, calls `track(...)`, and
defines `replica_gradients(batch) -> (*gradient lists, terms)` (one replica's
share of the batch, each term scaled by local / global batch) and
`optimizers_and_variables()` (which optimizer applies each gradient list),
plus `write_samples(writer, step)` for pictures. The base runs the first on
every replica and sums the terms, and applies the gradients on every replica
(Keras 3 optimizers all-reduce them there themselves).
"""

import dataclasses
import json
import math
import os
import shutil

import keras
import tensorflow as tf

from seg2vid_tf.config_data import ConfigData, check_ints
from seg2vid_tf.conversion.checkpoints import write_config
from seg2vid_tf.training import checkpoints, loop

# Help of the bookkeeping flags (`BookkeepingConfig`'s fields), shared by every trainer.
BOOKKEEPING_HELP = {
    "checkpoint_every": "Steps between checkpoints.",
    "summary_every": "Steps between scalar summaries.",
    "image_summary_every": "Steps between sample pictures (TensorBoard and model_dir/samples).",
    "keep_checkpoints": "Checkpoints kept.",
    "max_nonfinite_steps": "Stop after this many non-finite losses in a row.",
}
BOOKKEEPING_FIELDS = tuple(BOOKKEEPING_HELP)


@dataclasses.dataclass(frozen=True)
class BookkeepingConfig(ConfigData):
    """The settings every trainer's config starts with: when it saves and when it stops.

    Each trainer's config derives from this one (its fields are flags of the
    same names); a subclass that checks more fields calls
    `super().__post_init__()`.
    """

    checkpoint_every: int = 200
    summary_every: int = 20
    image_summary_every: int = 200
    keep_checkpoints: int = 3
    max_nonfinite_steps: int = 3

    def __post_init__(self):
        check_ints(self, BOOKKEEPING_FIELDS, 1)


@dataclasses.dataclass(frozen=True)
class ImageTrainingConfig(BookkeepingConfig):
    """The settings of a trainer on single labelled frames: data, frame size, schedule.

    Stage 1 (`label2image.Label2ImageConfig`) and the FCN-score segmenter
    (`segmenter.SegmenterTrainConfig`) derive from it. The defaults are
    pix2pixHD's with the paper's 128x256 frames; a subclass overrides the
    ones it sets differently.
    """

    data_dir: str = ""
    height: int = 128
    width: int = 256
    batch_size: int = 1
    train_steps: int = 1000
    learning_rate: float = 2e-4
    seed: int = 0
    flip: bool = True
    num_samples: int = 4  # frames in each sample grid

    def __post_init__(self):
        super().__post_init__()
        check_ints(self, ("height", "width", "batch_size", "train_steps", "num_samples"), 1)
        check_ints(self, ("seed",), 0)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"--learning_rate must be > 0, got {self.learning_rate}.")


def make_strategy():
    """The strategy for this process, from `TF_CONFIG` and the visible devices.

    Create it before any other TensorFlow op: `MultiWorkerMirroredStrategy`
    has to configure the runtime first.

    Raises:
        ValueError: `TF_CONFIG` is set but is not a JSON object.
    """
    try:
        tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(
            f"The TF_CONFIG environment variable is not valid JSON: {error}") from error
    if not isinstance(tf_config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object, got {tf_config!r}.")
    cluster = tf_config.get("cluster", {})
    if len(cluster.get("chief", [])) + len(cluster.get("worker", [])) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if tf.config.list_logical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy):
    """Whether this process writes the checkpoints and summaries of `strategy`."""
    return bool(strategy.extended.should_checkpoint)


class TrainerBase(loop.CheckpointedRun):
    """Strategy, who writes, checkpoints, the guarded step and the loop.

    Args:
        config: The model's training config (`seed`, `keep_checkpoints` and the
            fields `loop.fit` reads).
        workdir: The run's directory (the chief's checkpoints and summaries).
        strategy: A `tf.distribute.Strategy`; `make_strategy()` when None.
    """

    def __init__(self, config, workdir, strategy=None):
        self.config = config
        self.workdir = workdir
        self.strategy = strategy or make_strategy()
        self.is_chief = is_chief(self.strategy)
        task_id = getattr(self.strategy.cluster_resolver, "task_id", None)
        self.write_dir = (workdir if self.is_chief
                          else os.path.join(workdir, f"workertemp_{task_id}"))
        keras.utils.set_random_seed(config.seed)

    def track(self, state, iterator, config_filename, model_config):
        """Checkpoints `state` in `write_dir` and writes the model's config JSON beside it.

        Args:
            state: dict name -> trackable (networks, optimizers, the step).
            iterator: The distributed data iterator; checkpointed with one replica
                only (distributed iterators are not checkpointable in TF 2.21: with
                several replicas a resumed run restarts the seeded data order).
            config_filename: Name of the config JSON the model's loader reads.
            model_config: Its contents (a dict).
        """
        state = dict(state)
        if self.strategy.num_replicas_in_sync == 1:
            state["iterator"] = iterator
        self.checkpoint = checkpoints.AtomicCheckpoint(**state)
        self.manager = checkpoints.make_manager(self.checkpoint, self.write_dir,
                                                self.config.keep_checkpoints)
        write_config(model_config, self.write_dir, config_filename)
        self._compute = tf.function(self._compute_step, autograph=False)
        self._apply = tf.function(self._apply_step, autograph=False)

    def replica_gradients(self, batch):
        """One replica's `(*gradient lists, terms)` for its part of `batch` (the trainer's)."""
        raise NotImplementedError

    def optimizers_and_variables(self):
        """`[(optimizer, variables)]`, one per gradient list of `replica_gradients`."""
        raise NotImplementedError

    def _compute_step(self, iterator):
        """`replica_gradients` on every replica; the terms summed over the replicas."""
        batch = next(iterator)
        *gradients, terms = self.strategy.run(self.replica_gradients, args=(batch,))
        terms = {key: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                 for key, value in terms.items()}
        return (*gradients, terms)

    def _apply_step(self, *gradients):
        """Each optimizer applies its gradients on every replica; the step advances."""
        updates = self.optimizers_and_variables()

        def replica_fn(*gradients):
            for (optimizer, variables), grads in zip(updates, gradients):
                # The gradients arrive as inputs of this function, without a device; the
                # optimizer's all-reduce sends each result to its input's device, so give
                # them the replica's (MultiWorkerMirroredStrategy fails with "destinations
                # can not be empty" otherwise).
                grads = [None if grad is None else tf.identity(grad) for grad in grads]
                optimizer.apply(grads, variables)

        self.strategy.run(replica_fn, args=gradients)
        self.step.assign_add(1)

    def train_step(self):
        """One step; returns the loss terms (floats) and whether it was applied.

        A step whose loss terms are not all finite is not applied.
        """
        *gradients, terms = self._compute(self.iterator)
        terms = {key: float(value) for key, value in terms.items()}
        finite = all(math.isfinite(value) for value in terms.values())
        if finite:
            self._apply(*gradients)
        return terms, finite

    def remove_worker_files(self):
        """Deletes a non-chief worker's temporary folder (nothing on the chief)."""
        if not self.is_chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)

    def run_loop(self, *, desc, postfix, scalars, progress=True):
        """`loop.fit` with this trainer's summaries and samples (chief only); returns the terms."""
        terms = loop.fit(self, summary_dir=os.path.join(self.write_dir, "train"), desc=desc,
                         postfix=postfix, scalars=scalars, write_samples=self.is_chief,
                         progress=progress)
        self.remove_worker_files()
        return terms
