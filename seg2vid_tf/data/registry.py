"""The one place that maps `--dataset` to a reader, for training and evaluation.

`seg2vid_tf.training.trainer.train_dataset` and
`seg2vid_tf.evaluation.model_evaluation.eval_dataset`
both call :func:`make_dataset`. The datasets:

=========== ================================ ======== ========== ===================
`--dataset` reader                           channels label maps splits (train, val)
=========== ================================ ======== ========== ===================
synthetic   :mod:`cityscapes` (its layout)   3 or 1   yes        train, val
cityscapes  :mod:`cityscapes`                3        yes        train, val
kth         :mod:`kth`                       1        no         train, test
ucf101      :mod:`ucf101`                    3        no         train, test
=========== ================================ ======== ========== ===================

KTH and UCF101 have no validation split: the evaluation split ``"val"`` reads
their ``"test"`` split (KTH persons 17-25, UCF101 groups 1-7), or the videos
listed in `--val_split_file` (e.g. UCF101's ``testlist01.txt``); training reads
`--train_split_file` when set.

KITTI's start frames (:mod:`kitti`: single images, no future frames to learn
from or to compare with) are not a `--dataset`: `generate --image_dir` turns
each into a video.

Datasets without label maps need an unconditioned model (`--label_mode=none`);
a model without labels may train on a labelled dataset, whose batches then
drop `label_map`. The model's `--channels` must be the dataset's.

Elements of :func:`make_dataset` (batched, channels-last)::

    video:      float32 [B, T, H, W, C] in [0, 1]
    clip_id:    string  [B]
    label_map:  int32   [B, H, W]          (labelled datasets, label_mode != none)
    flow, flow_valid                       (cityscapes layout with flows, if asked)
"""

import contextlib
import dataclasses

import tensorflow as tf

from seg2vid_tf.data import cityscapes, decode_errors, kth, ucf101

__all__ = [
    "DATASETS", "DatasetInfo", "check_model", "check_options", "explain_data_error",
    "find_clips", "info", "make_dataset", "naming_data_errors", "reader_split",
]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the trainer and the evaluation need to know of a dataset.

    Attributes:
        name: The `--dataset` value.
        channels: Frame channels of its batches.
        has_labels: Whether its batches carry `label_map`.
        split_names: Evaluation split names mapped to the reader's
            (``{"val": "test"}`` where there is no validation split).
        renders_grayscale: Whether `--channels=1` models may train on it too
            (the RGB frames are then converted to luma, ITU-R BT.601).
    """

    name: str
    channels: int
    has_labels: bool
    split_names: tuple = ()
    renders_grayscale: bool = False


_INFOS = {
    "synthetic": DatasetInfo("synthetic", 3, True, renders_grayscale=True),
    "cityscapes": DatasetInfo("cityscapes", 3, True),
    "kth": DatasetInfo("kth", 1, False, (("val", "test"),)),
    "ucf101": DatasetInfo("ucf101", 3, False, (("val", "test"),)),
}
DATASETS = tuple(_INFOS)


def info(dataset):
    """The :class:`DatasetInfo` of a `--dataset` value.

    Raises:
        ValueError: Unknown dataset (the message names `--dataset`).
    """
    if dataset not in _INFOS:
        raise ValueError(f"--dataset must be one of {DATASETS}, got {dataset!r}.")
    return _INFOS[dataset]


def check_model(dataset, label_mode, channels):
    """Raises ValueError (naming the flags) unless the model can train on the dataset.

    Args:
        dataset: The `--dataset` value.
        label_mode: The model's `--label_mode`.
        channels: The model's `--channels`.
    """
    details = info(dataset)
    if label_mode != "none" and not details.has_labels:
        raise ValueError(
            f"--dataset={dataset} has no label maps, so the model cannot be label-conditioned: "
            f"set --label_mode=none (got --label_mode={label_mode}).")
    if channels == 1 and details.renders_grayscale:
        return
    if channels != details.channels:
        kind = "grayscale" if details.channels == 1 else "RGB"
        raise ValueError(
            f"--dataset={dataset} is {kind}: set --channels={details.channels} "
            f"(got --channels={channels}).")


def reader_split(dataset, split):
    """The reader's name of a split: ``"val"`` is ``"test"`` for KTH and UCF101."""
    return dict(info(dataset).split_names).get(split, split)


def check_options(dataset, train_split_file="", val_split_file="", ucf101_classes=(),
                  label_files="labelTrainIds"):
    """Raises ValueError (naming the flag) for options the dataset does not read."""
    info(dataset)
    cityscapes.label_file_suffix(label_files)
    if label_files != "labelTrainIds" and dataset != "cityscapes":
        raise ValueError(f"--label_files={label_files} applies to --dataset=cityscapes only "
                         f"(got --dataset={dataset}).")
    if dataset not in ("kth", "ucf101"):
        for flag, value in (("train_split_file", train_split_file),
                            ("val_split_file", val_split_file)):
            if value:
                raise ValueError(f"--{flag} applies to --dataset=kth or ucf101 only "
                                 f"(got --dataset={dataset}).")
    if ucf101_classes and dataset != "ucf101":
        raise ValueError(f"--ucf101_classes applies to --dataset=ucf101 only "
                         f"(got --dataset={dataset}).")


def find_clips(config, split):
    """The clips of `split` of `config.dataset` under `config.data_dir`.

    Args:
        config: A `TrainConfig` (`dataset`, `data_dir`, `model.num_frames`,
            `train_split_file`, `val_split_file`, `ucf101_classes`).
        split: "train" or "val" (see :func:`reader_split`). KTH and UCF101 read
            `train_split_file` / `val_split_file` for these when set.

    Returns:
        List of `clips.Clip`.

    Raises:
        ValueError: Unknown dataset or split, or no clips (from the reader).
        FileNotFoundError: Missing data directory or split file (from the reader).
    """
    dataset = config.dataset
    info(dataset)
    num_frames = config.model.num_frames
    if dataset in ("synthetic", "cityscapes"):
        return cityscapes.find_clips(config.data_dir, split, num_frames=num_frames,
                                     label_files=config.label_files)
    split_file = {"train": config.train_split_file, "val": config.val_split_file}.get(split)
    split = reader_split(dataset, split)
    if dataset == "kth":
        return kth.find_clips(config.data_dir, split, num_frames=num_frames,
                              split_file=split_file or None)
    return ucf101.find_clips(config.data_dir, split, num_frames=num_frames,
                             split_file=split_file or None,
                             classes=list(config.ucf101_classes) or None)


def make_dataset(config, split, *, shuffle=False, repeat=False, drop_remainder=False,
                 with_flow=False):
    """Batched clips of `split` of `config.dataset` for the model of `config`.

    Args:
        config: A `TrainConfig` (see :func:`find_clips`; `model`, `batch_size`
            and `seed` are used too).
        split: "train" or "val".
        shuffle: Shuffle (seeded by `config.seed`, reshuffled every epoch).
        repeat: Repeat forever.
        drop_remainder: Drop a final partial batch.
        with_flow: Ground-truth flows where the dataset has them: False, or
            "auto" (cityscapes layout with a flow folder; the synthetic data has one).

    Returns:
        ``tf.data.Dataset`` of dicts (see the module docstring).

    Raises:
        ValueError: The model does not fit the dataset (see :func:`check_model`).
    """
    model = config.model
    check_model(config.dataset, model.label_mode, model.channels)
    if with_flow not in (False, "auto"):
        raise ValueError(f"with_flow must be False or 'auto', got {with_flow!r}.")
    clips = find_clips(config, split)
    options = dict(height=model.height, width=model.width, batch_size=config.batch_size,
                   shuffle=shuffle, seed=config.seed, repeat=repeat,
                   drop_remainder=drop_remainder)
    if config.dataset in ("synthetic", "cityscapes"):
        dataset = cityscapes.make_dataset(clips, with_flow=with_flow,
                                          label_files=config.label_files, **options)
        if not model.has_labels:
            dataset = dataset.map(
                lambda batch: {key: value for key, value in batch.items() if key != "label_map"})
        if model.channels == 1:
            dataset = dataset.map(lambda batch: dict(batch, video=tf.image.rgb_to_grayscale(
                batch["video"])))
        return dataset
    reader = kth if config.dataset == "kth" else ucf101
    return reader.make_dataset(clips, **options)


_CLIP_DESCRIPTIONS = {"synthetic": "synthetic clip", "cityscapes": "Cityscapes clip",
                      "kth": "KTH clip", "ucf101": "UCF101 clip"}


def explain_data_error(error, config, splits=("train", "val")):
    """The `decode_errors.DataFileError` naming the file behind a dataset error, or None.

    For an error raised while iterating :func:`make_dataset` of `config` (a
    failed file check, or a decoder failure such as ``Invalid PNG data``),
    looks for the file among the clips of each split in turn
    (`decode_errors.explain`: the rescan of a decoder failure decodes the
    split's files again, the few of the reported size first).

    Args:
        error: The exception (e.g. ``tf.errors.InvalidArgumentError``).
        config: The `TrainConfig` the datasets were made from.
        splits: The splits the failing dataset may have read.

    Returns:
        A `DataFileError` (a ValueError) naming the file, its clip and split
        and what was expected, or None when `error` is not about a file of
        these splits.
    """
    description = _CLIP_DESCRIPTIONS.get(config.dataset, "clip")
    for split in splits:
        try:
            clips = find_clips(config, split)
        except (OSError, ValueError, RuntimeError):
            continue  # A split that cannot be listed did not feed the failing dataset.
        named = decode_errors.explain(error, clips, split=reader_split(config.dataset, split),
                                      description=description)
        if named is not None:
            return named
    return None


@contextlib.contextmanager
def naming_data_errors(config, splits=("train", "val")):
    """Re-raises dataset file errors as a `decode_errors.DataFileError` naming the file.

    Wrap whatever iterates :func:`make_dataset` of `config` (a training or an
    evaluation run); see :func:`explain_data_error`. Other errors pass
    unchanged.

    Args:
        config: The `TrainConfig` the datasets are made from.
        splits: The splits the datasets read.

    Raises:
        decode_errors.DataFileError: A file of one of `splits` is corrupt or
            not what the reader expects (a ValueError, so the command-line
            tools print ``error: ...``).
    """
    try:
        yield
    except tf.errors.OpError as error:
        named = explain_data_error(error, config, splits)
        if named is None:
            raise
        raise named from error
