"""The machine a benchmark ran on: CPU, SIMD features, cores, threading settings, versions."""

import os
import platform

from seg2vid_tf.models.precision import cpu_has_native_bfloat16  # noqa: F401 (public here)
from seg2vid_tf.models.precision import cpu_info as _cpu_info


# Terraform's variables share TensorFlow's `TF_` prefix.
_TERRAFORM_PREFIXES = ("TF_CLI_", "TF_VAR_", "TF_LOG", "TF_INPUT", "TF_IN_AUTOMATION",
                       "TF_WORKSPACE", "TF_PLUGIN_CACHE_DIR", "TF_REGISTRY_")


def threading_environment(environment):
    """The variables of `environment` that set threads or kernels (OpenMP, oneDNN, TF, ...)."""
    return {key: environment[key] for key in sorted(environment)
            if key.startswith(("OMP_", "KMP_", "OPENBLAS_", "TF_", "MKL_", "ONEDNN_", "DNNL_"))
            and not key.startswith(_TERRAFORM_PREFIXES)}


def machine_info():
    """CPU, cores, thread settings and versions, recorded with the results."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    model, features = _cpu_info()
    simd = [name for name in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
            if name in features]
    return {
        "cpu": model or platform.processor(),
        "simd": simd,
        "cores_available": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "environment": threading_environment(os.environ),
    }
