"""Wall-clock measurements: medians after warm-up, alternated pairs, the matmul peak, memory.

Every function takes a `clock` returning seconds, so that the tests pass a fake
one and no assertion depends on the machine's speed.
"""

import resource
import time

import numpy as np


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
