"""Honest results where whales and news carry no information: nothing beats a coin, not in the test part, not
across walk-forward folds, not after fees (nor before them), and the news group adds nothing beyond noise."""

import pytest

from conftest import REPORTED_MODELS
from e2e.honest_markets import market_project, run_pipeline
from whalecast.evaluation import backtest, uncertainty


@pytest.fixture(scope="module")
def no_information(tmp_path_factory):
    return run_pipeline(market_project(tmp_path_factory.mktemp("coin")))


def test_when_whales_carry_no_information_nothing_beats_a_coin(no_information):
    test = no_information["test"]
    assert test["n_test"] > 900
    for model in REPORTED_MODELS:
        assert abs(test[model]["roc_auc"] - 0.5) < 0.06, (model, test[model])
    assert test["lstm"]["roc_auc_ci_low"] < 0.5 < test["lstm"]["roc_auc_ci_high"]


def test_when_news_carries_no_information_the_news_group_adds_nothing_beyond_noise(no_information):
    importance = no_information["test"]["importance"]["lstm"]
    assert set(importance) == {"prices", "whales", "news"}
    assert abs(importance["news"]["roc_auc_drop_mean"]) < 0.02, importance["news"]


def test_when_whales_carry_no_information_no_fold_beats_a_coin_on_average(no_information):
    folds = no_information["walk_forward"]
    assert len([key for key in folds if key.startswith("fold_")]) == 4
    for model in REPORTED_MODELS:
        assert abs(folds[model]["roc_auc_mean"] - 0.5) < 0.03, (model, folds[model])


def test_when_whales_carry_no_information_no_model_earns_beyond_chance_after_fees(no_information):
    for model in REPORTED_MODELS:  # majority_class never trades: its Sharpe is 0, interval [0, 0]
        assert no_information["backtest"][model]["annualised_sharpe_ci_low"] <= 0, no_information["backtest"][model]
    assert no_information["backtest"]["lstm"]["n_trades"] > 100  # it did trade


def test_when_whales_carry_no_information_no_model_earns_beyond_chance_even_before_fees(no_information):
    """After fees a coin loses for sure; before fees its Sharpe ratio's interval must cover 0."""
    frame, probabilities = no_information["predictions"]
    asset = (frame["next_close"] / frame["close"] - 1).to_numpy()
    rules = backtest.BacktestSettings(upper=0.55, lower=0.45, long_only=False, fee_bps=0)
    weights = uncertainty.resample_weights(len(frame), uncertainty.BootstrapSettings(seed=7, resamples=1000, block_days=1))
    for model in ("lstm", "logistic_regression", "gradient_boosting", "last_move_repeats"):
        gross = backtest.positions(probabilities[model], rules) * asset
        sharpe = backtest.annualised_sharpe(*uncertainty.resampled_mean_and_std(gross, weights))
        low, high = uncertainty.interval(sharpe, "annualised_sharpe")
        assert low < 0 < high, (model, low, high)
