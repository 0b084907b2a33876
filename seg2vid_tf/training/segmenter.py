"""Training of the FCN-score segmenter on real frames and their label maps.

    python -m seg2vid_tf.train_segmenter --flagfile=configs/segmenter_synthetic.cfg \
        --data_dir=DIR --model_dir=DIR

Every labelled frame of the train split is an example (the synthetic data
labels every frame; Cityscapes one per sequence). Loss: softmax cross-entropy
over the 19 train ids, void pixels left out; Adam with a cosine decay to 0;
random horizontal flips. The trainer is the skeleton the other trainers share
(`seg2vid_tf.training.base.TrainerBase`): the distribution strategy with
chief-only writing, progress bar, checkpoints, resuming, signals, TensorBoard
scalars and sample grids (label colours | frame | prediction).

`model_dir` holds `segmenter_config.json` and the checkpoints, so
`load_segmenter(model_dir)` (`seg2vid_tf.conversion.checkpoints`, and
`evaluate --segmenter_checkpoint_dir`) restores the network.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from seg2vid_tf import command_flags, labels
from seg2vid_tf.conversion.checkpoints import (  # noqa: F401 (load_/save_segmenter re-exported)
    SEGMENTER_CONFIG_FILENAME, load_segmenter, save_segmenter)
from seg2vid_tf.metrics import segmentation
from seg2vid_tf.models import segmenter as segmenter_lib
from seg2vid_tf.training import base, label2image, loop
from seg2vid_tf.training.adam import FusedAdam


# Help of the segmenter's own flags (`SegmenterTrainConfig` fields past the bookkeeping).
FLAG_HELP = {
    "model_dir": "Checkpoints, summaries and segmenter_config.json.",
    "data_dir": "Dataset root (Cityscapes sequence layout); every labelled frame of the train "
                "split is an example.",
    "height": "Frame height.",
    "width": "Frame width.",
    "batch_size": "Frames per step.",
    "train_steps": "Total training steps.",
    "learning_rate": "Adam learning rate at step 0 (cosine decay to 0 at --train_steps).",
    "seed": "Random seed (initialization, shuffling, flips).",
    "flip": "Random horizontal flips (--noflip turns them off).",
    "base_filters": "Filters of the segmenter's first stage (doubled per stage).",
    "depth": "Pooling stages of the segmenter (frame sides: multiples of 2 ** depth).",
    "num_samples": "Frames in each sample grid.",
    **base.BOOKKEEPING_HELP,
}


@dataclasses.dataclass(frozen=True)
class SegmenterTrainConfig(base.ImageTrainingConfig):
    """Everything segmenter training needs besides the work directory (flag names).

    Data, size and schedule fields come from `base.ImageTrainingConfig`; the
    segmenter trains square frames in larger batches at a higher rate.
    """

    keep_checkpoints: int = 2
    width: int = 128
    batch_size: int = 8
    train_steps: int = 1200
    learning_rate: float = 2e-3
    base_filters: int = segmenter_lib.SegmenterConfig.base_filters
    depth: int = segmenter_lib.SegmenterConfig.depth

    def __post_init__(self):
        super().__post_init__()
        self.network_config.check_size(self.height, self.width)

    @property
    def network_config(self):
        return segmenter_lib.SegmenterConfig(base_filters=self.base_filters, depth=self.depth)


def segmentation_loss(logits, label_map):
    """Mean cross-entropy over the non-void pixels."""
    valid = label_map < segmenter_lib.NUM_SEGMENTER_CLASSES
    targets = tf.where(valid, label_map, tf.zeros_like(label_map))
    per_pixel = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    weights = tf.cast(valid, tf.float32)
    return tf.reduce_sum(per_pixel * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


class SegmenterTrainer(base.TrainerBase):
    """The network, its optimizer and its step (the rest is `base.TrainerBase`).

    Args:
        config: A `SegmenterTrainConfig`.
        workdir: Model directory (checkpoints, summaries, segmenter_config.json).
        strategy: A `tf.distribute.Strategy`; `make_strategy()` when None.
    """

    def __init__(self, config, workdir, strategy=None):
        super().__init__(config, workdir, strategy)
        self.schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate,
                                                               config.train_steps)
        with self.strategy.scope():
            self.model = segmenter_lib.build_segmenter(config.network_config)
            self.optimizer = FusedAdam(learning_rate=self.schedule)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.iterator = iter(self.strategy.experimental_distribute_dataset(
            label2image.image_dataset(config)))
        self.track(dict(model=self.model, optimizer=self.optimizer, step=self.step),
                   self.iterator, SEGMENTER_CONFIG_FILENAME, config.network_config.to_dict())

    def replica_gradients(self, batch):
        """One replica's gradients of the cross-entropy, scaled by local / global batch."""
        scale = tf.cast(tf.shape(batch["image"])[0], tf.float32) / float(self.config.batch_size)
        image = (batch["image"] + 1.0) * 0.5
        with tf.GradientTape() as tape:
            logits = self.model(image, training=True)["logits"]
            loss = segmentation_loss(logits, batch["label_map"]) * scale
        return tape.gradient(loss, self.model.trainable_variables), {"cross_entropy": loss}

    def optimizers_and_variables(self):
        return [(self.optimizer, self.model.trainable_variables)]

    def write_samples(self, writer, step):
        """Rows label colours | frame | prediction, to TensorBoard and `samples/`."""
        batch = next(iter(label2image.image_dataset(
            self.config, "train", repeat=False, shuffle=False, flip=False,
            batch_size=self.config.num_samples)))
        image = (batch["image"].numpy() + 1.0) * 0.5
        predicted = segmenter_lib.predict_train_ids(self.model, image)
        grid = np.concatenate([
            np.concatenate([labels.colorize(truth), (frame * 255).round().astype(np.uint8),
                            labels.colorize(guess)], axis=1)
            for truth, frame, guess in zip(batch["label_map"].numpy(), image, predicted)])
        return loop.write_sample_grid(writer, self.write_dir, step, grid)

    def fit(self, progress=True):
        """Trains until `train_steps`; returns the last loss terms (see `loop.fit`)."""
        return self.run_loop(
            desc="train segmenter",
            postfix=lambda terms: {"xent": f"{terms['cross_entropy']:.3f}"},
            scalars=lambda step, rate: {"learning_rate": float(self.schedule(step - 1)),
                                        "images_per_second": rate},
            progress=progress)


def train(config, workdir, strategy=None, progress=True):
    """Trains (resuming from `workdir`) and returns the last loss terms."""
    trainer = SegmenterTrainer(config, workdir, strategy=strategy)
    trainer.restore()
    return trainer.fit(progress=progress)


def train_and_score(config, workdir, strategy=None, progress=True):
    """Trains (resuming from `workdir`), then scores the chief's network on the val frames.

    With several workers only the chief scores (it alone wrote the checkpoint).

    Returns:
        dict: `model_dir`, the last loss terms (`losses`) and the val scores (`val`:
        `miou` and `pixel_accuracy`; empty on the other workers).
    """
    strategy = strategy or base.make_strategy()
    terms = train(config, workdir, strategy=strategy, progress=progress)
    scores = {}
    if base.is_chief(strategy):
        model = load_segmenter(workdir, flag_name="model_dir")
        scores = score_real_frames(model, config.data_dir, "val", config.height, config.width)
    return {"model_dir": workdir, "losses": terms, "val": scores}


def score_real_frames(segmenter, data_dir, split="val", height=128, width=128):
    """Mean IoU and pixel accuracy of `segmenter` on every labelled frame of `split`."""
    config = SegmenterTrainConfig(data_dir=data_dir, height=height, width=width)
    confusion = np.zeros((segmentation.NUM_SCORED_CLASSES,) * 2, np.int64)
    for batch in label2image.image_dataset(config, split, repeat=False, shuffle=False,
                                           flip=False, batch_size=16):
        image = (batch["image"].numpy() + 1.0) * 0.5
        confusion += segmentation.confusion_matrix(
            batch["label_map"].numpy(), segmenter_lib.predict_train_ids(segmenter, image))
    return {"miou": segmentation.mean_iou(confusion),
            "pixel_accuracy": segmentation.pixel_accuracy(confusion)}


def define_flags(flag_values=None):
    """One flag per `SegmenterTrainConfig` field, plus `--model_dir` (idempotent)."""
    command_flags.define_flag("string", "model_dir", None, FLAG_HELP["model_dir"],
                              flag_values=flag_values)
    command_flags.define_config_flags(SegmenterTrainConfig, FLAG_HELP, flag_values)


def config_from_flags(values=None):
    """A `SegmenterTrainConfig` from parsed flags (FlagError, a ValueError, naming a bad flag)."""
    return command_flags.config_from_flags(SegmenterTrainConfig, values)
