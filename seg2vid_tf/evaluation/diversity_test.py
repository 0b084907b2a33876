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
