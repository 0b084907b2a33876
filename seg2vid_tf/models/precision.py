"""Numeric precision of the networks: float32 (the reference's) or Keras' mixed_bfloat16.

Under `mixed_bfloat16` every layer computes in bfloat16 with float32 weights, so
checkpoints are the same files in both precisions. `Img2Vid` keeps its inputs,
the warp, the occlusion blend and its outputs in float32, and batch norm keeps
its statistics in float32; the losses are computed in float32.

bfloat16 pays off on CPUs with native bfloat16 arithmetic (AVX512_BF16, AMX)
and on GPUs/TPUs; elsewhere oneDNN emulates it, which is not expected to beat float32
(`python -m seg2vid_tf.benchmark` measures both and says which this CPU is).
"""

import contextlib

import keras

PRECISIONS = ("float32", "mixed_bfloat16")


def check_precision(precision, flag_name="precision"):
    """Raises ValueError naming `--flag_name` unless `precision` is one of `PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ValueError(f"--{flag_name} must be one of {', '.join(PRECISIONS)}, "
                         f"got {precision!r}.")
    return precision


@contextlib.contextmanager
def policy_scope(precision):
    """Layers created inside compute in `precision` (Keras' global dtype policy, restored after).

    Raises:
        ValueError: An unknown precision.
    """
    check_precision(precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
