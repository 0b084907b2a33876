"""`python -m seg2vid_tf.benchmark`: how fast img2vid runs, against what this machine can do.

    python -m seg2vid_tf.benchmark --output_json=benchmark.json [--quick] [--workloads=a,b]
        [--output_svg=benchmark.svg]

Measures, at the paper's configuration (128x256, full width, 4 predicted frames):

* `matmul_gflops`: the float32 matrix-multiply rate of this machine, measured in
  the same run (before and after the workloads; the median of all timings), the
  peak that every workload is compared with.
* Inference, batch 1 (latency) and batch 8 (throughput), four ways: eager Keras,
  `tf.function`, `tf.function(jit_compile=True)` (XLA) and the exported
  SavedModel signature (`img2vid`, loaded with `tf.saved_model.load`).
  `inference_fp32_best` repeats the entry with the highest fraction of peak.
* `train_step_fp32`: one training step at batch 2 with all nine losses (the
  perceptual one through a VGG19 with random weights: the same FLOPs, nothing
  downloaded) on a cached batch, through the trainer users run;
  `train_step_fp32_input_pipeline`: the same with the real input pipeline
  reading synthetic data of the same size from disk, timed in one process
  alternately with steps on a cached batch of the same trainer, so that
  `input_pipeline_overhead` (the median over pairs of a real-data step and the
  cached step after it of their time ratio, minus one) is a same-run ratio:
  separate processes running the same cached step differed by 25% here, and
  within one run the machine has slow phases of a few steps, both far more than
  the pipeline costs.
* `inference_bf16`: `tf.function` under Keras' `mixed_bfloat16` policy, with its
  PSNR against the float32 frames on the same inputs, its `speedup_vs_fp32` over
  the fastest float32 inference at the same batch, and whether the CPU has
  native bfloat16 arithmetic (AVX512_BF16 or AMX); without it oneDNN emulates
  bfloat16 and the entry says so.

Every workload runs in its own process, so that its `peak_rss_mb` is its own.
FLOPs are counted from the workload's graph: its convolutions (and their
gradients) and matrix products, from the static shapes (`graph_gflop`;
TensorFlow's profiler miscounts the gradient graph, see there). Warm-up runs are
excluded; times are medians. `--quick` runs everything at 128x128, width x0.25
and batch 1 and 2, for CI.
"""

import dataclasses
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one benchmark run."""

    height: int = 128
    width: int = 256
    width_multiplier: float = 1.0
    num_predicted_frames: int = 4
    latency_batch: int = 1
    throughput_batch: int = 8
    train_batch: int = 2
    repeats: int = 5
    warmup: int = 2
    matmul_size: int = 2048

    def to_dict(self):
        return dataclasses.asdict(self)


PAPER = Settings()
QUICK = Settings(height=128, width=128, width_multiplier=0.25, throughput_batch=2, repeats=3,
                 warmup=1)

INFERENCE_PATHS = {
    "eager": "eager Keras: model(inputs, training=False) op by op",
    "function": "tf.function over model(inputs, training=False), one traced graph (Grappler, oneDNN)",
    "xla": "tf.function(jit_compile=True): the graph compiled by XLA",
    "savedmodel": "the exported SavedModel's img2vid signature (tf.saved_model.load), uint8 in "
                  "and out, prior latent from the seed",
}
WORKLOADS = tuple(f"inference_fp32_{path}_{kind}" for path in INFERENCE_PATHS
                  for kind in ("latency", "throughput")) + (
    "train_step_fp32", "train_step_fp32_input_pipeline", "inference_bf16")


# --------------------------------------------------------------------------- measuring
def median_seconds(function, repeats, warmup, clock=time.perf_counter):
    """Median wall time of `function()` over `repeats` runs after `warmup` runs; all runs.

    `clock` returns seconds (the tests pass a fake one).
    """
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = clock()
        function()
        times.append(clock() - start)
    return float(np.median(times)), times


def paired_median_seconds(first, second, repeats, warmup, clock=time.perf_counter):
    """Like `median_seconds` for two functions run alternately (first, second, first, ...).

    Interleaving makes their ratio a same-run ratio: a slow phase of the machine
    slows both alike.

    Returns:
        (median of `first`, median of `second`, times of `first`, times of `second`).
    """
    for _ in range(warmup):
        first()
        second()
    times_first, times_second = [], []
    for _ in range(repeats):
        for function, times in ((first, times_first), (second, times_second)):
            start = clock()
            function()
            times.append(clock() - start)
    return (float(np.median(times_first)), float(np.median(times_second)), times_first,
            times_second)


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_matmul_gflops(size, repeats=10, warmup=3, clock=time.perf_counter):
    """The float32 rate of a `size x size` matrix multiply in a `tf.function`, GFLOP/s.

    `clock` returns seconds (see `median_seconds`).

    Returns:
        (median rate, list of the rates of each run).
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    a = tf.random.stateless_uniform([size, size], seed=[1, 2])
    b = tf.random.stateless_uniform([size, size], seed=[3, 4])
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)[:1, :1]))
    _, times = median_seconds(lambda: matmul(a, b).numpy(), repeats, warmup, clock)
    rates = [2.0 * size ** 3 / t / 1e9 for t in times]
    return float(np.median(rates)), rates


def _shape(tensor):
    shape = tensor.shape
    return shape.as_list() if shape.rank is not None and shape.is_fully_defined() else None


def contraction_flops(op):
    """FLOPs (2 per multiply-add) of one convolution or matrix-product op, from static shapes.

    The forward convolutions (2-D, 3-D, depthwise), their input and filter
    gradients and (batched) matrix products; 0 for every other op and for
    shapes that are not static. Each convolution gradient costs what its
    forward convolution costs: 2 * output elements * kernel volume * input
    channels.
    """
    kind = op.type
    if kind in ("Conv2D", "Conv3D", "DepthwiseConv2dNative"):
        output, kernel = _shape(op.outputs[0]), _shape(op.inputs[1])
        if output is None or kernel is None:
            return 0
        per_output = math.prod(kernel[:-1])  # kernel volume * input channels
        if kind == "DepthwiseConv2dNative":
            per_output = math.prod(kernel[:-2])
        return 2 * math.prod(output) * per_output
    if kind in ("Conv2DBackpropInput", "Conv3DBackpropInputV2"):
        gradient, kernel = _shape(op.inputs[2]), _shape(op.inputs[1])
    elif kind in ("Conv2DBackpropFilter", "Conv3DBackpropFilterV2"):
        gradient, kernel = _shape(op.inputs[2]), _shape(op.outputs[0])
    elif kind in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a, out = _shape(op.inputs[0]), _shape(op.outputs[0])
        if a is None or out is None:
            return 0
        transpose_a = op.get_attr("transpose_a" if kind == "MatMul" else "adj_x")
        inner = a[-2] if transpose_a else a[-1]
        return 2 * math.prod(out) * inner
    else:
        return 0
    if gradient is None or kernel is None:
        return 0
    return 2 * math.prod(gradient) * math.prod(kernel[:-1])


def graph_gflop(concrete_function):
    """GFLOP of one call of a concrete function: its convolutions and matrix products.

    Counted from the graph's static shapes by `contraction_flops`, over the ops that
    the outputs depend on (elementwise ops, a few percent here, are left out).
    TensorFlow's profiler
    (`ProfileOptionBuilder.float_operation`) is not used: on the training graph it
    reported 674 GFLOP for `Conv2DBackpropFilter` alone and nothing for the forward
    convolutions (quick size, where this count gives 320 GFLOP in all), and it has
    no count for the 3-D convolution gradients.
    """
    graph = concrete_function.graph
    # Only the ops the outputs depend on: a gradient tape also builds gradients nobody
    # asked for (the frozen VGG19's filters), which Grappler prunes before running.
    live, stack = set(), [tensor.op for tensor in graph.outputs]
    while stack:
        op = stack.pop()
        if op.name in live:
            continue
        live.add(op.name)
        stack.extend(tensor.op for tensor in op.inputs)
        stack.extend(op.control_inputs)
    return sum(contraction_flops(op) for op in graph.get_operations() if op.name in live) / 1e9


def _cpu_info():
    """(model name, set of feature flags) of the first CPU in /proc/cpuinfo ('', {} elsewhere)."""
    model, features = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not features:
                    features = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return model, features


def cpu_has_native_bfloat16():
    """Whether the CPU does bfloat16 arithmetic natively (AVX512_BF16 or AMX-BF16)."""
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_info()[1])


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


def frames_psnr(reference, other):
    """PSNR in dB of `other` against `reference`, frames in [0, 1] (inf when identical)."""
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(other, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(1.0 / mse))


# --------------------------------------------------------------------------- workloads
def _model_config(settings):
    from seg2vid_tf.models.config import Img2VidConfig  # pylint: disable=import-outside-toplevel

    return Img2VidConfig(height=settings.height, width=settings.width,
                         width_multiplier=settings.width_multiplier,
                         num_predicted_frames=settings.num_predicted_frames)


def _inference_inputs(config, batch, seed=0):
    """Deterministic inputs of one inference call: a start frame, a label map, z, noise."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf.models import config as config_lib  # pylint: disable=import-outside-toplevel

    return {
        "video": tf.random.stateless_uniform([batch, 1, config.height, config.width, 3],
                                             seed=[seed, 1]),
        "label_map": tf.random.stateless_uniform([batch, config.height, config.width],
                                                 seed=[seed, 2], maxval=config_lib.NUM_CLASSES,
                                                 dtype=tf.int32),
        "z": tf.random.stateless_normal([batch, config.latent_rows, config_lib.LATENT_ROW],
                                        seed=[seed, 3]),
        "noise": tf.random.stateless_normal([batch, config.height, config.width, 3],
                                            seed=[seed, 4]),
    }


def _input_signature(inputs):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return [{key: tf.TensorSpec(value.shape, value.dtype, name=key)
             for key, value in inputs.items()}]


def _build_model(config, seed=0):
    from seg2vid_tf.models.img2vid import Img2Vid  # pylint: disable=import-outside-toplevel

    return Img2Vid(config, seed=seed).build_for_size()


def _inference_workload(path, batch, settings, workdir):
    """(callable, GFLOP per call) of one inference path."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    config = _model_config(settings)
    model = _build_model(config)
    inputs = _inference_inputs(config, batch)

    def forward(values):
        return model(values, training=False)["frames"]

    counted = tf.function(forward, input_signature=_input_signature(inputs))
    gflop = graph_gflop(counted.get_concrete_function())
    if path == "eager":
        return (lambda: forward(inputs).numpy()), gflop
    if path in ("function", "xla"):
        compiled = tf.function(forward, input_signature=_input_signature(inputs),
                               jit_compile=path == "xla")
        return (lambda: compiled(inputs).numpy()), gflop
    if path == "savedmodel":
        from seg2vid_tf.models.seg2vid import Seg2Vid  # pylint: disable=import-outside-toplevel
        from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

        version = export.export_saved_model(Seg2Vid(model), os.path.join(workdir, "export"),
                                            config.num_predicted_frames)
        loaded = tf.saved_model.load(version)
        signature = loaded.signatures["img2vid"]
        frame = tf.cast(inputs["video"][:, 0] * 255.0, tf.uint8)
        seeds = tf.range(batch, dtype=tf.int64)

        def call():
            return signature(first_frame=frame, label_map=inputs["label_map"],
                             seed=seeds)["frames"].numpy()
        return call, gflop
    raise ValueError(f"Unknown inference path {path!r}; known: {sorted(INFERENCE_PATHS)}.")


def _write_vgg19(path):
    """A VGG19 with random weights (the FLOPs of the real one; nothing downloaded)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf import convert  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models.vgg19 import VGG19Features  # pylint: disable=import-outside-toplevel

    network = VGG19Features()
    network(tf.zeros([1, 32, 32, 3]))
    return convert.save_vgg19(network, path)


def _train_workload(settings, workdir):
    """One training step through `trainer.Trainer`, on real and on cached data.

    Returns:
        (step on the real input pipeline, step on one cached batch, GFLOP per
        step): two callables stepping the same trainer, the first reading clips
        from disk through `trainer.train_dataset`, the second repeating one batch
        of it from memory.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf import losses  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import trainer as trainer_lib  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training.config import TrainConfig  # pylint: disable=import-outside-toplevel

    data_dir = os.path.join(workdir, "data")
    synthetic.generate_dataset(data_dir, 3, settings.num_predicted_frames + 2, settings.height,
                               settings.width, seed=0, val_fraction=0.34, num_workers=1)
    config = TrainConfig(
        model=_model_config(settings), dataset="synthetic", data_dir=data_dir,
        batch_size=settings.train_batch, train_steps=10 ** 6,
        loss_weights=tuple(sorted(losses.DEFAULT_WEIGHTS.items())),
        vgg19_weights=_write_vgg19(os.path.join(workdir, "vgg19.npz")))
    trainer = trainer_lib.Trainer(config, os.path.join(workdir, "model"))
    real_iterator = trainer.iterator
    cached = trainer_lib.train_dataset(config).take(1).cache().repeat()
    cached_iterator = iter(trainer.strategy.experimental_distribute_dataset(cached))

    def step_on(iterator):
        trainer.iterator = iterator
        terms, finite = trainer.train_step()
        if not finite:
            raise RuntimeError(f"The benchmark's training step was not finite: {terms}")

    batch = next(iter(trainer_lib.train_dataset(config)))

    def objective_and_gradients(values):
        with tf.GradientTape() as tape:
            objective, _, _ = trainer._replica_objective(values)  # pylint: disable=protected-access
        return tape.gradient(objective, trainer.model.trainable_variables)

    signature = [{key: tf.TensorSpec(value.shape, value.dtype) for key, value in batch.items()}]
    counted = tf.function(objective_and_gradients, input_signature=signature)
    # The optimizer's update (a few FLOPs per weight) is left out of the count.
    return (lambda: step_on(real_iterator), lambda: step_on(cached_iterator),
            graph_gflop(counted.get_concrete_function()))


def _bf16_workload(settings, batch):
    """(callable, GFLOP, extra fields) of mixed_bfloat16 inference, with its PSNR."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf.models import precision  # pylint: disable=import-outside-toplevel

    config = _model_config(settings)
    reference = _build_model(config)
    inputs = _inference_inputs(config, batch)
    frames_fp32 = reference(inputs, training=False)["frames"].numpy()
    with precision.policy_scope("mixed_bfloat16"):
        model = _build_model(config)
    for target, source in zip(model.weights, reference.weights):
        target.assign(source)

    def forward(values):
        return tf.cast(model(values, training=False)["frames"], tf.float32)

    compiled = tf.function(forward, input_signature=_input_signature(inputs))
    frames_bf16 = compiled(inputs).numpy()
    extra = {
        "psnr_db_vs_fp32": frames_psnr(np.clip(frames_fp32, 0, 1), np.clip(frames_bf16, 0, 1)),
        "native_bfloat16": cpu_has_native_bfloat16(),
    }
    return (lambda: compiled(inputs).numpy()), graph_gflop(compiled.get_concrete_function()), extra


def run_workload(name, settings, workdir):
    """Measures one workload in this process; returns its result entry (no fraction yet)."""
    extra = {}
    measured = None
    if name.startswith("inference_fp32_"):
        path, kind = name[len("inference_fp32_"):].rsplit("_", 1)
        batch = settings.latency_batch if kind == "latency" else settings.throughput_batch
        function, gflop = _inference_workload(path, batch, settings, workdir)
        how = f"{INFERENCE_PATHS[path]}; batch {batch} ({kind})"
    elif name in ("train_step_fp32", "train_step_fp32_input_pipeline"):
        real = name.endswith("input_pipeline")
        batch = settings.train_batch
        real_step, cached_step, gflop = _train_workload(settings, workdir)
        how = (f"Trainer.train_step, batch {batch}, all nine losses (VGG19 perceptual, random "
               "weights), Adam; " + ("the tf.data pipeline decoding PNG clips from disk, "
                                     "alternating with steps on a cached batch"
                                     if real else "one cached batch"))
        if real:
            median, cached_median, times, cached_times = paired_median_seconds(
                real_step, cached_step, settings.repeats, settings.warmup)
            measured = median, times
            # Each real-data step against the cached step right after it: the machine's
            # slow phases (minutes long on a shared host) cancel in each pair.
            ratios = [real_time / cached_time for real_time, cached_time in zip(times, cached_times)]
            extra = {"cached_median_s": cached_median, "cached_times_s": cached_times,
                     "overhead_vs_cached": float(np.median(ratios)) - 1.0}
        else:
            function = cached_step
    elif name == "inference_bf16":
        batch = settings.throughput_batch
        function, gflop, extra = _bf16_workload(settings, batch)
        how = (f"tf.function under keras mixed_bfloat16 (bfloat16 compute, float32 weights), "
               f"batch {batch}; "
               + ("native bfloat16 on this CPU" if extra["native_bfloat16"] else
                  "this CPU has no native bfloat16 (no AVX512_BF16/AMX): oneDNN emulates it"))
    else:
        raise ValueError(f"Unknown workload {name!r}; known: {', '.join(WORKLOADS)}.")
    median, times = measured or median_seconds(function, settings.repeats, settings.warmup)
    return dict({
        "gflop": gflop,
        "gflop_per_clip": gflop / batch,
        "batch": batch,
        "median_s": median,
        "times_s": times,
        "clips_per_second": batch / median,
        "peak_rss_mb": peak_rss_mb(),
        "how": how,
    }, **extra)


# --------------------------------------------------------------------------- driver
def _run_in_subprocess(name, settings, timeout):
    """Runs one workload in a fresh Python process; its result entry or an error entry."""
    with tempfile.TemporaryDirectory(prefix=f"seg2vid_bench_{name}_") as workdir:
        result_path = os.path.join(workdir, "result.json")
        command = [sys.executable, "-m", "seg2vid_tf.benchmark", f"--worker={name}",
                   f"--worker_settings={json.dumps(settings.to_dict())}",
                   f"--worker_output={result_path}", f"--worker_dir={workdir}"]
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get(
            "TF_CPP_MIN_LOG_LEVEL", "2"))
        try:
            process = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                     env=environment, check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout} s"}
        if process.returncode != 0 or not os.path.isfile(result_path):
            tail = (process.stderr or process.stdout).strip().splitlines()[-5:]
            return {"error": f"exit code {process.returncode}: " + " | ".join(tail)}
        with open(result_path, encoding="utf-8") as handle:
            return json.load(handle)


def run_benchmark(settings, workloads=WORKLOADS, timeout=1800, progress=True):
    """The whole benchmark (see the module docstring); returns the JSON object.

    Args:
        settings: A `Settings` (`PAPER` or `QUICK`).
        workloads: Names from `WORKLOADS`.
        timeout: Seconds each workload's process may take.
        progress: Print a line per workload.

    Raises:
        ValueError: An unknown workload name.
    """
    unknown = [name for name in workloads if name not in WORKLOADS]
    if unknown:
        raise ValueError(f"Unknown workloads {unknown}; known: {', '.join(WORKLOADS)}.")
    started = time.time()
    matmul_before, rates_before = measure_matmul_gflops(settings.matmul_size)
    results = {}
    for index, name in enumerate(workloads):
        if progress:
            print(f"[{index + 1}/{len(workloads)}] {name} ...", end=" ", flush=True)
        results[name] = _run_in_subprocess(name, settings, timeout)
        if progress:
            entry = results[name]
            print(entry.get("error") or f"{entry['median_s']:.3f} s, {entry['gflop']:.1f} GFLOP, "
                                        f"{entry['peak_rss_mb']:.0f} MiB", flush=True)
    matmul_after, rates_after = measure_matmul_gflops(settings.matmul_size)
    peak = float(np.median(rates_before + rates_after))
    for entry in results.values():
        if "error" not in entry:
            entry["gflops"] = entry["gflop"] / entry["median_s"]
            entry["fraction_of_peak"] = entry["gflops"] / peak
    inference = {name: entry for name, entry in results.items()
                 if name.startswith("inference_fp32_") and "error" not in entry}
    if inference:
        best = max(inference, key=lambda name: inference[name]["fraction_of_peak"])
        results["inference_fp32_best"] = dict(inference[best], how=f"{best}: {inference[best]['how']}")
    add_bf16_speedup(results)
    fed = results.get("train_step_fp32_input_pipeline", {})
    report = {
        "matmul_gflops": peak,
        "matmul": {"size": settings.matmul_size, "before_gflops": matmul_before,
                   "after_gflops": matmul_after},
        "settings": settings.to_dict(),
        "machine": machine_info(),
        "workloads": results,
        "seconds": time.time() - started,
    }
    if "overhead_vs_cached" in fed:
        report["input_pipeline_overhead"] = fed["overhead_vs_cached"]
    return report


def add_bf16_speedup(results):
    """Adds `speedup_vs_fp32` to `results["inference_bf16"]`, in place.

    The speed-up is the median time of the fastest float32 inference entry at the
    same batch size divided by the bfloat16 median; `fp32_reference` names that
    entry. Nothing is added when either side is missing or failed.
    """
    bf16 = results.get("inference_bf16", {})
    if "median_s" not in bf16:
        return
    same_batch = {name: entry for name, entry in results.items()
                  if name.startswith("inference_fp32_") and name != "inference_fp32_best"
                  and entry.get("batch") == bf16["batch"] and "median_s" in entry}
    if not same_batch:
        return
    fastest = min(same_batch, key=lambda name: same_batch[name]["median_s"])
    bf16["fp32_reference"] = fastest
    bf16["speedup_vs_fp32"] = same_batch[fastest]["median_s"] / bf16["median_s"]


def define_flags():
    """The benchmark's flags (idempotent)."""
    define_flag("string", "output_json", None, "Where the results JSON is written.")
    define_flag("string", "output_svg", None,
                "Optional: also write the fractions of peak as an SVG bar chart here.")
    define_flag("bool", "quick", False, "Small sizes and few repeats (CI): 128x128, width x0.25.")
    define_flag("list", "workloads", list(WORKLOADS), "Workloads to run (default: all).")
    define_flag("integer", "repeats", None, "Timed runs per workload (default: 5, quick 3).")
    define_flag("integer", "workload_timeout", 1800, "Seconds each workload's process may take.")
    define_flag("string", "worker", None, "Internal: run this one workload and exit.")
    define_flag("string", "worker_settings", None, "Internal: the worker's settings (JSON).")
    define_flag("string", "worker_output", None, "Internal: where the worker writes its result.")
    define_flag("string", "worker_dir", None, "Internal: the worker's scratch directory.")


def main(argv):
    del argv
    values = flags.FLAGS
    if values.worker:
        settings = Settings(**json.loads(values.worker_settings))
        result = run_workload(values.worker, settings, values.worker_dir)
        with open(values.worker_output, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return
    if not values.output_json:
        raise app.UsageError("--output_json is required: where the results JSON is written.")
    settings = QUICK if values.quick else PAPER
    if values.repeats is not None:
        if values.repeats < 1:
            raise app.UsageError(f"--repeats must be >= 1, got {values.repeats}.")
        settings = dataclasses.replace(settings, repeats=values.repeats)
    try:
        report = run_benchmark(settings, tuple(values.workloads),
                               timeout=values.workload_timeout)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    directory = os.path.dirname(os.path.abspath(values.output_json))
    os.makedirs(directory, exist_ok=True)
    with open(values.output_json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    if values.output_svg:
        with open(values.output_svg, "w", encoding="utf-8") as handle:
            handle.write(chart_svg(report))
    print(format_table(report))
    print(values.output_json)


def chart_svg(report):
    """The fraction of the matmul peak of each workload as an SVG bar chart (README picture).

    `inference_fp32_best` is left out (it repeats an entry); failed workloads get a
    label and no bar. Dashed lines mark the peak and issue 8's targets; bars are blue
    for float32 inference, green for training and orange for bfloat16.
    """
    from seg2vid_tf import report as report_lib  # pylint: disable=import-outside-toplevel

    bars = {name: entry.get("fraction_of_peak", float("nan"))
            for name, entry in report["workloads"].items() if name != "inference_fp32_best"}
    settings = report["settings"]
    title = (f"{settings['height']}x{settings['width']}, width x{settings['width_multiplier']:g}: "
             f"GFLOP/s over the float32 matmul peak ({report['matmul_gflops']:.0f} GFLOP/s)")
    colors = {name: ("#ff7f0e" if "bf16" in name else "#2ca02c" if name.startswith("train")
                     else "#1f77b4") for name in bars}
    return report_lib.bar_chart_svg(
        bars, title, "fraction of the measured float32 matmul peak",
        marks={"training target 0.6": 0.6, "inference target 0.75": 0.75, "peak": 1.0},
        colors=colors)


def format_table(report):
    """The results as a Markdown table (what the README shows)."""
    lines = [f"float32 matmul peak: {report['matmul_gflops']:.1f} GFLOP/s "
             f"({report['matmul']['size']}^3, median of the runs before and after)", "",
             "| workload | batch | GFLOP | median s | clips/s | GFLOP/s | of peak | peak RSS MiB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, entry in report["workloads"].items():
        if "error" in entry:
            lines.append(f"| {name} | | | {entry['error']} | | | | |")
            continue
        lines.append(f"| {name} | {entry['batch']} | {entry['gflop']:.1f} | "
                     f"{entry['median_s']:.3f} | {entry['clips_per_second']:.2f} | "
                     f"{entry['gflops']:.1f} | {100 * entry['fraction_of_peak']:.0f}% | "
                     f"{entry['peak_rss_mb']:.0f} |")
    bf16 = report["workloads"].get("inference_bf16", {})
    if "speedup_vs_fp32" in bf16:
        lines.append(f"\nbfloat16 inference: {bf16['speedup_vs_fp32']:.2f}x the float32 "
                     f"{bf16['fp32_reference']}, {bf16['psnr_db_vs_fp32']:.1f} dB PSNR against "
                     "its frames")
    if "input_pipeline_overhead" in report:
        lines.append(f"\ninput pipeline overhead: {100 * report['input_pipeline_overhead']:+.1f}%")
    return "\n".join(lines)


if __name__ == "__main__":
    define_flags()
    cli.run(main)
