"""Training configuration as data, and the flags that fill it.

Every command (`seg2vid_tf.train`, `seg2vid_tf.evaluate`,
`seg2vid_tf.data.synthetic`) reads the same `configs/*.cfg` flagfile, so the
flags of all of them are defined here once (`define_flags`, idempotent); each
command uses the ones it needs. A flag on the command line after
`--flagfile` overrides the file.
"""

import dataclasses

from absl import flags

from seg2vid_tf import losses
from seg2vid_tf.models.config import Img2VidConfig

DATASETS = ("synthetic", "cityscapes")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything `train_and_evaluate` needs besides the work directory."""

    model: Img2VidConfig = Img2VidConfig()
    dataset: str = "synthetic"
    data_dir: str = ""
    batch_size: int = 8  # global, over all replicas
    train_steps: int = 1000
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    loss_weights: tuple = tuple(sorted(losses.DEFAULT_WEIGHTS.items()))
    vgg19_weights: str = ""
    seed: int = 0
    checkpoint_every: int = 200
    summary_every: int = 20
    image_summary_every: int = 200
    keep_checkpoints: int = 3
    sync_batch_norm: bool = False
    max_nonfinite_steps: int = 3
    eval_batches: int = 4

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"--dataset must be one of {DATASETS}, got {self.dataset!r}.")
        for name in ("batch_size", "train_steps", "checkpoint_every", "summary_every",
                     "image_summary_every", "keep_checkpoints", "max_nonfinite_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1, got {getattr(self, name)}.")
        if self.learning_rate <= 0:
            raise ValueError(f"--learning_rate must be > 0, got {self.learning_rate}.")
        weights = dict(self.loss_weights)
        if weights.get("vgg", 0.0) > 0 and not self.vgg19_weights:
            raise ValueError(
                "The perceptual loss needs VGG19 weights: set --vgg19_weights to a local file "
                "(torchvision vgg19 .pth/.npz or Keras VGG19 .h5), or --weight_vgg=0 to turn it off. "
                "Nothing is downloaded at run time.")

    @property
    def weights(self):
        return dict(self.loss_weights)


def define_flags():
    """Defines the flags of every seg2vid command (once per process)."""
    if "data_dir" in flags.FLAGS:
        return
    # Data.
    flags.DEFINE_enum("dataset", "synthetic", list(DATASETS), "Dataset layout under --data_dir.")
    flags.DEFINE_string("data_dir", None, "Dataset root (Cityscapes sequence layout).")
    flags.DEFINE_integer("height", 128, "Frame height.")
    flags.DEFINE_integer("width", 256, "Frame width.")
    flags.DEFINE_integer("seed", 0, "Random seed (data generation, shuffling, initialization).")
    # Synthetic data generation (read by seg2vid_tf.data.synthetic from the same flagfile).
    flags.DEFINE_string("output_dir", None, "Synthetic data: output directory.")
    flags.DEFINE_integer("num_sequences", 24, "Synthetic data: number of sequences.")
    flags.DEFINE_integer("num_frames", 9, "Synthetic data: frames per sequence.")
    flags.DEFINE_float("val_fraction", 0.25, "Synthetic data: fraction of sequences in val.")
    flags.DEFINE_string("city", "synth", "Synthetic data: city name in file names.")
    # Model.
    flags.DEFINE_enum("label_mode", "two_path", ["two_path", "one_path", "none"], "img2vid variant.")
    flags.DEFINE_integer("channels", 3, "Frame channels (3 RGB, 1 grayscale).")
    flags.DEFINE_float("width_multiplier", 1.0, "Scales hidden channels; 1.0 is the paper's network.")
    # Training.
    flags.DEFINE_string("model_dir", None, "Checkpoints and TensorBoard summaries.")
    flags.DEFINE_integer("batch_size", 8, "Global batch size over all replicas.")
    flags.DEFINE_integer("train_steps", 1000, "Total training steps.")
    flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate (reference: 1e-3).")
    flags.DEFINE_float("beta_1", 0.9, "Adam beta_1.")
    flags.DEFINE_float("beta_2", 0.999, "Adam beta_2.")
    for key, value in losses.DEFAULT_WEIGHTS.items():
        flags.DEFINE_float(f"weight_{key}", value, f"Weight of the {key} loss term.")
    flags.DEFINE_string("vgg19_weights", "", "Local VGG19 weights for the perceptual loss.")
    flags.DEFINE_integer("checkpoint_every", 200, "Steps between checkpoints.")
    flags.DEFINE_integer("summary_every", 20, "Steps between scalar summaries.")
    flags.DEFINE_integer("image_summary_every", 200, "Steps between image/GIF summaries.")
    flags.DEFINE_integer("keep_checkpoints", 3, "Checkpoints kept.")
    flags.DEFINE_bool("sync_batch_norm", False, "Batch statistics over all replicas.")
    flags.DEFINE_integer("max_nonfinite_steps", 3, "Stop after this many non-finite losses in a row.")
    flags.DEFINE_integer("eval_batches", 4, "Batches of the val split evaluated after training.")
    # Evaluation.
    flags.DEFINE_string("checkpoint_dir", None, "Checkpoint directory to evaluate.")
    flags.DEFINE_string("output_json", None, "Where evaluate writes its JSON report.")


def config_from_flags(values=None):
    """A `TrainConfig` from parsed flags."""
    values = values or flags.FLAGS
    model = Img2VidConfig(height=values.height, width=values.width, label_mode=values.label_mode,
                          channels=values.channels, width_multiplier=values.width_multiplier)
    weights = tuple(sorted((key, getattr(values, f"weight_{key}")) for key in losses.DEFAULT_WEIGHTS))
    return TrainConfig(
        model=model, dataset=values.dataset, data_dir=values.data_dir or "",
        batch_size=values.batch_size, train_steps=values.train_steps,
        learning_rate=values.learning_rate, beta_1=values.beta_1, beta_2=values.beta_2,
        loss_weights=weights, vgg19_weights=values.vgg19_weights, seed=values.seed,
        checkpoint_every=values.checkpoint_every, summary_every=values.summary_every,
        image_summary_every=values.image_summary_every, keep_checkpoints=values.keep_checkpoints,
        sync_batch_norm=values.sync_batch_norm, max_nonfinite_steps=values.max_nonfinite_steps,
        eval_batches=values.eval_batches)
