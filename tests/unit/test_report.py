"""The report a person reads: generated from the metrics, with the headline metrics and the README's digest."""

import json

import pytest

from conftest import REPO
from whalecast import settings, storage
from whalecast.evaluation import backtest, uncertainty
from whalecast.reporting import report


def test_the_committed_summary_and_headline_metrics_are_what_the_committed_metrics_make(monkeypatch):
    monkeypatch.chdir(REPO)  # the metrics paths are relative to the repository root, as in a stage
    all_params = settings.read()
    regenerated = report.summary([report.Results.read(currency) for currency in all_params["currencies"]],
                                 report.data_source(all_params["data"]),
                                 settings.build(backtest.BacktestSettings, all_params["backtest"], "backtest"),
                                 settings.build(uncertainty.BootstrapSettings, all_params["bootstrap"], "bootstrap"))
    summary = (REPO / "reports" / "summary.md").read_text(encoding="utf-8")
    assert summary == regenerated, "run `dvc repro` (the report stage)"
    headline = report.marked_block(summary)
    assert headline.count("| `lstm` |") == 2 * len(all_params["currencies"])  # AUC and backtest tables
    committed = json.loads((REPO / "reports" / "headline.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(storage._rounded(
        {currency: report.headline_metrics(report.Results.read(currency)) for currency in all_params["currencies"]})))


def test_the_headline_metrics_are_the_review_values_of_the_metrics_files():
    """Read off the hand-made results below, by the metrics files' own keys."""
    headline = report.headline_metrics(results(-0.1, 0.01))
    assert headline.pop("best_baseline") == "majority_class"
    assert headline == pytest.approx({
        "lstm_roc_auc": 0.6, "lstm_roc_auc_ci_low": 0.55, "lstm_roc_auc_ci_high": 0.65, "best_baseline_roc_auc": 0.5,
        "lstm_minus_best_baseline": -0.1, "lstm_minus_best_baseline_ci_low": -0.12,
        "lstm_minus_best_baseline_ci_high": -0.08, "p_value": 0.01,
        "lstm_walk_forward_roc_auc_mean": 0.58, "lstm_walk_forward_roc_auc_std": 0.02,
        "best_baseline_walk_forward_roc_auc_mean": 0.5,
        "lstm_sharpe_after_fees": -1.0, "lstm_sharpe_after_fees_ci_low": -3.0, "lstm_sharpe_after_fees_ci_high": 1.0})


def test_the_digest_shows_each_currency_with_intervals_and_the_verdict():
    rules = backtest.BacktestSettings(upper=0.55, lower=0.45, long_only=False, fee_bps=10)
    text = report.digest([results(-0.1, 0.01)], "a market", rules)
    assert text.startswith(report.DIGEST_START) and text.endswith(report.DIGEST_END)
    assert "| LSTM, test ROC AUC | 0.600 [0.550, 0.650] |" in text
    assert "| best baseline (chosen on the validation part), test ROC AUC | `majority_class` 0.500 |" in text
    assert "| LSTM minus best baseline | -0.100 [-0.120, -0.080], p = 0.010 |" in text
    assert "| walk-forward ROC AUC, LSTM / best baseline | 0.580 ± 0.020 / 0.500 ± 0.000 |" in text
    assert "| LSTM's annualised Sharpe after 10 bps fees | -1.00 [-3.00, +1.00] |" in text
    assert "| test part | 1,000 hours from 2024-07-20 |" in text
    assert "Verdict, LSTM against the best baseline: BTC: the LSTM is significantly worse." in text
    assert "over 2 walk-forward folds" in text and "(reports/figures/headline.png)" in text


def results(difference, p_value):
    scores = {"roc_auc": 0.6, "roc_auc_ci_low": 0.55, "roc_auc_ci_high": 0.65, "log_loss": 0.68, "brier": 0.24}
    test = {"base_rate": 0.5, "n_test": 1000, "test_start": "2024-07-20T19:00Z", "test_end": "2024-12-31T23:00Z",
            "lstm": scores, "majority_class": {**scores, "roc_auc": 0.5},
            "comparison": {"best_baseline": "majority_class", "roc_auc_difference": difference,
                           "roc_auc_difference_ci_low": difference - 0.02, "roc_auc_difference_ci_high": difference + 0.02,
                           "p_value": p_value},
            "lstm_seeds": {"n_seeds": 3, "roc_auc_mean": 0.6, "roc_auc_std": 0.01, "log_loss_mean": 0.68,
                           "log_loss_std": 0.001},
            "importance": {"lstm": {"whales": {"roc_auc_drop_mean": 0.05, "roc_auc_drop_std": 0.01}}}}
    folds = {"lstm": {"roc_auc_mean": 0.58, "roc_auc_std": 0.02}, "majority_class": {"roc_auc_mean": 0.5,
                                                                                      "roc_auc_std": 0.0}}
    trade = {"total_return": -0.1, "total_return_before_fees": 0.2, "annualised_sharpe": -1.0,
             "annualised_sharpe_ci_low": -3.0, "annualised_sharpe_ci_high": 1.0, "max_drawdown": 0.2,
             "n_trades": 10, "break_even_fee_bps": None}
    return report.Results("BTC", test, {**folds, "fold_1": {}, "fold_2": {}}, {"lstm": trade})


def test_the_headline_states_the_verdict_of_the_comparison():
    rules = backtest.BacktestSettings(upper=0.55, lower=0.45, long_only=False, fee_bps=10)
    better = "\n".join(report.headline(results(0.1, 0.001), rules))
    assert "+0.100 [+0.080, +0.120], p = 0.001: the LSTM is significantly better at the 5% level" in better
    assert "Test part: 1,000 hours, 2024-07-20 19:00 to 2024-12-31 23:00 UTC" in better
    worse = "\n".join(report.headline(results(-0.1, 0.01), rules))
    assert "the LSTM is significantly worse" in worse
    unclear = "\n".join(report.headline(results(0.01, 0.3), rules))
    assert "p = 0.300: no significant difference at the 5% level" in unclear
    assert "| `lstm` | 0.600 [0.550, 0.650] | 0.6800 | 0.2400 | 0.580 ± 0.020 |" in unclear
    assert "walk-forward ROC AUC (2 folds)" in unclear
    assert "| `lstm` | -10.0% | +20.0% | -1.00 [-3.00, +1.00] | 20.0% | 10 | n/a |" in unclear
