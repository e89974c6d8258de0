"""The block bootstrap: resamples of whole days, AUC per resample as scikit-learn computes it, intervals that
cover the truth as often as they claim, and the paired comparison."""

import numpy as np
import pytest
from sklearn import metrics

from whalecast.evaluation import uncertainty
from whalecast.errors import InputError

SETTINGS = uncertainty.BootstrapSettings(seed=3, resamples=1000, block_days=1)


def test_a_resample_is_made_of_whole_blocks_of_consecutive_hours_wrapping_around_the_end():
    resamples = list(uncertainty.block_resamples(100, SETTINGS))
    for drawn in resamples:
        assert len(drawn) == 100
        blocks = np.split(drawn, range(24, 100, 24))
        assert all(np.array_equal(block, np.arange(block[0], block[0] + len(block)) % 100) for block in blocks)
    # Circular: the last hours are drawn as often as the middle ones (a plain moving block rarely draws them).
    counts = np.bincount(np.concatenate(resamples), minlength=100) / len(resamples)
    assert counts[-5:].mean() == pytest.approx(1, abs=0.1) and counts[45:55].mean() == pytest.approx(1, abs=0.1)


def test_weights_count_the_draws_and_are_reproducible():
    weights = uncertainty.resample_weights(100, SETTINGS)
    assert weights.shape == (1000, 100) and (weights.sum(axis=1) == 100).all()
    first = next(uncertainty.block_resamples(100, SETTINGS))
    np.testing.assert_array_equal(weights[0], np.bincount(first, minlength=100))
    np.testing.assert_array_equal(weights, uncertainty.resample_weights(100, SETTINGS))
    other = uncertainty.resample_weights(100, uncertainty.BootstrapSettings(seed=4, resamples=1000, block_days=1))
    assert not np.array_equal(weights, other)


def test_auc_of_every_resample_is_scikit_learns_weighted_auc():
    random = np.random.default_rng(0)
    labels = random.integers(0, 2, 300)
    scores = np.round(random.random(300) + 0.3 * labels, 1)  # rounded: many ties
    weights = uncertainty.resample_weights(300, uncertainty.BootstrapSettings(seed=1, resamples=1000, block_days=2))
    resampled = uncertainty.resampled_auc(labels, scores, weights)
    for row in range(0, 1000, 97):
        assert resampled[row] == pytest.approx(metrics.roc_auc_score(labels, scores, sample_weight=weights[row]),
                                               abs=1e-12)
    ones = np.ones((1, 300), dtype=np.int32)
    assert uncertainty.resampled_auc(labels, scores, ones)[0] == pytest.approx(metrics.roc_auc_score(labels, scores))


def test_the_interval_covers_the_true_auc_about_as_often_as_it_claims():
    """Scores that carry no information have a true AUC of 0.5; a 95% interval should cover it ~95% of the time."""
    random = np.random.default_rng(5)
    settings = uncertainty.BootstrapSettings(seed=9, resamples=1000, block_days=1)
    weights = uncertainty.resample_weights(480, settings)
    covered, widths = 0, []
    for _ in range(100):
        labels, scores = random.integers(0, 2, 480), random.random(480)
        low, high = uncertainty.interval(uncertainty.resampled_auc(labels, scores, weights), "roc_auc")
        covered += low <= 0.5 <= high
        widths.append(high - low)
    assert 88 <= covered <= 99
    # The standard error of an AUC near 0.5 on 480 hours is about 0.026: a 95% interval about 0.10 wide.
    assert 0.08 < np.mean(widths) < 0.12


def test_the_interval_is_wider_when_outcomes_cluster_in_days():
    """Whole days that go one way: resampling hours would claim a precision the data do not have."""
    random = np.random.default_rng(2)
    day_label = np.repeat(random.integers(0, 2, 40), 24)
    scores = np.repeat(random.random(40), 24) + random.random(960) * 0.1
    by_day = uncertainty.interval(uncertainty.resampled_auc(day_label, scores, uncertainty.resample_weights(
        960, uncertainty.BootstrapSettings(seed=1, resamples=1000, block_days=1))), "roc_auc")
    hourly_weights = np.stack([np.bincount(random.integers(0, 960, 960), minlength=960) for _ in range(1000)])
    by_hour = uncertainty.interval(uncertainty.resampled_auc(day_label, scores, hourly_weights), "roc_auc")
    assert by_day[1] - by_day[0] > 2 * (by_hour[1] - by_hour[0])


def compare_auc(labels, scores, other_scores, weights):
    """The comparison as evaluate makes it."""
    observed = metrics.roc_auc_score(labels, scores) - metrics.roc_auc_score(labels, other_scores)
    resampled = uncertainty.resampled_auc(labels, scores, weights) - uncertainty.resampled_auc(labels, other_scores,
                                                                                                weights)
    return uncertainty.compare(observed, resampled, "roc_auc")


def test_the_comparison_of_a_model_with_itself_finds_nothing():
    random = np.random.default_rng(1)
    labels, scores = random.integers(0, 2, 500), random.random(500)
    weights = uncertainty.resample_weights(500, SETTINGS)
    assert compare_auc(labels, scores, scores, weights) == {
        "roc_auc_difference": 0.0, "roc_auc_difference_ci_low": 0.0, "roc_auc_difference_ci_high": 0.0, "p_value": 1.0}


def test_the_p_value_is_the_share_of_moved_resamples_at_least_as_far_out():
    resampled = np.array([0.01, 0.02, 0.035, 0.05, 0.07, -0.01, 0.04, 0.09, -0.005, 0.02])
    # Observed 0.03: the resamples at least 0.03 away from it are 0.07, -0.01, 0.09 and -0.005, 4 of 10.
    assert uncertainty.compare(0.03, resampled, "x")["p_value"] == pytest.approx((1 + 4) / (1 + 10))


def test_the_comparison_finds_a_clearly_better_model_and_is_symmetric():
    random = np.random.default_rng(4)
    labels = random.integers(0, 2, 2000)
    informed, uninformed = labels + random.normal(0, 1.5, 2000), random.random(2000)
    weights = uncertainty.resample_weights(2000, SETTINGS)
    better = compare_auc(labels, informed, uninformed, weights)
    assert better["roc_auc_difference_ci_low"] > 0 and better["p_value"] < 0.01
    worse = compare_auc(labels, uninformed, informed, weights)
    assert worse["roc_auc_difference"] == pytest.approx(-better["roc_auc_difference"])
    assert worse["p_value"] == better["p_value"]


def test_a_weak_difference_is_not_called_significant():
    random = np.random.default_rng(8)
    labels = random.integers(0, 2, 1000)
    first, second = random.random(1000), random.random(1000)  # two coins
    comparison = compare_auc(labels, first, second, uncertainty.resample_weights(1000, SETTINGS))
    assert comparison["roc_auc_difference_ci_low"] < 0 < comparison["roc_auc_difference_ci_high"]
    assert comparison["p_value"] > 0.05


def test_mean_and_std_of_every_resample_are_those_of_the_repeated_values():
    values = np.random.default_rng(6).normal(0.001, 0.01, 200)
    weights = uncertainty.resample_weights(200, SETTINGS)
    means, stds = uncertainty.resampled_mean_and_std(values, weights)
    for row in (0, 500, 999):
        repeated = np.repeat(values, weights[row])
        assert means[row] == pytest.approx(repeated.mean(), rel=1e-12)
        assert stds[row] == pytest.approx(repeated.std(ddof=1), rel=1e-9)


def test_settings_and_a_too_short_test_part_are_refused():
    with pytest.raises(ValueError, match="resamples must be at least 1000, got 100"):
        uncertainty.BootstrapSettings(seed=1, resamples=100, block_days=1)
    with pytest.raises(ValueError, match="block_days must be at least 1, got 0"):
        uncertainty.BootstrapSettings(seed=1, resamples=1000, block_days=0)
    with pytest.raises(InputError) as raised:
        uncertainty.resample_weights(40, SETTINGS)
    assert str(raised.value) == ("params.yaml: bootstrap: the test part has 40 hours, fewer than two bootstrap blocks "
                                 "of 24 hours")
