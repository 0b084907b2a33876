"""Tests for seg2vid_tf.benchmark (the FLOP counts, the measurements and the command)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import benchmark

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_graph_gflop_counts_a_matrix_product():
    function = tf.function(lambda a, b: tf.matmul(a, b),
                           input_signature=[tf.TensorSpec([64, 32]), tf.TensorSpec([32, 16])])
    assert benchmark.graph_gflop(function.get_concrete_function()) == pytest.approx(
        2 * 64 * 32 * 16 / 1e9)


def test_graph_gflop_counts_3d_convolutions_and_their_gradients():
    kernel = tf.Variable(tf.random.normal([3, 3, 3, 4, 8]))
    inputs_spec = tf.TensorSpec([2, 5, 8, 8, 4])

    def forward(x):
        return tf.nn.conv3d(x, kernel, strides=[1] * 5, padding="SAME")

    def forward_and_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x))
        return [y] + tape.gradient(y, [x, kernel])

    def gradient_of_the_input_only(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(forward(x))
        return tape.gradient(y, x)  # the kernel's gradient and the forward pass are dead code

    # 2 * output elements * kernel volume * input channels.
    conv = 2 * (2 * 5 * 8 * 8 * 8) * 27 * 4 / 1e9
    assert benchmark.graph_gflop(tf.function(forward, input_signature=[inputs_spec])
                                 .get_concrete_function()) == pytest.approx(conv)
    both = benchmark.graph_gflop(tf.function(forward_and_backward, input_signature=[inputs_spec])
                                 .get_concrete_function())
    # Forward, gradient of the input and gradient of the kernel.
    assert both == pytest.approx(3 * conv)
    assert benchmark.graph_gflop(tf.function(gradient_of_the_input_only,
                                             input_signature=[inputs_spec])
                                 .get_concrete_function()) == pytest.approx(conv)


class FakeClock:
    """A clock that only moves when told to: durations are exact, nothing depends on the
    machine's speed."""

    def __init__(self, step=0.0):
        self.now = 1000.0
        self.step = step  # how far each reading moves it

    def __call__(self):
        reading = self.now
        self.now += self.step
        return reading

    def runs_for(self, durations):
        """A function whose successive calls take `durations` (seconds) on this clock."""
        remaining = iter(durations)

        def function():
            self.now += next(remaining)
        return function, remaining


def test_median_seconds_times_only_the_runs_after_the_warm_up():
    clock = FakeClock()
    # Two warm-up runs (100 s, 200 s: excluded), then three timed runs.
    function, remaining = clock.runs_for([100.0, 200.0, 3.0, 1.0, 2.0])
    median, times = benchmark.median_seconds(function, repeats=3, warmup=2, clock=clock)
    assert next(remaining, None) is None  # called exactly five times
    assert times == [3.0, 1.0, 2.0] and median == 2.0


def test_paired_median_seconds_alternates_the_two_functions():
    calls = []
    clock = FakeClock()
    run_a, _ = clock.runs_for([50.0, 4.0, 8.0, 6.0])
    run_b, _ = clock.runs_for([70.0, 1.0, 3.0, 2.0])

    def first():
        calls.append("a")
        run_a()

    def second():
        calls.append("b")
        run_b()

    median_a, median_b, times_a, times_b = benchmark.paired_median_seconds(
        first, second, repeats=3, warmup=1, clock=clock)
    assert calls == ["a", "b"] * 4
    assert times_a == [4.0, 8.0, 6.0] and times_b == [1.0, 3.0, 2.0]
    assert (median_a, median_b) == (6.0, 2.0)


def test_frames_psnr():
    a = np.zeros([2, 4, 4, 3])
    assert benchmark.frames_psnr(a, a) == float("inf")
    assert benchmark.frames_psnr(a, a + 0.1) == pytest.approx(20.0)


def test_matmul_rate_is_the_flops_over_the_measured_time():
    # Every reading moves the clock by 0.125 s, so each timed product takes 0.125 s.
    rate, rates = benchmark.measure_matmul_gflops(128, repeats=3, warmup=1,
                                                  clock=FakeClock(step=0.125))
    expected = 2 * 128 ** 3 / 0.125 / 1e9
    assert rates == pytest.approx([expected] * 3, rel=1e-12)
    assert rate == pytest.approx(expected, rel=1e-12)


def test_bf16_speedup_is_against_the_fastest_float32_entry_at_the_same_batch():
    results = {
        "inference_fp32_function_throughput": {"batch": 8, "median_s": 10.0},
        "inference_fp32_savedmodel_throughput": {"batch": 8, "median_s": 8.0},
        "inference_fp32_savedmodel_latency": {"batch": 1, "median_s": 0.5},
        "inference_fp32_xla_throughput": {"error": "timed out after 1800 s"},
        "inference_fp32_best": {"batch": 1, "median_s": 0.5},
        "inference_bf16": {"batch": 8, "median_s": 4.0},
    }
    benchmark.add_bf16_speedup(results)
    assert results["inference_bf16"]["fp32_reference"] == "inference_fp32_savedmodel_throughput"
    assert results["inference_bf16"]["speedup_vs_fp32"] == pytest.approx(2.0)
    failed = {"inference_bf16": {"error": "exit code 1"},
              "inference_fp32_function_throughput": {"batch": 8, "median_s": 10.0}}
    benchmark.add_bf16_speedup(failed)
    assert "speedup_vs_fp32" not in failed["inference_bf16"]


def test_threading_environment_keeps_thread_settings_and_drops_terraform():
    environment = {"OMP_NUM_THREADS": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "HOME": "/root",
                   "TF_CLI_CONFIG_FILE": "/root/.terraformrc", "ONEDNN_VERBOSE": "1"}
    assert benchmark.threading_environment(environment) == {
        "OMP_NUM_THREADS": "2", "ONEDNN_VERBOSE": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}


def test_unknown_workloads_are_refused():
    with pytest.raises(ValueError, match="Unknown workloads"):
        benchmark.run_benchmark(benchmark.QUICK, workloads=("inference_fp64",))


def test_quick_command_writes_the_contract(tmp_path):
    """`--quick` at CI size: every field of the public contract, for a subset of workloads."""
    output = tmp_path / "bench.json"
    workloads = ("inference_fp32_function_latency,inference_fp32_eager_latency,train_step_fp32,"
                 "train_step_fp32_input_pipeline")
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
    # A training step costs about three forward passes and more (losses, VGG19).
    assert entries["train_step_fp32"]["gflop"] > 2 * entries["inference_fp32_function_latency"][
        "gflop"] * benchmark.QUICK.train_batch / benchmark.QUICK.latency_batch
    best = entries["inference_fp32_best"]
    assert best["fraction_of_peak"] == max(entries[name]["fraction_of_peak"]
                                           for name in ("inference_fp32_function_latency",
                                                        "inference_fp32_eager_latency"))
    # The input pipeline's entry: real-data steps timed alternately with cached ones.
    fed = entries["train_step_fp32_input_pipeline"]
    assert fed["gflop"] == pytest.approx(entries["train_step_fp32"]["gflop"])
    assert len(fed["cached_times_s"]) == len(fed["times_s"]) == 2
    assert report["input_pipeline_overhead"] == pytest.approx(float(np.median(
        np.array(fed["times_s"]) / np.array(fed["cached_times_s"]))) - 1.0)
    assert "| train_step_fp32 |" in process.stdout
    assert "input pipeline overhead" in process.stdout
    chart = (tmp_path / "bench.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<rect") == len(workloads.split(","))


def test_command_needs_an_output(tmp_path):
    process = subprocess.run([sys.executable, "-m", "seg2vid_tf.benchmark", "--quick"],
                             capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                             check=False)
    assert process.returncode == 2 and "error: --output_json is required" in process.stderr
