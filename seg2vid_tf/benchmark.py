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

This module is the command line; the benchmark is the library
`seg2vid_tf.benchmarking`: `settings`, `timing`, `flops`, `machine`,
`workloads` (one workload measured in its process), `runner` (the whole run,
each workload in a subprocess of this command) and `tables` (Markdown table,
SVG chart). Their names are re-exported here, so `seg2vid_tf.benchmark.X`
keeps working.
"""
import dataclasses

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.benchmarking import runner
from seg2vid_tf.benchmarking.flops import contraction_flops, graph_gflop
from seg2vid_tf.benchmarking.machine import (
    cpu_has_native_bfloat16,
    machine_info,
    threading_environment,
)
from seg2vid_tf.benchmarking.runner import add_bf16_speedup, run_benchmark
from seg2vid_tf.benchmarking.settings import INFERENCE_PATHS, PAPER, QUICK, WORKLOADS, Settings
from seg2vid_tf.benchmarking.tables import chart_svg, format_table
from seg2vid_tf.benchmarking.timing import (
    measure_matmul_gflops,
    median_seconds,
    paired_median_seconds,
    peak_rss_mb,
)
from seg2vid_tf.benchmarking.workloads import frames_psnr, run_workload
from seg2vid_tf.command_flags import define_flag

__all__ = [
    "INFERENCE_PATHS",
    "PAPER",
    "QUICK",
    "Settings",
    "WORKLOADS",
    "add_bf16_speedup",
    "chart_svg",
    "contraction_flops",
    "cpu_has_native_bfloat16",
    "define_flags",
    "format_table",
    "frames_psnr",
    "graph_gflop",
    "machine_info",
    "main",
    "measure_matmul_gflops",
    "median_seconds",
    "paired_median_seconds",
    "peak_rss_mb",
    "run_benchmark",
    "run_workload",
    "threading_environment",
]


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
        runner.run_worker(values.worker, values.worker_settings, values.worker_dir,
                          values.worker_output)
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
    runner.write_outputs(report, values.output_json, values.output_svg)
    print(format_table(report))
    print(values.output_json)


if __name__ == "__main__":
    define_flags()
    cli.run(main)
