"""The benchmark command: the JSON contract at CI size, and the library names it re-exports."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from seg2vid_tf import benchmark
from seg2vid_tf.benchmarking import flops, machine, runner, settings, tables, timing, workloads

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_old_names_are_the_library_objects():
    modules = (flops, machine, runner, settings, tables, timing, workloads)
    for name in benchmark.__all__:
        homes = [module for module in modules if hasattr(module, name)]
        if name not in ("define_flags", "main"):
            assert homes and getattr(benchmark, name) is getattr(homes[0], name), name


def test_quick_command_writes_the_contract(tmp_path):
    """`--quick` at CI size: every field of the public contract, for two workloads.

    One inference path and the training step with its input pipeline (which times the
    cached-batch step as well); the other names differ only in the callable timed.
    """
    output = tmp_path / "bench.json"
    workloads = "inference_fp32_function_latency,train_step_fp32_input_pipeline"
    process = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.benchmark", f"--output_json={output}", "--quick",
         f"--output_svg={tmp_path / 'bench.svg'}",
         f"--workloads={workloads}", "--repeats=2"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=900, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert process.returncode == 0, process.stderr[-3000:]
    report = json.loads(output.read_text())
    # The peak is the median of the rates measured before and after the workloads, so it
    # lies between the two runs' medians.
    matmul = report["matmul"]
    assert (min(matmul["before_gflops"], matmul["after_gflops"]) <= report["matmul_gflops"]
            <= max(matmul["before_gflops"], matmul["after_gflops"]))
    assert report["settings"]["width_multiplier"] == benchmark.QUICK.width_multiplier
    assert report["machine"]["cores_available"] >= 1
    entries = report["workloads"]
    for name in workloads.split(",") + ["inference_fp32_best"]:
        entry = entries[name]
        assert "error" not in entry, (name, entry)
        for key in ("gflop", "median_s", "fraction_of_peak", "peak_rss_mb", "how"):
            assert key in entry, (name, key)
        assert entry["gflop"] > 0 and entry["peak_rss_mb"] > 50
        assert len(entry["times_s"]) == 2  # --repeats=2
        assert entry["median_s"] == pytest.approx(float(np.median(entry["times_s"])), rel=1e-12)
        assert entry["fraction_of_peak"] == pytest.approx(
            entry["gflop"] / entry["median_s"] / report["matmul_gflops"])
    fed = entries["train_step_fp32_input_pipeline"]
    # A training step costs about three forward passes and more (losses, VGG19).
    assert fed["gflop"] > 2 * entries["inference_fp32_function_latency"][
        "gflop"] * benchmark.QUICK.train_batch / benchmark.QUICK.latency_batch
    best = entries["inference_fp32_best"]
    assert best["fraction_of_peak"] == entries["inference_fp32_function_latency"][
        "fraction_of_peak"]
    # The input pipeline's entry: real-data steps timed alternately with cached ones.
    assert len(fed["cached_times_s"]) == len(fed["times_s"]) == 2
    assert report["input_pipeline_overhead"] == pytest.approx(float(np.median(
        np.array(fed["times_s"]) / np.array(fed["cached_times_s"]))) - 1.0)
    assert "| train_step_fp32_input_pipeline |" in process.stdout
    assert "input pipeline overhead" in process.stdout
    chart = (tmp_path / "bench.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<rect") == len(workloads.split(","))


def test_command_needs_an_output(tmp_path):
    process = subprocess.run([sys.executable, "-m", "seg2vid_tf.benchmark", "--quick"],
                             capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                             check=False)
    assert process.returncode == 2 and "error: --output_json is required" in process.stderr
