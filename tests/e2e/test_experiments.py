"""End to end, the DVC workflow of a researcher: experiments with -S (in the workspace and in a temporary one),
metrics diff and exp show across them, and their own files in place of the sample market. (The ablation of a
feature group: test_experiment_ablation.py; remotes and a queued sweep: test_sharing.py.)"""

import json
import re

import pandas as pd

from conftest import AFTER_SEQUENCE, TINY_MODEL, UP_TO_DATE, commit, edit_params, run, stages_run
from whalecast import paths


def test_a_seq_len_experiment_skips_the_feature_stages_and_shows_in_metrics_diff(repo, first_repro):
    commit(repo, "baseline")
    experiment = run(["dvc", "exp", "run", "--name", "longer-window", "-S", "seq_len=18"], repo)
    assert stages_run(experiment) == AFTER_SEQUENCE
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], repo).stdout)
    changed = diff["metrics/BTC.json"]
    assert changed["lstm.roc_auc"]["old"] != changed["lstm.roc_auc"]["new"]
    assert "lstm.roc_auc_ci_low" in changed and "comparison.p_value" in changed
    assert "lstm.roc_auc_mean" in diff["metrics/BTC_walk_forward.json"]
    assert "lstm.annualised_sharpe" in diff["metrics/BTC_backtest.json"]
    assert "n_test" not in changed and "base_rate" not in changed  # the same test hours, whatever seq_len
    assert {"BTC.lstm_roc_auc", "BTC.p_value"} <= set(diff["reports/headline.json"])  # the review's short list
    # Every name says what it is: dotted words (the headline file's first one its currency), no list indices.
    names = [name for changes in diff.values() for name in changes]
    assert all(re.fullmatch(r"([A-Z][A-Z0-9]*\.)?[a-z][a-z_0-9]*(\.[a-z][a-z_0-9]*)*", name) for name in names), names
    params_diff = json.loads(run(["dvc", "params", "diff", "HEAD", "--json"], repo).stdout)
    seq_len_diff = params_diff["params.yaml"]["seq_len"]
    assert (seq_len_diff["old"], seq_len_diff["new"]) == (TINY_MODEL["seq_len"], 18)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    experiment_row = next(exp for baseline in shown for exp in baseline.get("experiments") or []
                          if exp["name"] == "longer-window")["revs"][0]["data"]
    assert experiment_row["params"]["params.yaml"]["data"]["seq_len"] == 18
    assert "lstm" in experiment_row["metrics"]["metrics/BTC.json"]["data"]
    run(["git", "checkout", "--", "."], repo)
    run(["dvc", "checkout"], repo)


def test_an_experiment_runs_in_a_temporary_workspace(repo, first_repro):
    commit(repo, "baseline before a temporary experiment")
    experiment = run(["dvc", "exp", "run", "--temp", "--name", "no-fees", "-S", "backtest.fee_bps=0"], repo)
    assert stages_run(experiment) == ["backtest@BTC", "report"]
    experiments = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    runs = [exp for baseline in experiments for exp in baseline.get("experiments") or []]
    assert [exp["name"] for exp in runs] == ["no-fees"]
    data = runs[0]["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["backtest"]["fee_bps"] == 0
    fee_free = data["metrics"]["metrics/BTC_backtest.json"]["data"]["lstm"]
    assert fee_free["total_return"] == fee_free["total_return_before_fees"]
    assert UP_TO_DATE in run(["dvc", "status"], repo).stdout  # the workspace itself is untouched


def test_files_source_reads_what_the_generator_wrote(repo, first_repro):
    synthetic_features = pd.read_parquet(repo / paths.features("BTC"))
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    run(["dvc", "add", "data/raw/prices/BTC.csv", "data/raw/whales/BTC.json", "data/raw/events/news/BTC.csv"], repo)
    edit_params(repo, **{"data.source": "files"})
    result = run(["dvc", "repro", "featurize@BTC"], repo)
    assert stages_run(result) == ["ingest@BTC", "featurize@BTC"]
    assert "from data/raw/prices/BTC.csv" in result.stderr + result.stdout
    file_features = pd.read_parquet(repo / paths.features("BTC"))
    # The same table, less the newest hour: a downloaded file's last bar may be partial and is dropped.
    pd.testing.assert_frame_equal(file_features, synthetic_features.iloc[:-1], check_exact=False, rtol=1e-12)
    assert UP_TO_DATE in run(["dvc", "repro", "featurize@BTC"], repo).stdout
