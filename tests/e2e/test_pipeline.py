"""End to end: real `dvc` on a real git repository made from a copy of the project: what `dvc repro` makes,
and what each change of params or code makes it run again."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from conftest import HOURS, REPORTED_MODELS, TINY_MODEL, UP_TO_DATE, copy_project, edit_params, run, stages_run
from whalecast import paths, settings
from whalecast.evaluation import predictions
from whalecast.reporting import report

STAGES = ["ingest", "featurize", "sequence", "train", "evaluate", "walk_forward", "backtest"]
METRIC_NAMES = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier",
                "roc_auc_ci_low", "roc_auc_ci_high"]
BACKTEST_NAMES = ["total_return", "total_return_before_fees", "annualised_sharpe", "annualised_sharpe_ci_low",
                  "annualised_sharpe_ci_high", "max_drawdown", "turnover", "hit_rate", "exposure", "n_trades",
                  "break_even_fee_bps"]
NAMED = ["sum_of_whale_inflows_last_6_hours", "max_whale_outflow_last_3_hours",
         "number_of_whale_transactions_last_12_hours", "price_volatility_last_24_hours"]


def test_repro_runs_every_stage_and_writes_the_feature_table(repo, first_repro):
    assert stages_run(first_repro) == [f"{stage}@BTC" for stage in STAGES] + ["report"]
    table = pd.read_parquet(repo / paths.features("BTC"))
    assert list(table.columns[:5]) == ["timestamp", *NAMED]
    assert len(table) == HOURS - 24
    assert str(table["timestamp"].dtype) == "datetime64[ns, UTC]"
    prices = pd.read_parquet(repo / paths.prices("BTC"))
    # Row T is the close of a bar: the last row is the last bar's open time + 1 h.
    assert table["timestamp"].iloc[-1] == prices["timestamp"].iloc[-1] + pd.Timedelta(hours=1)
    assert table.notna().all().all()
    assert (repo / "dvc.lock").exists()


def test_outputs_have_the_documented_shape(repo, first_repro):
    metrics = json.loads((repo / paths.metrics("BTC")).read_text())
    assert list(metrics) == ["base_rate", "n_test", "test_start", "test_end", *REPORTED_MODELS, "comparison",
                             "lstm_seeds", "importance"]
    assert all(list(metrics[model]) == METRIC_NAMES for model in REPORTED_MODELS)
    assert metrics["majority_class"]["roc_auc"] == 0.5
    assert metrics["comparison"]["best_baseline"] in REPORTED_MODELS[1:]
    assert list(metrics["lstm_seeds"]) == ["n_seeds", "roc_auc_mean", "roc_auc_std", "log_loss_mean", "log_loss_std"]
    assert metrics["lstm_seeds"]["n_seeds"] == TINY_MODEL["model.n_seeds"]
    assert {model: list(groups) for model, groups in metrics["importance"].items()} == {
        "lstm": ["whales", "prices", "news"], "gradient_boosting": ["whales", "prices", "news"]}
    walk_forward = json.loads((repo / paths.walk_forward_metrics("BTC")).read_text())
    assert list(walk_forward) == [*REPORTED_MODELS, "fold_1", "fold_2"]
    assert list(walk_forward["fold_2"]) == [f"{part}_{key}" if key != "n" else f"n_{part}" for part in
                                            ("train", "validation", "test") for key in ("start", "end", "n")
                                            ] + REPORTED_MODELS
    assert list(walk_forward["lstm"]) == [f"{metric}_{statistic}" for metric in
                                          ("roc_auc", "log_loss", "brier", "accuracy", "balanced_accuracy")
                                          for statistic in ("mean", "std")]
    assert walk_forward["fold_1"]["test_end"] < walk_forward["fold_2"]["test_start"]
    embargo = pd.Timedelta(hours=TINY_MODEL["seq_len"] + 1)  # seq_len + horizon_hours
    for fold in ("fold_1", "fold_2"):
        times = {key: pd.Timestamp(value) for key, value in walk_forward[fold].items() if key.endswith(("_start", "_end"))}
        assert times["validation_start"] - times["train_end"] >= embargo
        assert times["test_start"] - times["validation_end"] >= embargo
    assert list(json.loads((repo / paths.backtest_metrics("BTC")).read_text())["lstm"]) == BACKTEST_NAMES
    assert (repo / paths.equity_plot("BTC")).read_text().splitlines()[0] == \
        "day,timestamp," + ",".join(REPORTED_MODELS) + ",buy_and_hold"
    summary = (repo / paths.summary()).read_text()
    assert report.marked_block(summary).count("| `lstm` |") == 2  # the AUC table and the backtest table
    for name in report.FIGURE_NAMES:
        assert (repo / paths.figure("BTC", name)).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    classification_report = (repo / paths.classification_report("BTC")).read_text()
    assert "up_or_flat" in classification_report and f"{metrics['n_test']}" in classification_report
    epochs = (repo / paths.training_log("BTC") / "plots" / "metrics" / "train" / "auc.tsv").read_text().splitlines()
    assert epochs[0] == "step\tauc" and len(epochs) == 1 + TINY_MODEL["model.epochs"]
    for name, columns in {"roc": "threshold,fpr,tpr", "precision_recall": "threshold,recall,precision",
                          "confusion_matrix": "actual,predicted", "calibration": "mean_predicted,fraction_down"}.items():
        lines = (repo / paths.evaluation_plot("BTC", name)).read_text().splitlines()
        assert lines[0] == columns and len(lines) > 2
    confusion = (repo / paths.evaluation_plot("BTC", "confusion_matrix")).read_text().splitlines()
    assert len(confusion) == 1 + metrics["n_test"]


def test_every_metric_and_the_backtest_can_be_recomputed_from_the_predictions_file(repo, first_repro):
    frame, probabilities = predictions.read(repo / paths.predictions("BTC"))
    test = json.loads((repo / paths.metrics("BTC")).read_text())
    assert list(probabilities) == REPORTED_MODELS and len(frame) == test["n_test"]
    prices = pd.read_parquet(repo / paths.prices("BTC")).set_index("timestamp")["close"]
    # close(T) is the close of the bar that opened at T - 1h; the label compares it with close(T + 1h).
    np.testing.assert_array_equal(frame["close"], prices[frame["timestamp"] - pd.Timedelta(hours=1)])
    np.testing.assert_array_equal(frame["next_close"], prices[frame["timestamp"]])
    np.testing.assert_array_equal(frame["label"], (frame["next_close"] < frame["close"]).astype(int))
    for model, probability_down in probabilities.items():
        assert metrics.roc_auc_score(frame["label"], probability_down) == pytest.approx(test[model]["roc_auc"], abs=1e-6)
    # The LSTM's backtest by hand from the file: positions from its P(down) and the thresholds, fees on changes.
    rules = settings.read(repo / "params.yaml")["backtest"]
    p_down = probabilities["lstm"]
    position = np.where(p_down >= rules["upper"], -1.0, np.where(p_down <= rules["lower"], 1.0, 0.0))
    changes = np.abs(np.diff(np.r_[0.0, position]))
    net = position * (frame["next_close"] / frame["close"] - 1) - rules["fee_bps"] / 1e4 * changes
    committed = json.loads((repo / paths.backtest_metrics("BTC")).read_text())["lstm"]
    assert committed["total_return"] == pytest.approx(np.prod(1 + net) - 1, abs=1e-6)
    assert (committed["turnover"], committed["exposure"]) == (changes.sum(), pytest.approx(np.mean(position != 0)))


def test_second_repro_is_a_no_op(repo, first_repro):
    again = run(["dvc", "repro"], repo)
    assert UP_TO_DATE in again.stdout
    assert "Running stage" not in again.stdout


@pytest.mark.parametrize("changes,readers", [
    ({"model.units": 6}, {"train@BTC", "walk_forward@BTC"}),
    ({"model.n_seeds": 3}, {"train@BTC"}),  # walk_forward trains one model per fold
    ({"baselines.boosting_max_iter": 10}, {"evaluate@BTC", "walk_forward@BTC"}),
    ({"importance.repeats": 3}, {"evaluate@BTC"}),
    ({"bootstrap.resamples": 1500}, {"evaluate@BTC", "backtest@BTC", "report"}),
    ({"walk_forward.window": "rolling"}, {"walk_forward@BTC"}),
    ({"backtest.fee_bps": 5}, {"backtest@BTC", "report"}),
    ({"feature_groups.whales": False}, {"sequence@BTC"}),
    ({"feature_groups.news": False}, {"sequence@BTC"}),
])
def test_each_setting_is_a_dependency_of_only_the_stages_that_read_it(repo, first_repro, changes, readers):
    """The stages `dvc repro` runs first after the change; those after them run when their inputs come out
    different (the next two tests)."""
    before = (repo / "params.yaml").read_text()
    edit_params(repo, **changes)
    try:
        assert set(json.loads(run(["dvc", "status", "--json"], repo).stdout)) == readers
    finally:
        (repo / "params.yaml").write_text(before)


def test_a_setting_that_leaves_the_predictions_as_they_were_stops_after_evaluate(repo, first_repro):
    edit_params(repo, **{"importance.repeats": 3})
    assert stages_run(run(["dvc", "repro"], repo)) == ["evaluate@BTC", "report"]  # not the backtest


def test_a_feature_change_reruns_featurize_and_then_what_reads_its_table(repo, first_repro):
    params = edit_params(repo)
    edit_params(repo, features=params["features"][:-1])
    assert set(json.loads(run(["dvc", "status", "--json"], repo).stdout)) == {"featurize@BTC"}
    assert stages_run(run(["dvc", "repro", "featurize@BTC"], repo)) == ["featurize@BTC"]
    table_changed = [{"changed deps": {str(paths.features("BTC")): "modified"}}]
    assert json.loads(run(["dvc", "status", "--json"], repo).stdout) == {"sequence@BTC": table_changed,
                                                                         "walk_forward@BTC": table_changed}


def test_plots_show_renders_training_curves_and_the_four_test_plots(repo, first_repro):
    shown = json.loads(run(["dvc", "plots", "show", "--json"], repo).stdout)
    assert "errors" not in shown
    names = sorted(shown["data"])
    assert all(plot["content"]["data"]["values"] for name in names for plot in shown["data"][name])
    assert [name for name in names if name.startswith("metrics/evaluation/BTC/")] == [
        f"metrics/evaluation/BTC/{name}.csv" for name in ("calibration", "confusion_matrix", "precision_recall", "roc")]
    assert {name for name in names if name.startswith("metrics/training/BTC/")} == {
        f"metrics/training/BTC/plots/metrics/{part}/{metric}.tsv" for part in ("train", "eval")
        for metric in ("loss", "auc")}
    # The top-level plots: one line per model (DVC's `field`) in each.
    for name, lines in ((str(paths.walk_forward_plot("BTC")), REPORTED_MODELS),
                        (str(paths.equity_plot("BTC")), [*REPORTED_MODELS, "buy_and_hold"])):
        values = shown["data"][name][0]["content"]["data"]["values"]
        assert sorted({value["field"] for value in values}) == sorted(lines)


def test_stages_run_the_package_code_of_their_own_workspace(tmp_path):
    """As in `dvc exp run --temp`: the copy's src/, not the installed one, is what runs and what is hashed."""
    project = copy_project(tmp_path / "project")
    stage_module = project / "src" / "whalecast" / "stage.py"
    stage_module.write_text(stage_module.read_text() + '\nraise SystemExit("this workspace\'s package ran")\n')
    run(["git", "init", "-q"], project)
    result = run(["dvc", "repro", "ingest@BTC"], project, check=False)
    assert result.returncode != 0
    assert "this workspace's package ran" in result.stdout + result.stderr
