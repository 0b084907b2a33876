"""The workloads' helpers (the workloads themselves run in `benchmark_test.py`)."""

import numpy as np
import pytest

from seg2vid_tf.benchmarking.workloads import frames_psnr


def test_frames_psnr():
    a = np.zeros([2, 4, 4, 3])
    assert frames_psnr(a, a) == float("inf")
    assert frames_psnr(a, a + 0.1) == pytest.approx(20.0)
