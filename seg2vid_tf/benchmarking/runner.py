"""The whole benchmark: the matmul peak before and after, each workload in its own process.

Every workload runs in a fresh `python -m seg2vid_tf.benchmark --worker=NAME`
process (`run_worker` there), so that its `peak_rss_mb` is its own; the
results are compared with the median matmul rate (`fraction_of_peak`).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from seg2vid_tf.benchmarking.machine import machine_info
from seg2vid_tf.benchmarking.settings import WORKLOADS, Settings
from seg2vid_tf.benchmarking.tables import chart_svg
from seg2vid_tf.benchmarking.timing import measure_matmul_gflops
from seg2vid_tf.benchmarking.workloads import run_workload


def run_worker(name, settings_json, workdir, output_path):
    """The worker process of `_run_in_subprocess`: measures workload `name` here and writes
    its result entry as JSON to `output_path`.

    Args:
        name: A name from `WORKLOADS`.
        settings_json: The `Settings` as a JSON object.
        workdir: Scratch directory.
        output_path: Where the entry is written.
    """
    settings = Settings(**json.loads(settings_json))
    result = run_workload(name, settings, workdir)
    with open(output_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


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


def write_outputs(report, output_json, output_svg=None):
    """Writes `report` as JSON to `output_json` and, when given, its chart to `output_svg`."""
    directory = os.path.dirname(os.path.abspath(output_json))
    os.makedirs(directory, exist_ok=True)
    with open(output_json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    if output_svg:
        with open(output_svg, "w", encoding="utf-8") as handle:
            handle.write(chart_svg(report))
