"""Numeric precision of the networks: float32 (the reference's) or Keras' mixed_bfloat16.

Under `mixed_bfloat16` every layer computes in bfloat16 with float32 weights, so
checkpoints are the same files in both precisions. `Img2Vid` keeps its inputs,
the warp, the occlusion blend and its outputs in float32, and batch norm keeps
its statistics in float32; the losses are computed in float32.

bfloat16 pays off on CPUs with native bfloat16 arithmetic (AVX512_BF16, AMX)
and on GPUs; elsewhere oneDNN emulates it, slower than float32. So
`choose_precision` runs a requested `mixed_bfloat16` only there and otherwise
float32, with a one-line message (`python -m seg2vid_tf.benchmark` measures both
and records which CPU it ran on; docs/performance.md, "Mixed precision").
"""

import contextlib
import sys

import keras

PRECISIONS = ("float32", "mixed_bfloat16")
NATIVE_BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
# GPUs with bfloat16 arithmetic: NVIDIA compute capability 8.0 (Ampere) and later.
MIN_BFLOAT16_COMPUTE_CAPABILITY = (8, 0)


def cpu_info():
    """(model name, set of feature flags) of the first CPU in /proc/cpuinfo ('', {} elsewhere)."""
    model, features = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                # x86 lists "flags", ARM "Features" (bf16 on Neoverse V1, Graviton3).
                if line.startswith(("flags", "Features")) and not features:
                    features = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return model, features


def cpu_has_native_bfloat16():
    """Whether the CPU does bfloat16 arithmetic natively (AVX512_BF16, AMX-BF16, ARM BF16)."""
    return bool(set(NATIVE_BFLOAT16_CPU_FLAGS) & cpu_info()[1])


def choose_precision(requested, native_bfloat16=None, gpu=None, flag_name="precision"):
    """The precision to run for a requested one: float32 where bfloat16 would be emulated.

    Args:
        requested: One of `PRECISIONS`.
        native_bfloat16: Whether the CPU has native bfloat16 arithmetic (read from
            /proc/cpuinfo when None).
        gpu: Whether TensorFlow sees a GPU with bfloat16 arithmetic (asked when None:
            compute capability `MIN_BFLOAT16_COMPUTE_CAPABILITY` or later).
        flag_name: The flag named in the message.

    Returns:
        `(precision, message)`: `message` is None when `requested` runs as asked,
        else one line saying why float32 runs instead.

    Raises:
        ValueError: An unknown precision.
    """
    check_precision(requested, flag_name)
    if requested == "float32":
        return requested, None
    if gpu is None:
        gpu = _gpu_has_bfloat16()
    if native_bfloat16 is None:
        native_bfloat16 = cpu_has_native_bfloat16()
    if gpu or native_bfloat16:
        return requested, None
    return "float32", (f"--{flag_name}={requested}: running float32, since this CPU has no native "
                       "bfloat16 arithmetic (AVX512_BF16, AMX or ARM BF16) and no GPU with it "
                       "(compute capability 8.0+) is visible, so bfloat16 would be emulated and "
                       "slower.")


def _gpu_has_bfloat16():
    """Whether TensorFlow sees a GPU of compute capability `MIN_BFLOAT16_COMPUTE_CAPABILITY`+."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    for device in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(device).get("compute_capability")
        if capability is not None and tuple(capability) >= MIN_BFLOAT16_COMPUTE_CAPABILITY:
            return True
    return False


def check_precision(precision, flag_name="precision"):
    """Raises ValueError naming `--flag_name` unless `precision` is one of `PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ValueError(f"--{flag_name} must be one of {', '.join(PRECISIONS)}, "
                         f"got {precision!r}.")
    return precision


def precision_for_flag(requested, flag_name="precision", stream=None):
    """`choose_precision` for a command's flag: prints its one-line message, returns the choice."""
    chosen, message = choose_precision(requested, flag_name=flag_name)
    if message:
        print(message, file=stream or sys.stderr, flush=True)
    return chosen


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
