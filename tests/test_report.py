"""The report a person reads: generated from the metrics, and the README's Results are a copy of its headline."""

from conftest import REPO
from whalecast import backtest, params, report, uncertainty


def test_the_committed_summary_is_what_the_committed_metrics_make_and_the_readme_shows_its_headline(monkeypatch):
    monkeypatch.chdir(REPO)  # the metrics paths are relative to the repository root, as in a stage
    all_params = params.load()
    regenerated = report.summary([report.Results.read(currency) for currency in all_params["currencies"]],
                                 report.data_source(all_params["data"]),
                                 params.build(backtest.BacktestSettings, all_params["backtest"], "backtest"),
                                 params.build(uncertainty.BootstrapSettings, all_params["bootstrap"], "bootstrap"))
    summary = (REPO / "reports" / "summary.md").read_text(encoding="utf-8")
    assert summary == regenerated, "run `dvc repro` (the report stage)"
    headline = report.marked_block(summary)
    assert headline.count("| `lstm` |") == 2 * len(all_params["currencies"])  # AUC and backtest tables
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert report.marked_block(readme) == headline, "run `make readme`"


def test_update_readme_replaces_only_the_headline(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text(f"# Results\n\n{report.HEADLINE_START}\nnew tables\n{report.HEADLINE_END}\n\ndetails\n")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{report.HEADLINE_START}\nold tables\n{report.HEADLINE_END}\n\nmore\n")
    report.update_readme(readme, summary)
    assert readme.read_text() == f"intro\n\n{report.HEADLINE_START}\nnew tables\n{report.HEADLINE_END}\n\nmore\n"


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
