"""The steps-per-second arithmetic of tools/compare_train_speed.py."""

import pytest

from tools import compare_train_speed


def test_start_up_cancels_out():
    # 30 s of start-up in both runs, 0.5 s per step: 5 steps -> 32.5 s, 25 steps -> 42.5 s.
    assert compare_train_speed.steps_per_second(32.5, 42.5, 5, 25) == pytest.approx(2.0)


def test_a_long_run_no_slower_than_the_short_one_is_refused():
    with pytest.raises(ValueError, match="raise --long_steps"):
        compare_train_speed.steps_per_second(40.0, 39.0, 5, 25)


def test_the_step_counts_must_differ():
    with pytest.raises(ValueError, match="must exceed"):
        compare_train_speed.compare("HEAD", "unused.cfg", 10, 10, 1)
