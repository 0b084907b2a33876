"""Training steps per second of this tree against another git revision, in one run.

    python -m tools.compare_train_speed --ref=8b05621 [--flagfile=configs/synthetic.cfg] \
        [--short_steps=5 --long_steps=65 --rounds=3] [--output_json=F]

Checks out `--ref` into a temporary git worktree, renders the flagfile's synthetic
data once (with this tree's renderer; both trees read the same files), and then,
round after round, trains each tree from scratch with `python -m seg2vid_tf.train`
for `--short_steps` and for `--long_steps` steps. A tree's time per step is the
difference of the two runs' wall times over the difference of their steps, so
that start-up, tracing, the final checkpoint and evaluation cancel out. The trees
alternate within each round, so a slow phase of the machine falls on both; the
result is the median over rounds of each tree's steps per second, and their ratio.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

from tools import results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def define_flags():
    """Defines the flags; called only when run as a script.

    Tests import several tools into one process, and absl refuses a flag defined twice.
    """
    flags.DEFINE_string("ref", None, "The git revision to compare with (e.g. 8b05621).")
    flags.DEFINE_string("flagfile_path", os.path.join(REPO, "configs", "synthetic.cfg"),
                        "Training recipe both trees run (its data settings render the data).")
    flags.DEFINE_integer("short_steps", 5, "Steps of the short run.")
    flags.DEFINE_integer("long_steps", 65, "Steps of the long run.")
    flags.DEFINE_integer("rounds", 3, "Rounds; each trains both trees twice.")
    flags.DEFINE_string("output_json", None, "Where the result is written (printed anyway).")


def train_seconds(tree, flagfile, data_dir, steps, workdir):
    """Wall seconds of one `seg2vid_tf.train` run of `steps` steps from scratch in `tree`."""
    model_dir = tempfile.mkdtemp(dir=workdir)
    command = [sys.executable, "-m", "seg2vid_tf.train", f"--flagfile={flagfile}",
               f"--data_dir={data_dir}", f"--model_dir={model_dir}", f"--train_steps={steps}",
               "--eval_batches=1", f"--checkpoint_every={steps}"]
    environment = dict(os.environ, PYTHONPATH=tree, TF_CPP_MIN_LOG_LEVEL="2")
    begin = time.perf_counter()
    process = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True,
                             check=False)
    seconds = time.perf_counter() - begin
    if process.returncode != 0:
        raise RuntimeError(f"Training in {tree} failed:\n{process.stderr[-2000:]}")
    return seconds


def steps_per_second(short_seconds, long_seconds, short_steps, long_steps):
    """Steps per second from two runs that differ only in their step counts."""
    extra = long_seconds - short_seconds
    if extra <= 0:
        raise ValueError(f"The long run ({long_seconds:.1f} s) was not slower than the short one "
                         f"({short_seconds:.1f} s): raise --long_steps.")
    return (long_steps - short_steps) / extra


def compare(ref, flagfile, short_steps, long_steps, rounds):
    """`{"trees": {...: [steps/s per round]}, "median_steps_per_s": ..., "speedup": ...}`."""
    if long_steps <= short_steps:
        raise ValueError(f"--long_steps ({long_steps}) must exceed --short_steps ({short_steps}).")
    with tempfile.TemporaryDirectory() as workdir:
        reference = os.path.join(workdir, "ref")
        subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", reference, ref],
                       check=True, capture_output=True)
        try:
            data_dir = os.path.join(workdir, "data")
            subprocess.run([sys.executable, "-m", "seg2vid_tf.data.synthetic",
                            f"--flagfile={flagfile}", f"--output_dir={data_dir}"],
                           cwd=REPO, check=True, capture_output=True)
            trees = {"this tree": REPO, ref: reference}
            rates = {name: [] for name in trees}
            for _ in range(rounds):
                for name, tree in trees.items():
                    short = train_seconds(tree, flagfile, data_dir, short_steps, workdir)
                    long = train_seconds(tree, flagfile, data_dir, long_steps, workdir)
                    rates[name].append(steps_per_second(short, long, short_steps, long_steps))
                    print(f"{name}: {rates[name][-1]:.3f} steps/s", flush=True)
        finally:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", reference],
                           check=False, capture_output=True)
    medians = {name: float(np.median(values)) for name, values in rates.items()}
    inside = os.path.abspath(flagfile).startswith(REPO + os.sep)
    return {"ref": ref, "flagfile": os.path.relpath(flagfile, REPO) if inside else flagfile,
            "short_steps": short_steps,
            "long_steps": long_steps, "steps_per_s": rates, "median_steps_per_s": medians,
            "speedup": medians["this tree"] / medians[ref]}


def main(argv):
    del argv
    values = flags.FLAGS
    if not values.ref:
        raise app.UsageError("--ref is required.")
    result = compare(values.ref, values.flagfile_path, values.short_steps, values.long_steps,
                     values.rounds)
    print(json.dumps(result, indent=2))
    results.write_json(result, values.output_json)
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
