"""Diversity metrics, each against a hand or SciPy computation (end to end: evaluate_test)."""

import numpy as np
import pytest
from scipy import stats

from seg2vid_tf.evaluation import diversity


def test_rank_correlation_is_spearman():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 5, 12).astype(float)  # ties on purpose
        y = x * 0.3 + rng.normal(size=12)
        assert diversity.rank_correlation(x, y) == pytest.approx(stats.spearmanr(x, y)[0],
                                                                 abs=1e-12)
    assert diversity.rank_correlation([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert diversity.rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(diversity.rank_correlation([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="equal-length"):
        diversity.rank_correlation([1, 2], [1, 2, 3])


def test_flow_magnitude_and_pairwise_l1_by_hand():
    flow = np.zeros((2, 1, 2, 2, 2))
    flow[0, ..., 0] = 3.0
    flow[0, ..., 1] = 4.0  # length 5 everywhere in clip 0
    flow[1, 0, 0, 0] = [6.0, 8.0]  # length 10 on one pixel of clip 1
    np.testing.assert_allclose(diversity.mean_flow_magnitude(flow), [5.0, 2.5])
    valid = np.zeros((2, 1, 2, 2), bool)
    valid[:, 0, 0, 0] = True
    np.testing.assert_allclose(diversity.mean_flow_magnitude(flow, valid), [5.0, 10.0])
    samples = np.stack([np.zeros((2, 3)), np.ones((2, 3)), np.full((2, 3), 3.0)])
    # pairs: |0-1| = 1, |0-3| = 3, |1-3| = 2 -> mean 2, for both clips
    np.testing.assert_allclose(diversity.pairwise_l1(samples), [2.0, 2.0])


def test_accumulator_counts_active_dims_and_coverage():
    accumulator = diversity.DiversityAccumulator()
    latent = np.zeros((4, 3))
    latent[:, 0] = [0.0, 0.5, 1.0, 1.5]  # variance 0.3125: active
    latent[:, 1] = [0.0, 0.1, 0.0, 0.1]  # variance 0.0025: not active
    flows = lambda speeds: np.ones((4, 1, 1, 1, 2)) * np.asarray(speeds)[:, None, None, None,
                                                                         None] / np.sqrt(2)
    truth = flows([1.0, 2.0, 3.0, 5.0])  # spread 4
    sample_flows = [flows([1.0, 1.0, 2.0, 2.0]), flows([2.0, 3.0, 2.0, 4.0])]  # spreads 1,2,0,2
    frames = [np.zeros((4, 1, 1, 1, 3)), np.full((4, 1, 1, 1, 3), 0.25)]
    accumulator.add(["a", "b", "c", "d"], latent, flows([4.0, 3.0, 2.0, 1.0]), frames,
                    sample_flows, truth, np.ones((4, 1, 1, 1), bool))
    result = accumulator.summary(camera_speed=np.array([0.4, 0.3, 0.2, 0.1]))
    assert result["latent_active_dims"] == 1
    assert result["sample_diversity_l1"] == pytest.approx(0.25)
    assert result["speed_spearman"] == pytest.approx(1.0)
    assert result["speed_spearman_truth"] == pytest.approx(-1.0)  # truth rises, speed falls
    assert result["prior_speed_coverage"] == pytest.approx((1 + 2 + 0 + 2) / 4 / 4)
    without_speeds = accumulator.summary(camera_speed=None)
    assert "speed_spearman_note" in without_speeds
    assert "speed_spearman_truth" not in without_speeds


def test_sequence_of_strips_the_frame_and_suffix():
    assert diversity.sequence_of(b"synthetic_000012_000003_leftImg8bit") == "synthetic_000012"
    assert diversity.sequence_of("a_b_000001_000000_leftImg8bit") == "a_b_000001"


def test_bootstrap_interval_by_hand_with_two_sequences():
    # Resamples are A+A (Spearman 1), B+B (-1) or A+B, each pair about a quarter of the draws:
    # the 2.5th and 97.5th percentiles are -1 and 1.
    x, y = [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 1.0, 0.0]
    assert diversity.grouped_bootstrap_interval(x, y, ["A", "A", "B", "B"]) == [-1.0, 1.0]
    assert diversity.grouped_bootstrap_interval(x, y, ["A"] * 4) is None
    with pytest.raises(ValueError, match="3 labels for 4 samples"):
        diversity.grouped_bootstrap_interval(x, y, ["A", "A", "B"])


def test_bootstrap_resamples_whole_sequences_not_clips():
    rng = np.random.default_rng(1)
    speeds = rng.uniform(0.1, 1.5, 6)
    flows = speeds + rng.normal(scale=0.4, size=6)
    # Five clips per sequence, each a copy of its sequence's values.
    x, y = np.repeat(speeds, 5), np.repeat(flows, 5)
    by_sequence = diversity.grouped_bootstrap_interval(x, y, np.repeat(np.arange(6), 5))
    by_clip = diversity.grouped_bootstrap_interval(x, y, np.arange(30))
    # Six independent sequences say less than thirty clips would: a wider interval.
    assert by_sequence[1] - by_sequence[0] > 1.3 * (by_clip[1] - by_clip[0])
    monotone = np.arange(12, dtype=float)
    assert diversity.grouped_bootstrap_interval(monotone, 2 * monotone,
                                                np.arange(12) // 3) == [1.0, 1.0]


def test_accumulator_reports_the_interval_over_sequences():
    accumulator = diversity.DiversityAccumulator()
    clips = [f"synthetic_{seq:06d}_{frame:06d}_leftImg8bit" for seq in range(5) for frame in (0, 4)]
    speeds = np.repeat([0.1, 0.5, 0.3, 0.9, 1.2], 2)
    flow = np.ones((10, 1, 1, 1, 2)) * np.array([1, 4, 5, 6, 9, 8, 7, 11, 12, 10])[
        :, None, None, None, None] / np.sqrt(2)
    accumulator.add(clips, reconstruction_flow=flow)
    result = accumulator.summary(camera_speed=speeds)
    low, high = result["speed_spearman_interval"]
    assert -1.0 <= low <= result["speed_spearman"] <= high <= 1.0
    assert low < high
