"""End to end, the DVC workflow of a researcher: experiments with -S (in the workspace and in a temporary one),
metrics diff across them, an ablation of a feature group, sharing through a remote, and their own files."""

import json
import re

import pandas as pd
import pytest

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
    # Every name says what it is: dotted words, no list indices.
    names = [name for changes in diff.values() for name in changes]
    assert all(re.fullmatch(r"[a-z][a-z_0-9]*(\.[a-z][a-z_0-9]*)*", name) for name in names), names
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


@pytest.mark.parametrize("group", ["whales", "news"])
def test_switching_a_group_off_is_an_experiment_that_skips_ingest_and_featurize(repo, first_repro, group):
    commit(repo, "baseline before the ablation")
    experiment = run(["dvc", "exp", "run", "--name", f"no-{group}-features", "-S", f"feature_groups.{group}=false"],
                     repo)
    assert stages_run(experiment) == AFTER_SEQUENCE
    changed = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], repo).stdout)["metrics/BTC.json"]
    assert changed[f"importance.lstm.{group}.roc_auc_drop_mean"]["new"] is None  # no features of the group any more
    assert changed["lstm.roc_auc"]["old"] != changed["lstm.roc_auc"]["new"]
    run(["git", "checkout", "--", "."], repo)
    run(["dvc", "checkout"], repo)


def test_push_then_pull_into_a_fresh_clone_needs_no_recomputation(repo, first_repro, tmp_path):
    run(["dvc", "remote", "add", "--default", "shared", str(tmp_path / "remote")], repo)
    commit(repo, "results and a remote")
    run(["dvc", "push"], repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert not (clone / paths.model("BTC")).exists()
    run(["dvc", "pull"], clone)
    assert (clone / paths.model("BTC")).read_bytes() == (repo / paths.model("BTC")).read_bytes()
    assert UP_TO_DATE in run(["dvc", "status"], clone).stdout
    assert stages_run(run(["dvc", "repro"], clone)) == []
    run(["dvc", "remote", "remove", "shared"], repo)


def test_an_experiment_runs_in_a_temporary_workspace(repo, first_repro):
    commit(repo, "baseline before a temporary experiment")
    run(["dvc", "exp", "run", "--temp", "--name", "no-whales", "-S", "data.synthetic.whale_effect=0"], repo)
    experiments = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    runs = [exp for baseline in experiments for exp in baseline.get("experiments") or []]
    assert [exp["name"] for exp in runs] == ["no-whales"]
    params = runs[0]["revs"][0]["data"]["params"]["params.yaml"]["data"]
    assert params["data"]["synthetic"]["whale_effect"] == 0
    assert UP_TO_DATE in run(["dvc", "status"], repo).stdout  # the workspace itself is untouched


def test_files_source_reads_what_the_generator_wrote(repo, first_repro):
    synthetic_features = pd.read_parquet(repo / paths.features("BTC"))
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    run(["dvc", "add", "data/raw/prices/BTC.csv", "data/raw/whales/BTC.json", "data/raw/events/news/BTC.csv"], repo)
    edit_params(repo, **{"data.source": "files"})
    result = run(["dvc", "repro"], repo)
    assert "Running stage 'ingest@BTC'" in result.stdout
    assert "from data/raw/prices/BTC.csv" in result.stderr + result.stdout
    file_features = pd.read_parquet(repo / paths.features("BTC"))
    # The same table, less the newest hour: a downloaded file's last bar may be partial and is dropped.
    pd.testing.assert_frame_equal(file_features, synthetic_features.iloc[:-1], check_exact=False, rtol=1e-12)
    assert UP_TO_DATE in run(["dvc", "repro"], repo).stdout
