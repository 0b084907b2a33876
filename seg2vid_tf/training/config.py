"""Training configuration as data, and the flags that fill it.

Every command (`seg2vid_tf.train`, `seg2vid_tf.evaluate`,
`seg2vid_tf.data.synthetic`) reads the same `configs/*.cfg` flagfile, so the
flags of all of them are defined here once (`define_flags`, idempotent per flag); each
command uses the ones it needs. A flag on the command line after
`--flagfile` overrides the file.
"""

import dataclasses

from absl import flags

from seg2vid_tf import command_flags, losses
from seg2vid_tf.config_data import check_ints
from seg2vid_tf.data import registry
from seg2vid_tf.models import precision as precision_lib
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.training import base

DATASETS = registry.DATASETS
# "constant": the reference's fixed Adam learning rate. "cosine": from --learning_rate down
# to 0 at --train_steps along half a cosine (keras.optimizers.schedules.CosineDecay).
LEARNING_RATE_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class TrainConfig(base.BookkeepingConfig):
    """Everything `train_and_evaluate` needs besides the work directory.

    The bookkeeping fields (`checkpoint_every`, ...) come from
    `base.BookkeepingConfig`.
    """

    model: Img2VidConfig = Img2VidConfig()
    dataset: str = "synthetic"
    data_dir: str = ""
    train_split_file: str = ""  # kth / ucf101 only
    val_split_file: str = ""  # kth / ucf101 only
    ucf101_classes: tuple = ()  # ucf101 only
    label_files: str = "labelTrainIds"  # cityscapes only: or "labelIds"
    batch_size: int = 8  # global, over all replicas
    train_steps: int = 1000
    learning_rate: float = 1e-3
    learning_rate_schedule: str = "constant"  # see LEARNING_RATE_SCHEDULES
    beta_1: float = 0.9
    beta_2: float = 0.999
    loss_weights: tuple = tuple(sorted(losses.DEFAULT_WEIGHTS.items()))
    recon_coarse_factors: tuple = losses.COARSE_FACTORS  # of the recon_coarse departure
    kld_warmup_steps: int = 0  # reference: the KL term at full weight from the first step
    posterior_noise_warmup_steps: int = 0  # reference: full posterior sampling noise from step 0
    latent_warmup_delay_steps: int = 0  # both warm-ups start after this many steps
    vgg19_weights: str = ""
    seed: int = 0
    sync_batch_norm: bool = False
    eval_batches: int = 4
    precision: str = "float32"  # or "mixed_bfloat16" (seg2vid_tf.models.precision)

    def __post_init__(self):
        registry.check_model(self.dataset, self.model.label_mode, self.model.channels)
        registry.check_options(self.dataset, self.train_split_file, self.val_split_file,
                               self.ucf101_classes, self.label_files)
        super().__post_init__()
        check_ints(self, ("batch_size", "train_steps"), 1)
        check_ints(self, ("kld_warmup_steps", "posterior_noise_warmup_steps",
                          "latent_warmup_delay_steps"), 0)
        if self.learning_rate <= 0:
            raise ValueError(f"--learning_rate must be > 0, got {self.learning_rate}.")
        if self.learning_rate_schedule not in LEARNING_RATE_SCHEDULES:
            raise ValueError(f"--learning_rate_schedule must be one of {LEARNING_RATE_SCHEDULES}, "
                             f"got {self.learning_rate_schedule!r}.")
        precision_lib.check_precision(self.precision)
        weights = dict(self.loss_weights)
        if weights.get("recon_coarse", 0.0) > 0:
            losses.check_coarse_factors(self.recon_coarse_factors, self.model.height,
                                        self.model.width)
        if weights.get("vgg", 0.0) > 0 and not self.vgg19_weights:
            raise ValueError(
                "The perceptual loss needs VGG19 weights: set --vgg19_weights to a local file "
                "(torchvision vgg19 .pth/.npz or Keras VGG19 .h5), or --weight_vgg=0 to turn it off. "
                "Nothing is downloaded at run time.")

    @property
    def weights(self):
        return dict(self.loss_weights)


def define_flags(flag_values=None):
    """Defines the flags of every seg2vid command.

    Idempotent per flag: a flag that is already defined (by an earlier call, or
    by another command's `define_flags` such as
    `seg2vid_tf.training.label2image.define_flags`) is kept as it is.

    Args:
        flag_values: An `absl.flags.FlagValues`; absl's global `FLAGS` by default.
    """
    flag_values = flags.FLAGS if flag_values is None else flag_values

    def define(kind, name, *args, **kwargs):
        command_flags.define_flag(kind, name, *args, flag_values=flag_values, **kwargs)

    _define_data_flags(define)
    _define_training_flags(define)
    # Evaluation.
    define("string", "checkpoint_dir", None, "Checkpoint directory to evaluate.")
    define("string", "output_json", None, "Where evaluate writes its JSON report.")


def _define_data_flags(define):
    """`define_flags`' dataset flags and the synthetic renderer's."""
    # Data.
    define("enum", "dataset", "synthetic", list(DATASETS),
           "Dataset under --data_dir: synthetic or cityscapes (Cityscapes sequence layout, label "
           "maps), kth (grayscale, --channels=1) or ucf101 (RGB); kth and ucf101 have no label "
           "maps and need --label_mode=none.")
    define("string", "data_dir", None, "Dataset root (layout: see --dataset).")
    define("string", "train_split_file", "",
           "kth/ucf101: text file listing the training videos (e.g. UCF101's trainlist01.txt); "
           "default: persons 1-16 (KTH), groups 8-25 (UCF101).")
    define("string", "val_split_file", "",
           "kth/ucf101: text file listing the evaluation videos (e.g. UCF101's testlist01.txt); "
           "default: persons 17-25 (KTH), groups 1-7 (UCF101).")
    define("list", "ucf101_classes", [],
           "ucf101: class folders to use (the authors trained one model per class); all if empty.")
    define("enum", "label_files", "labelTrainIds", ["labelTrainIds", "labelIds"],
           "cityscapes: which label PNGs to read: *_gtFine_labelTrainIds.png (train ids, 255 = "
           "void) or *_gtFine_labelIds.png (label ids 0..33, mapped to train ids).")
    define("integer", "height", 128, "Frame height.")
    define("integer", "width", 256, "Frame width.")
    define("integer", "seed", 0, "Random seed (data generation, shuffling, initialization).")
    # Synthetic data generation (read by seg2vid_tf.data.synthetic from the same flagfile).
    define("string", "output_dir", None, "Synthetic data: output directory.")
    define("integer", "num_sequences", 24, "Synthetic data: number of sequences.")
    define("integer", "num_frames", 9, "Synthetic data: frames per sequence.")
    define("float", "val_fraction", 0.25, "Synthetic data: fraction of sequences in val.")
    define("string", "city", "synth", "Synthetic data: city name in file names.")
    define("float", "motion_scale", 1.0,
           "Synthetic data: multiplies all velocities (like 1 / frame rate), in (0, 4].")
    define("float", "speed_variation", 1.0,
           "Synthetic data: spread of the camera speeds around their mean, in [0, 1].")


def _define_training_flags(define):
    """`define_flags`' model, optimizer, loss and bookkeeping flags."""
    # Model.
    define("enum", "label_mode", "two_path", ["two_path", "one_path", "none"], "img2vid variant.")
    define("integer", "channels", 3, "Frame channels (3 RGB, 1 grayscale).")
    define("float", "width_multiplier", 1.0, "Scales hidden channels; 1.0 is the paper's network.")
    # Training.
    define("string", "model_dir", None, "Checkpoints and TensorBoard summaries.")
    define("integer", "batch_size", 8, "Global batch size over all replicas.")
    define("integer", "train_steps", 1000, "Total training steps.")
    define("float", "learning_rate", 1e-3, "Adam learning rate (reference: 1e-3).")
    define("enum", "learning_rate_schedule", "constant", list(LEARNING_RATE_SCHEDULES),
           "constant (the reference's) or cosine (from --learning_rate to 0 at --train_steps, "
           "half a cosine; a resumed run with another --train_steps follows the new curve).")
    define("float", "beta_1", 0.9, "Adam beta_1.")
    define("float", "beta_2", 0.999, "Adam beta_2.")
    for key, value in losses.DEFAULT_WEIGHTS.items():
        define("float", f"weight_{key}", value, f"Weight of the {key} loss term.")
    define("list", "recon_coarse_factors", [str(f) for f in losses.COARSE_FACTORS],
           "Pooling factors of the recon_coarse term (a departure, off at "
           "--weight_recon_coarse=0): the photometric loss once more at 1/s of the resolution "
           "for each s (docs/experiments.md: r8 ran 2,4; r9 2,4,8,16).")
    define("integer", "kld_warmup_steps", 0,
           "Steps over which the KL weight rises linearly from 0 to --weight_kld (KL annealing, "
           "against posterior collapse); 0, the reference, applies it in full from the start.")
    define("integer", "posterior_noise_warmup_steps", 0,
           "Steps over which the posterior sample's noise rises linearly from 0 (z = mu) to its "
           "full scale, so that the decoder learns to read the motion latent before it is noisy; "
           "0, the reference, samples with the full noise from the start.")
    define("integer", "latent_warmup_delay_steps", 0,
           "Steps before the KL and posterior-noise warm-ups begin: until then the KL weight and "
           "the noise are 0 (the motion encoder and decoder train as an autoencoder); 0 is the "
           "reference.")
    define("string", "vgg19_weights", "", "Local VGG19 weights for the perceptual loss.")
    defaults = base.BookkeepingConfig()
    for name, help_text in base.BOOKKEEPING_HELP.items():
        define("integer", name, getattr(defaults, name), help_text)
    define("bool", "sync_batch_norm", False, "Batch statistics over all replicas.")
    define("integer", "eval_batches", 4, "Batches of the val split evaluated after training.")
    define("enum", "precision", "float32", list(precision_lib.PRECISIONS),
           "float32 (the reference's) or mixed_bfloat16 (bfloat16 compute, float32 weights; runs "
           "as float32, with a message, unless the CPU has native bfloat16 or a GPU of compute "
           "capability 8.0+ is visible: seg2vid_tf.models.precision).")


def _integers(name, values):
    """The list flag `--name` as a tuple of ints; ValueError naming the flag otherwise."""
    try:
        return tuple(int(item) for item in getattr(values, name))
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated integers, got "
                         f"{','.join(getattr(values, name))!r}.") from None


def config_from_flags(values=None, check_weights=True):
    """A `TrainConfig` from parsed flags (absl's global `FLAGS` by default).

    With `check_weights=False` (evaluation, which computes no loss) the perceptual
    loss weight is set to 0, so that a training config with the VGG loss on does
    not demand `--vgg19_weights`.
    """
    values = flags.FLAGS if values is None else values
    model = Img2VidConfig(height=values.height, width=values.width, label_mode=values.label_mode,
                          channels=values.channels, width_multiplier=values.width_multiplier)
    weights = tuple(sorted((key, getattr(values, f"weight_{key}")) for key in losses.DEFAULT_WEIGHTS))
    if not check_weights:
        weights = tuple((key, 0.0 if key == "vgg" else value) for key, value in weights)
    return TrainConfig(
        model=model, dataset=values.dataset, data_dir=values.data_dir or "",
        train_split_file=values.train_split_file or "", val_split_file=values.val_split_file or "",
        ucf101_classes=tuple(values.ucf101_classes or ()),
        label_files=values.label_files, batch_size=values.batch_size, train_steps=values.train_steps,
        learning_rate=values.learning_rate, learning_rate_schedule=values.learning_rate_schedule,
        beta_1=values.beta_1, beta_2=values.beta_2,
        loss_weights=weights,
        recon_coarse_factors=_integers("recon_coarse_factors", values),
        kld_warmup_steps=values.kld_warmup_steps,
        posterior_noise_warmup_steps=values.posterior_noise_warmup_steps,
        latent_warmup_delay_steps=values.latent_warmup_delay_steps,
        vgg19_weights=values.vgg19_weights, seed=values.seed,
        checkpoint_every=values.checkpoint_every, summary_every=values.summary_every,
        image_summary_every=values.image_summary_every, keep_checkpoints=values.keep_checkpoints,
        sync_batch_norm=values.sync_batch_norm, max_nonfinite_steps=values.max_nonfinite_steps,
        eval_batches=values.eval_batches,
        precision=precision_lib.precision_for_flag(values.precision))
