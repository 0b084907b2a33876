"""The timing functions on a fake clock: warm-ups excluded, pairs alternated, matmul rate."""

import pytest

from seg2vid_tf.benchmarking import timing


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
    median, times = timing.median_seconds(function, repeats=3, warmup=2, clock=clock)
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

    median_a, median_b, times_a, times_b = timing.paired_median_seconds(
        first, second, repeats=3, warmup=1, clock=clock)
    assert calls == ["a", "b"] * 4
    assert times_a == [4.0, 8.0, 6.0] and times_b == [1.0, 3.0, 2.0]
    assert (median_a, median_b) == (6.0, 2.0)


def test_matmul_rate_is_the_flops_over_the_measured_time():
    # Every reading moves the clock by 0.125 s, so each timed product takes 0.125 s.
    rate, rates = timing.measure_matmul_gflops(128, repeats=3, warmup=1,
                                               clock=FakeClock(step=0.125))
    expected = 2 * 128 ** 3 / 0.125 / 1e9
    assert rates == pytest.approx([expected] * 3, rel=1e-12)
    assert rate == pytest.approx(expected, rel=1e-12)
