"""Honest results on the sample market, through the real stages with a small real LSTM: where whales and news carry
no information nothing beats a coin, not in the test part, not across walk-forward folds, not after fees; a
planted whale or news effect is found, with an interval above 0.5, and goes when its group is switched off."""

import json

import pytest

from conftest import REPORTED_MODELS, TINY_MODEL, copy_project, edit_params, run_stage_in_process
from whalecast import paths
from whalecast.evaluation import backtest, predictions, uncertainty

# Enough hours for a test part of ~1000 windows (AUC standard error ~0.018) while training in seconds.
HONESTY_MARKET = {"currencies": ["BTC"], "data.synthetic.hours": 7000, **TINY_MODEL, "model.units": 8,
                  "model.epochs": 6, "model.patience": 2, "model.batch_size": 128, "walk_forward.folds": 4}
NO_EFFECT = {"data.synthetic.whale_effect": 0.0, "data.synthetic.news_effect": 0.0}
MODEL_STAGES = ("sequence", "train", "evaluate", "walk_forward", "backtest")
TEST_STAGES = ("sequence", "train", "evaluate")


def run_pipeline(project, stages=("ingest", "featurize", *MODEL_STAGES)):
    for stage in stages:
        run_stage_in_process(project, stage)  # TensorFlow loads once for the module, not in every model stage
    results = {name: json.loads((project / path("BTC")).read_text())
               for name, path in (("test", paths.metrics), ("walk_forward", paths.walk_forward_metrics),
                                  ("backtest", paths.backtest_metrics)) if name == "test" or name in stages}
    results["predictions"] = predictions.read(project / paths.predictions("BTC"))
    return results


@pytest.fixture(scope="module")
def no_information(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("coin") / "project")
    edit_params(project, **HONESTY_MARKET, **NO_EFFECT)
    return run_pipeline(project)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The test part and the walk-forward folds with whales, the test part without (what is asserted on)."""
    project = copy_project(tmp_path_factory.mktemp("planted") / "project")
    edit_params(project, **HONESTY_MARKET, **{**NO_EFFECT, "data.synthetic.whale_effect": 0.4})
    with_whales = run_pipeline(project, ("ingest", "featurize", *TEST_STAGES, "walk_forward"))
    edit_params(project, **{"feature_groups.whales": False})
    return with_whales, run_pipeline(project, TEST_STAGES)


@pytest.fixture(scope="module")
def planted_news(tmp_path_factory):
    """The test part only (no walk-forward, no backtest): what news adds is read off the test metrics."""
    project = copy_project(tmp_path_factory.mktemp("news") / "project")
    edit_params(project, **HONESTY_MARKET, **{**NO_EFFECT, "data.synthetic.news_effect": 0.4})
    with_news = run_pipeline(project, ("ingest", "featurize", *TEST_STAGES))
    edit_params(project, **{"feature_groups.news": False})
    return with_news["test"], run_pipeline(project, TEST_STAGES)["test"]


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


def test_a_planted_news_effect_is_found_and_goes_when_the_news_group_is_switched_off(planted_news):
    with_news, without = planted_news
    assert with_news["lstm"]["roc_auc"] > 0.58 and with_news["lstm"]["roc_auc_ci_low"] > 0.5, with_news["lstm"]
    assert with_news["importance"]["lstm"]["news"]["roc_auc_drop_mean"] > 0.04
    assert without["lstm"]["roc_auc"] < with_news["lstm"]["roc_auc"] - 0.05, (with_news["lstm"], without["lstm"])
    assert set(without["importance"]["lstm"]) == {"prices", "whales"}
    assert without["n_test"] == with_news["n_test"]


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


def test_a_planted_whale_effect_is_found_and_beats_a_coin_significantly(planted):
    test = planted[0]["test"]
    assert test["lstm"]["roc_auc"] > 0.58 and test["lstm"]["roc_auc_ci_low"] > 0.5, test["lstm"]
    assert test["logistic_regression"]["roc_auc"] > 0.58, test["logistic_regression"]
    assert test["lstm"]["log_loss"] < test["majority_class"]["log_loss"]
    assert planted[0]["walk_forward"]["lstm"]["roc_auc_mean"] > 0.56
    importance = test["importance"]["lstm"]
    assert importance["whales"]["roc_auc_drop_mean"] > 0.04 > importance["prices"]["roc_auc_drop_mean"]


def test_switching_the_whale_group_off_takes_the_effect_away(planted):
    """Towards 0.5, not to it: each hour's planted drift comes from the flows of the six hours before, so
    consecutive returns share it and past returns carry part of it (last_move_repeats scores above 0.5 too)."""
    with_whales, without = (result["test"] for result in planted)
    lstm_with, lstm_without = with_whales["lstm"]["roc_auc"], without["lstm"]["roc_auc"]
    assert lstm_without < lstm_with - 0.05 and lstm_without - 0.5 < 0.6 * (lstm_with - 0.5), (lstm_with, lstm_without)
    assert without["last_move_repeats"]["roc_auc"] > 0.52
    assert set(without["importance"]["lstm"]) == {"prices", "news"}
    assert without["n_test"] == with_whales["n_test"]  # the same test hours, only the inputs differ
