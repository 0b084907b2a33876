"""Atomic checkpoint writes and the fallback past a damaged checkpoint (`checkpoints`)."""

import logging
import os
import types

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import train, train_label2image, train_segmenter
from seg2vid_tf.testing.commands import exit_status
from seg2vid_tf.training import checkpoints, loop

DATA = ".data-00000-of-00001"


class TinyRun(loop.CheckpointedRun):
    """A trainer's checkpointed state in miniature: weights, a step and a data iterator."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.weights = tf.Variable(tf.zeros([64, 8]), name="weights")
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.iterator = iter(tf.data.Dataset.range(100))
        self.checkpoint = checkpoints.AtomicCheckpoint(
            weights=self.weights, step=self.step, iterator=self.iterator)
        self.manager = checkpoints.make_manager(self.checkpoint, workdir, max_to_keep=3)

    def advance(self):
        """One "training step": new weights, the step and the iterator move on."""
        self.step.assign_add(1)
        self.weights.assign(tf.fill([64, 8], float(self.step.numpy())))
        next(self.iterator)

    def state(self):
        return int(self.step.numpy()), self.weights.numpy().copy(), int(next(self.iterator))


def saved_run(workdir, steps=2):
    """`workdir` with checkpoints ckpt-1 .. ckpt-<steps>; returns the states saved, by step."""
    run = TinyRun(workdir)
    states = {}
    for _ in range(steps):
        run.advance()
        run.save()
        states[int(run.step.numpy())] = (int(run.step.numpy()), run.weights.numpy().copy())
    return states


def truncate(path, keep=None):
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        handle.truncate(size // 2 if keep is None else keep)


def flip_byte(path, position):
    with open(path, "r+b") as handle:
        handle.seek(position)
        value = handle.read(1)[0]
        handle.seek(position)
        handle.write(bytes([value ^ 0xFF]))


def restore_fresh(workdir):
    """A new run restored from `workdir`: (path restored, (step, weights, next element))."""
    run = TinyRun(workdir)
    path = run.restore()
    return path, run.state()


def test_an_intact_latest_checkpoint_restores_as_before(tmp_path, caplog):
    states = saved_run(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        path, (step, weights, element) = restore_fresh(str(tmp_path))
    assert path == str(tmp_path / "ckpt-2")
    assert step == 2 and element == 2  # the iterator resumes after the two elements read
    np.testing.assert_array_equal(weights, states[2][1])
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_empty_directory_restores_nothing(tmp_path):
    path, (step, weights, _) = restore_fresh(str(tmp_path / "new"))
    assert path is None and step == 0 and not weights.any()


def _truncate_data(prefix):
    truncate(prefix + DATA)
    return prefix + DATA


def _truncate_data_by_one_byte(prefix):
    truncate(prefix + DATA, keep=os.path.getsize(prefix + DATA) - 1)
    return prefix + DATA


def _corrupt_weights(prefix):
    # The weights are 64 * 8 float32 = 2 KiB of the shard: a flipped byte in the middle of
    # the file changes a value, which only the checksum notices.
    flip_byte(prefix + DATA, os.path.getsize(prefix + DATA) // 2)
    return prefix + DATA


def _truncate_index(prefix):
    truncate(prefix + ".index")
    return prefix + ".index"


def _garble_index(prefix):
    for position in range(0, 64, 8):
        flip_byte(prefix + ".index", position)
    return prefix + ".index"


def _empty_index(prefix):
    truncate(prefix + ".index", keep=0)
    return prefix + ".index"


def _remove_index(prefix):
    os.remove(prefix + ".index")
    return prefix + ".index"


DAMAGES = [_truncate_data, _truncate_data_by_one_byte, _corrupt_weights, _truncate_index,
           _garble_index, _empty_index, _remove_index]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda damage: damage.__name__.strip("_"))
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog, damage):
    states = saved_run(str(tmp_path))
    latest = str(tmp_path / "ckpt-2")
    bad_file = damage(latest)
    with pytest.raises(checkpoints.DamagedCheckpointError) as raised:
        checkpoints.verify_checkpoint(latest)
    assert raised.value.path == bad_file
    with caplog.at_level(logging.WARNING):
        path, (step, weights, element) = restore_fresh(str(tmp_path))
    assert path == str(tmp_path / "ckpt-1")
    assert step == 1 and element == 1
    np.testing.assert_array_equal(weights, states[1][1])
    warnings = [record.getMessage() for record in caplog.records
                if record.levelno == logging.WARNING]
    assert any(bad_file in message and message.endswith(str(tmp_path / "ckpt-1") + " instead.")
               for message in warnings), warnings


def test_the_previous_checkpoints_are_tried_newest_first(tmp_path, caplog):
    states = saved_run(str(tmp_path), steps=3)
    _truncate_data(str(tmp_path / "ckpt-3"))
    _truncate_index(str(tmp_path / "ckpt-2"))
    with caplog.at_level(logging.WARNING):
        path, (step, weights, _) = restore_fresh(str(tmp_path))
    assert path == str(tmp_path / "ckpt-1") and step == 1
    np.testing.assert_array_equal(weights, states[1][1])
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert str(tmp_path / "ckpt-3") + DATA in messages
    assert str(tmp_path / "ckpt-2.index") in messages


def test_all_checkpoints_damaged_is_an_error_naming_the_files_and_the_flag(tmp_path):
    saved_run(str(tmp_path))
    _truncate_data(str(tmp_path / "ckpt-2"))
    _garble_index(str(tmp_path / "ckpt-1"))
    run = TinyRun(str(tmp_path))
    with pytest.raises(checkpoints.UnusableCheckpointError) as raised:
        run.restore()
    message = str(raised.value)
    assert message.startswith(f"No usable checkpoint in {str(tmp_path)!r} (--model_dir): ")
    assert str(tmp_path / "ckpt-2") + DATA in message
    assert str(tmp_path / "ckpt-1.index") in message
    assert isinstance(raised.value, ValueError)  # the commands print `error: ...` for these
    assert int(run.step.numpy()) == 0  # nothing restored, nothing trained


def test_checkpoints_on_disk_are_found_without_the_state_file(tmp_path, caplog):
    states = saved_run(str(tmp_path))
    os.remove(tmp_path / "checkpoint")
    with caplog.at_level(logging.WARNING):
        path, (step, weights, _) = restore_fresh(str(tmp_path))
    assert path == str(tmp_path / "ckpt-2") and step == 2
    np.testing.assert_array_equal(weights, states[2][1])
    assert "No checkpoint state file" in caplog.text


def test_an_empty_state_file_is_moved_aside_and_the_checkpoints_still_found(tmp_path, caplog):
    saved_run(str(tmp_path))
    truncate(str(tmp_path / "checkpoint"), keep=0)
    with pytest.raises(ValueError):  # what TensorFlow does with it
        tf.train.CheckpointManager(tf.train.Checkpoint(), str(tmp_path), max_to_keep=1)
    with caplog.at_level(logging.WARNING):
        path, (step, _, _) = restore_fresh(str(tmp_path))
    assert path == str(tmp_path / "ckpt-2") and step == 2
    assert os.path.isfile(tmp_path / "checkpoint.damaged")
    assert "checkpoint state file" in caplog.text


def test_saving_a_number_again_replaces_it_and_leaves_no_temporary_files(tmp_path):
    run = TinyRun(str(tmp_path))
    run.advance()
    run.save()
    run.weights.assign(tf.fill([64, 8], 7.0))
    assert run.save() == str(tmp_path / "ckpt-1")
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-1" + DATA, "ckpt-1.index"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-1")
    _, (step, weights, _) = restore_fresh(str(tmp_path))
    assert step == 1 and (weights == 7.0).all()


def test_a_write_that_fails_before_the_rename_leaves_the_previous_checkpoint(tmp_path,
                                                                            monkeypatch):
    states = saved_run(str(tmp_path))
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    run = TinyRun(str(tmp_path))
    run.restore()
    run.weights.assign(tf.fill([64, 8], -1.0))

    def crash(temp_prefix, prefix):
        del prefix
        assert os.path.isfile(temp_prefix + ".index")  # written in full, not yet in place
        raise OSError("disk pulled out")

    monkeypatch.setattr(checkpoints, "_publish", crash)
    with pytest.raises(OSError, match="disk pulled out"):
        run.save()  # the same number: ckpt-2 would be overwritten
    after = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    assert after == before  # no temporary files, the checkpoint and the state file unchanged
    monkeypatch.undo()
    _, (step, weights, _) = restore_fresh(str(tmp_path))
    assert step == 2
    np.testing.assert_array_equal(weights, states[2][1])


def test_files_of_an_interrupted_write_are_ignored_then_removed(tmp_path):
    saved_run(str(tmp_path))
    partial = str(tmp_path / ("ckpt-3.partial-" + "0" * 32))
    with open(partial + ".index", "wb") as handle:
        handle.write(b"half an index")
    os.makedirs(partial + "_temp")
    assert checkpoints.find_checkpoints(str(tmp_path)) == [
        str(tmp_path / "ckpt-2"), str(tmp_path / "ckpt-1")]
    path, _ = restore_fresh(str(tmp_path))  # makes a manager, which cleans up
    assert path == str(tmp_path / "ckpt-2")
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]


def test_the_commands_print_the_error_and_exit_with_status_1(tmp_path, monkeypatch, capsys):
    saved_run(str(tmp_path))
    _truncate_index(str(tmp_path / "ckpt-1"))
    _truncate_index(str(tmp_path / "ckpt-2"))

    def train_with_damaged_checkpoints(*args, **kwargs):
        del args, kwargs
        TinyRun(str(tmp_path)).restore()

    values = types.SimpleNamespace(data_dir="data", model_dir=str(tmp_path))
    fake_flags = types.SimpleNamespace(FLAGS=values)
    commands = [
        (train, [(train.config_lib, "config_from_flags", lambda: None)]),
        (train_label2image, [(train_label2image.label2image, "config_from_flags",
                              lambda values: None),
                             (train_label2image.label2image, "train",
                              train_with_damaged_checkpoints)]),
        (train_segmenter, [(train_segmenter.segmenter, "config_from_flags",
                            lambda values: None),
                           (train_segmenter.segmenter, "train", train_with_damaged_checkpoints)]),
    ]
    from seg2vid_tf.training import trainer  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(trainer, "train_and_evaluate", train_with_damaged_checkpoints)
    for command, patches in commands:
        with monkeypatch.context() as patched:
            patched.setattr(command, "flags", fake_flags)
            for target, name, value in patches:
                patched.setattr(target, name, value)
            assert exit_status(command.main, ["command"]) == 1, command.__name__
        printed = capsys.readouterr().err
        assert printed.startswith(f"error: No usable checkpoint in {str(tmp_path)!r} "
                                  "(--model_dir): "), (command.__name__, printed)
        assert str(tmp_path / "ckpt-2.index") in printed
