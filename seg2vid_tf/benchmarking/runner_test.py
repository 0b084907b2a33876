"""The benchmark run: the bfloat16 speed-up and the workload names checked first."""

import pytest

from seg2vid_tf.benchmarking import runner
from seg2vid_tf.benchmarking.settings import QUICK


def test_bf16_speedup_is_against_the_fastest_float32_entry_at_the_same_batch():
    results = {
        "inference_fp32_function_throughput": {"batch": 8, "median_s": 10.0},
        "inference_fp32_savedmodel_throughput": {"batch": 8, "median_s": 8.0},
        "inference_fp32_savedmodel_latency": {"batch": 1, "median_s": 0.5},
        "inference_fp32_xla_throughput": {"error": "timed out after 1800 s"},
        "inference_fp32_best": {"batch": 1, "median_s": 0.5},
        "inference_bf16": {"batch": 8, "median_s": 4.0},
    }
    runner.add_bf16_speedup(results)
    assert results["inference_bf16"]["fp32_reference"] == "inference_fp32_savedmodel_throughput"
    assert results["inference_bf16"]["speedup_vs_fp32"] == pytest.approx(2.0)
    failed = {"inference_bf16": {"error": "exit code 1"},
              "inference_fp32_function_throughput": {"batch": 8, "median_s": 10.0}}
    runner.add_bf16_speedup(failed)
    assert "speedup_vs_fp32" not in failed["inference_bf16"]


def test_unknown_workloads_are_refused():
    with pytest.raises(ValueError, match="Unknown workloads"):
        runner.run_benchmark(QUICK, workloads=("inference_fp64",))



def test_best_inference_entry_is_the_highest_fraction_of_the_measured_peak(monkeypatch):
    """The choice among several inference paths (the command test times only one)."""
    seconds = {"inference_fp32_function_latency": 0.2, "inference_fp32_eager_latency": 0.5}

    def fake_run(name, settings, timeout):
        if name not in seconds:
            return {"error": "exit code 1"}
        return {"median_s": seconds[name], "gflop": 10.0, "peak_rss_mb": 100.0, "how": "fake"}

    monkeypatch.setattr(runner, "_run_in_subprocess", fake_run)
    monkeypatch.setattr(runner, "measure_matmul_gflops", lambda size: (100.0, [90.0, 110.0]))
    report = runner.run_benchmark(QUICK, workloads=(
        "inference_fp32_eager_latency", "inference_fp32_xla_latency",
        "inference_fp32_function_latency"), progress=False)
    best = report["workloads"]["inference_fp32_best"]
    assert best["how"] == "inference_fp32_function_latency: fake"
    assert best["fraction_of_peak"] == pytest.approx(10.0 / 0.2 / 100.0)
    assert best["fraction_of_peak"] > report["workloads"]["inference_fp32_eager_latency"][
        "fraction_of_peak"]
