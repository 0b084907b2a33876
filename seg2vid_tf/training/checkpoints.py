"""Checkpoints that survive a crash while they are written and a damaged file when resuming.

Every trainer (`trainer.Trainer`, `label2image.Label2ImageTrainer`,
`segmenter.SegmenterTrainer`, all through `base.TrainerBase`) saves through an
`AtomicCheckpoint` and a manager from `make_manager`, and resumes with
`restore_latest`.

What TensorFlow 2.21 already guarantees (local file system, seen with strace):

* `tf.train.Checkpoint.write` writes each shard's data and index under
  temporary names (`<prefix>_temp/part-*.tempstate<N>`, then renamed), and the
  merge step (`MergeV2Checkpoints`) renames each data shard to its final name
  `<prefix>.data-?????-of-?????`, so a data file never appears half written.
* The merged `<prefix>.index`, however, is written in place (opened with
  O_TRUNC under its final name): a crash, a kill or a full disk while it is
  written leaves a partial index. Saving a number again (`loop.fit` saves the
  last step twice when it is a multiple of `checkpoint_every`) first replaces
  the data shard of a checkpoint the state file already names, then truncates
  and rewrites its index.
* `tf.train.CheckpointManager` writes the `checkpoint` state file after the
  checkpoint's files, with `atomic_write_string_to_file` (a temporary name,
  then a rename), so the state file never names a checkpoint that the process
  is still writing.
* Nothing is fsynced: after a power cut or an operating-system crash the files
  the state file names can be empty or truncated (and the state file itself
  empty, which makes `tf.train.CheckpointManager` raise).

What this module adds:

* `AtomicCheckpoint` writes each checkpoint under a temporary prefix beside the
  final one (`<prefix>.partial-<hex>`), fsyncs its files, removes the final
  index if there is one (so an old index never pairs with new data), renames
  the data shards and then the index to the final prefix (an index under a
  final name therefore marks a complete checkpoint) and fsyncs the directory.
  Only then does the manager record the checkpoint in the state file, which is
  fsynced in turn.
* `restore_latest` verifies a checkpoint before restoring it (its index opens
  and every tensor reads back, sizes and checksums checked; see
  `verify_checkpoint`) and falls back to the previous one (the state file's
  list, then the checkpoints on disk) with a warning naming the damaged file
  and the checkpoint used. When checkpoints exist but none is usable it raises
  `UnusableCheckpointError` instead of training from scratch.
* `make_manager` moves an unreadable state file aside (with a warning) so that
  the manager can start, and removes the temporary files a crash left behind.
"""

import copy
import glob
import inspect
import os
import re
import shutil
import uuid

import tensorflow as tf
from absl import logging

STATE_FILENAME = "checkpoint"
_PARTIAL_PATTERN = re.compile(r"\.partial-[0-9a-f]{32}")
_NUMBER_PATTERN = re.compile(r"-(\d+)$")
_DATA_SUFFIX = ".data-?????-of-?????"
# What reading a damaged checkpoint raises (OUT_OF_RANGE reaches Python as IndexError).
_READ_ERRORS = (tf.errors.OpError, IndexError, ValueError, RuntimeError, OSError)


class UnusableCheckpointError(ValueError):
    """A model directory holds checkpoints, but none of them can be read."""


class DamagedCheckpointError(ValueError):
    """One checkpoint cannot be read.

    Attributes:
        path: The damaged (or missing) file.
        reason: Why it cannot be read.
    """

    def __init__(self, path, reason):
        super().__init__(f"{path} is damaged ({reason})")
        self.path = path
        self.reason = reason


# --------------------------------------------------------------------------- writing
def _fsync_file(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory):
    """Makes the renames in `directory` durable (where the file system allows it)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # Some file systems cannot sync a directory.
        pass
    finally:
        os.close(descriptor)


def checkpoint_files(prefix):
    """The files of the checkpoint at `prefix` that exist: its data shards, then its index."""
    files = sorted(glob.glob(glob.escape(prefix) + _DATA_SUFFIX))
    index = prefix + ".index"
    return files + ([index] if os.path.isfile(index) else [])


def _remove_partial(temp_prefix):
    for path in checkpoint_files(temp_prefix):
        os.remove(path)
    shutil.rmtree(temp_prefix + "_temp", ignore_errors=True)


def _publish(temp_prefix, prefix):
    """Moves the complete checkpoint at `temp_prefix` to `prefix`, the index last."""
    data_files = sorted(glob.glob(glob.escape(temp_prefix) + _DATA_SUFFIX))
    temp_index = temp_prefix + ".index"
    for path in data_files + [temp_index]:
        _fsync_file(path)
    # An existing checkpoint of that name stops being complete before its data changes.
    stale = checkpoint_files(prefix)
    for path in reversed(stale):  # the index first
        os.remove(path)
    for path in data_files:
        os.replace(path, prefix + path[len(temp_prefix):])
    os.replace(temp_index, prefix + ".index")
    _fsync_directory(os.path.dirname(prefix) or ".")


def _call_write_callback(callback, save_path):
    """Calls a `CheckpointOptions.experimental_write_callbacks` entry like TensorFlow does."""
    if inspect.signature(callback).parameters:
        callback(save_path)
    else:
        callback()


class AtomicCheckpoint(tf.train.Checkpoint):
    """A `tf.train.Checkpoint` whose writes are atomic and durable (see the module docstring).

    `save`, `write` and `tf.train.CheckpointManager.save` all write through
    `_write`. The write callbacks (the manager's state-file update) run after the
    checkpoint is in place under its final name. Paths with a scheme (`gs://`,
    `s3://`) are written by TensorFlow as they are.
    """

    def _write(self, file_prefix, options=None):
        """Writes under a temporary prefix, then renames into `file_prefix`; returns it.

        Raises:
            ValueError: Asynchronous checkpointing was asked for.
        """
        if not isinstance(file_prefix, (str, os.PathLike)) or "://" in os.fspath(file_prefix):
            return super()._write(file_prefix, options=options)
        file_prefix = os.fspath(file_prefix)
        inner = copy.copy(options) if options is not None else tf.train.CheckpointOptions()
        if inner.experimental_enable_async_checkpoint:
            raise ValueError("AtomicCheckpoint does not write asynchronous checkpoints.")
        callbacks = list(inner.experimental_write_callbacks or [])
        inner.experimental_write_callbacks = None
        temp_prefix = f"{file_prefix}.partial-{uuid.uuid4().hex}"
        try:
            super()._write(temp_prefix, options=inner)
            _publish(temp_prefix, file_prefix)
        finally:
            _remove_partial(temp_prefix)  # nothing is left after a successful publish
        for callback in callbacks:
            _call_write_callback(callback, file_prefix)
        directory = os.path.dirname(file_prefix) or "."
        state_path = os.path.join(directory, STATE_FILENAME)
        if callbacks and os.path.isfile(state_path):
            _fsync_file(state_path)
            _fsync_directory(directory)
        return file_prefix


def _state_file_problem(directory):
    """Why the state file of `directory` cannot be read, or None (readable or absent)."""
    if not os.path.isfile(os.path.join(directory, STATE_FILENAME)):
        return None
    try:
        if tf.train.get_checkpoint_state(directory) is None:
            return "it does not parse"
    except ValueError as error:  # an empty state file
        return str(error)
    return None


def make_manager(checkpoint, directory, max_to_keep):
    """A `tf.train.CheckpointManager` of `checkpoint` (an `AtomicCheckpoint`) in `directory`.

    Removes the temporary files of a write a crash interrupted, and renames an
    unreadable state file to `checkpoint.damaged` (with a warning; the manager
    cannot start with it), after which `restore_latest` finds the checkpoints
    from the files on disk.

    Args:
        checkpoint: The `AtomicCheckpoint` to save.
        directory: Where the checkpoints and the state file are written.
        max_to_keep: How many checkpoints the manager keeps.

    Returns:
        The `tf.train.CheckpointManager`.
    """
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if _PARTIAL_PATTERN.search(name):
                path = os.path.join(directory, name)
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
        problem = _state_file_problem(directory)
        if problem:
            state_path = os.path.join(directory, STATE_FILENAME)
            os.replace(state_path, state_path + ".damaged")
            logging.warning("The checkpoint state file %s is damaged (%s); moved it to %s.damaged "
                            "and will look for the checkpoints on disk.",
                            state_path, problem, state_path)
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep)


# --------------------------------------------------------------------------- reading
def _describe(error):
    """The first line of an error's message, without TensorFlow's op decorations."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    message = re.sub(r"\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]", "", message).strip()
    return message.splitlines()[0] if message else type(error).__name__


def verify_checkpoint(prefix):
    """Checks that the checkpoint at `prefix` reads back entirely.

    Opens its index with `tf.train.load_checkpoint` (a missing, truncated or
    corrupted index fails there: the table's footer, magic number and block
    checksums are checked) and reads every tensor, one at a time, which checks
    its bytes against the size and CRC32C the index records (a missing,
    truncated or corrupted data shard fails). That costs one read of the
    checkpoint; the restore that follows reads it again, mostly from the page
    cache.

    Args:
        prefix: The checkpoint's path prefix (`.../ckpt-12`).

    Raises:
        DamagedCheckpointError: Naming the damaged (or missing) file and why.
    """
    index = prefix + ".index"
    if not os.path.isfile(index):
        raise DamagedCheckpointError(index, "missing")
    try:
        reader = tf.train.load_checkpoint(prefix)
        dtypes = reader.get_variable_to_dtype_map()
    except _READ_ERRORS as error:
        raise DamagedCheckpointError(index, _describe(error)) from error
    data_files = sorted(glob.glob(glob.escape(prefix) + _DATA_SUFFIX))
    data_name = data_files[0] if len(data_files) == 1 else prefix + _DATA_SUFFIX
    try:
        for name, dtype in sorted(dtypes.items()):
            if dtype == tf.variant:  # not convertible to NumPy: read it with the restore op
                with tf.device("CPU:0"):
                    tf.raw_ops.RestoreV2(prefix=prefix, tensor_names=[name],
                                         shape_and_slices=[""], dtypes=[dtype])
            else:
                reader.get_tensor(name)
    except _READ_ERRORS as error:
        raise DamagedCheckpointError(data_name, _describe(error)) from error


def _checkpoint_number(prefix):
    match = _NUMBER_PATTERN.search(prefix)
    return int(match.group(1)) if match else -1


def find_checkpoints(directory):
    """The checkpoints of `directory` in the order to try them.

    First the state file's latest, then its other checkpoints newest first, then
    the checkpoints on disk it does not name (an index under a final name),
    highest number first. Temporary files of an interrupted write are skipped.

    Args:
        directory: A model directory.

    Returns:
        A list of checkpoint prefixes.
    """
    listed = []
    if os.path.isfile(os.path.join(directory, STATE_FILENAME)):
        try:
            state = tf.train.get_checkpoint_state(directory)
        except ValueError:  # an empty state file
            state = None
        if state is not None:
            listed = [state.model_checkpoint_path] + list(
                reversed(state.all_model_checkpoint_paths))
    on_disk = [path[:-len(".index")]
               for path in glob.glob(os.path.join(glob.escape(directory), "*.index"))
               if not _PARTIAL_PATTERN.search(os.path.basename(path))]
    ordered, seen = [], set()
    unlisted = sorted(on_disk, key=lambda prefix: (_checkpoint_number(prefix),
                                                   os.path.getmtime(prefix + ".index")),
                      reverse=True)
    for prefix in listed + unlisted:
        if os.path.abspath(prefix) not in seen:
            seen.add(os.path.abspath(prefix))
            ordered.append(prefix)
    return ordered


def restore_latest(checkpoint, directory, flag_name="model_dir"):
    """Restores the newest usable checkpoint of `directory` into `checkpoint`.

    Each candidate (`find_checkpoints`) is verified first (`verify_checkpoint`);
    a damaged one is skipped with a warning naming the damaged file and the
    checkpoint used instead. The restore asserts that every object of
    `checkpoint` is in the checkpoint (a checkpoint of another model raises).

    Args:
        checkpoint: The `tf.train.Checkpoint` to restore into.
        directory: The model directory.
        flag_name: The command-line flag that set `directory`, for the error.

    Returns:
        The prefix of the checkpoint restored, or None when `directory` holds none.

    Raises:
        UnusableCheckpointError: Checkpoints are there, but none reads back.
    """
    damaged = []
    has_state_file = os.path.isfile(os.path.join(directory, STATE_FILENAME))
    for prefix in find_checkpoints(directory):
        try:
            verify_checkpoint(prefix)
        except DamagedCheckpointError as error:
            damaged.append(error)
            continue
        for error in damaged:
            logging.warning("Checkpoint file %s is damaged (%s); resuming from the previous "
                            "checkpoint %s instead.", error.path, error.reason, prefix)
        if not has_state_file:
            logging.warning("No checkpoint state file in %s; resuming from %s, found on disk.",
                            directory, prefix)
        checkpoint.restore(prefix).assert_existing_objects_matched()
        return prefix
    if damaged:
        raise UnusableCheckpointError(
            f"No usable checkpoint in {directory!r} (--{flag_name}): "
            + "; ".join(str(error) for error in damaged)
            + f". Move the damaged files away to train from scratch, or set --{flag_name} "
            "to another directory.")
    return None
