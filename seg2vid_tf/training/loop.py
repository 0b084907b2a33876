"""The step loop both trainers share: progress bar, signals, non-finite steps, summaries, saving.

`fit` drives any trainer object that has `config` (`train_steps`, `batch_size`,
`summary_every`, `image_summary_every`, `checkpoint_every`,
`max_nonfinite_steps`), `step` (a `tf.Variable`), `workdir`, `train_step()`
returning `(terms, applied)`, `save()` and `write_samples(writer, step)`.
"""

import os
import signal
import time

import tensorflow as tf
from absl import logging
from tqdm import tqdm

from seg2vid_tf.training import checkpoints


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses too many steps in a row."""


def write_sample_grid(writer, workdir, step, grid):
    """A uint8 sample grid to TensorBoard and `workdir/samples/step_<step>.png`; returns the path."""
    from PIL import Image  # pylint: disable=import-outside-toplevel

    with writer.as_default(step=step):
        tf.summary.image("samples", grid[None].astype("float32") / 255.0, max_outputs=1)
    path = os.path.join(workdir, "samples", f"step_{step:06d}.png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(grid).save(path)
    return path


class CheckpointedRun:
    """`restore` and `save` for a trainer with `checkpoint` (a
    `checkpoints.AtomicCheckpoint`), `manager` (from `checkpoints.make_manager`),
    `workdir` and `step`."""

    def restore(self):
        """Restores the newest usable checkpoint of `workdir`, if any; returns its path.

        A damaged checkpoint is skipped for the previous one, with a warning
        (`checkpoints.restore_latest`).

        Raises:
            checkpoints.UnusableCheckpointError: `workdir` holds checkpoints but
                none of them can be read.
        """
        latest = checkpoints.restore_latest(self.checkpoint, self.workdir)
        if latest:
            logging.info("Resumed from %s at step %d.", latest, int(self.step.numpy()))
        return latest

    def save(self):
        """Writes a checkpoint numbered by the current step (atomically); returns its path."""
        return self.manager.save(checkpoint_number=int(self.step.numpy()))


def fit(run, *, summary_dir, desc, postfix, scalars, write_samples=True, progress=True):
    """Trains `run` until `run.config.train_steps`; returns the last loss terms.

    SIGTERM and SIGINT stop after the current step; a checkpoint is saved at
    the end either way. A non-finite loss skips its step; `max_nonfinite_steps`
    in a row raise `NonFiniteLossError`.

    Args:
        run: The trainer (see the module docstring).
        summary_dir: Directory of the TensorBoard scalar and image summaries.
        desc: Label of the progress bar.
        postfix: `terms -> dict` shown after the progress bar.
        scalars: `(step, examples_per_second) -> dict` of scalars summarized
            with the loss terms.
        write_samples: Whether this process writes sample pictures.
        progress: Show the progress bar.

    Raises:
        NonFiniteLossError: Too many non-finite losses in a row.
    """
    config = run.config
    writer = tf.summary.create_file_writer(summary_dir)
    interrupted = []

    def on_signal(signum, frame):  # pylint: disable=unused-argument
        interrupted.append(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, on_signal)
        except ValueError:  # not the main thread
            pass
    nonfinite_in_a_row = 0
    terms = {}
    start_step = int(run.step.numpy())
    bar = tqdm(total=config.train_steps, initial=start_step, disable=not progress,
               desc=desc, unit="step", dynamic_ncols=True)
    last_time, last_step = time.time(), start_step
    try:
        while int(run.step.numpy()) < config.train_steps and not interrupted:
            terms, applied = run.train_step()
            if not applied:
                nonfinite_in_a_row += 1
                logging.warning("Non-finite loss at step %d, step skipped: %s",
                                int(run.step.numpy()), terms)
                if nonfinite_in_a_row >= config.max_nonfinite_steps:
                    raise NonFiniteLossError(
                        f"{nonfinite_in_a_row} non-finite losses in a row at step "
                        f"{int(run.step.numpy())} (last: {terms}). Lower --learning_rate or check "
                        "the data; the last good checkpoint is in " + run.workdir)
                continue
            nonfinite_in_a_row = 0
            step = int(run.step.numpy())
            bar.update(1)
            bar.set_postfix(**postfix(terms))
            if step % config.summary_every == 0 or step == config.train_steps:
                now = time.time()
                rate = (step - last_step) * config.batch_size / max(now - last_time, 1e-9)
                last_time, last_step = now, step
                with writer.as_default(step=step):
                    for key, value in terms.items():
                        tf.summary.scalar(f"loss/{key}", value)
                    for key, value in scalars(step, rate).items():
                        tf.summary.scalar(key, value)
            if write_samples and (step % config.image_summary_every == 0
                                  or step == config.train_steps):
                run.write_samples(writer, step)
            if step % config.checkpoint_every == 0:
                run.save()
    finally:
        bar.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        writer.flush()
    run.save()
    if interrupted:
        logging.warning("Stopped by signal %d at step %d; checkpoint saved.",
                        interrupted[0], int(run.step.numpy()))
    return terms
