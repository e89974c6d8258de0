"""End to end, the DVC workflow of a researcher: experiments with -S (in the workspace and in a temporary one),
metrics diff across them, an ablation of a feature group, sharing through a remote, and their own files."""

import json
import os
import re
import subprocess
import time

import pandas as pd

from conftest import AFTER_SEQUENCE, BIN, TINY_MODEL, UP_TO_DATE, commit, edit_params, run, stages_run
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


def test_switching_a_group_off_is_an_experiment_that_skips_ingest_and_featurize(repo, first_repro):
    """Each group's switch is read by the sequence stage only (test_pipeline checks both); one is run here."""
    commit(repo, "baseline before the ablation")
    experiment = run(["dvc", "exp", "run", "--name", "no-whale-features", "-S", "feature_groups.whales=false"], repo)
    assert stages_run(experiment) == AFTER_SEQUENCE
    changed = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], repo).stdout)["metrics/BTC.json"]
    assert changed["importance.lstm.whales.roc_auc_drop_mean"]["new"] is None  # no features of the group any more
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


def wait_for_the_queue(repo, names, timeout_seconds=600):
    """Until every queued experiment has finished; their states as `dvc queue status` shows them."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        rows = [line.split() for line in run(["dvc", "queue", "status"], repo).stdout.splitlines()]
        states = {name: row[-1] for row in rows for name in names if name in row}  # Task Name Created Status
        if len(states) == len(names) and not {"Queued", "Running"} & set(states.values()):
            return states
        assert time.monotonic() < deadline, rows
        time.sleep(2)


def test_a_sweep_run_in_one_clone_is_pulled_applied_and_used_in_another(repo, first_repro, tmp_path):
    """The team workflow of the README: a machine runs a queued sweep and pushes it to a shared git remote and
    a shared DVC remote; another clone pulls it, compares it, applies one and gets its outputs without
    recomputing anything."""
    shared_git, shared_dvc = tmp_path / "shared.git", tmp_path / "shared-dvc"
    run(["git", "init", "-q", "--bare", str(shared_git)], tmp_path)
    run(["git", "remote", "add", "origin", str(shared_git)], repo)
    run(["dvc", "remote", "add", "--default", "team", str(shared_dvc)], repo)
    commit(repo, "baseline of the sweep, with the team's remotes")
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], repo)
    run(["dvc", "push"], repo)
    names = ["upper-0.52", "upper-0.6"]
    for name in names:
        run(["dvc", "exp", "run", "--queue", "--name", name, "-S", f"backtest.upper={name.split('-')[1]}"], repo)
    # The queue's workers outlive `dvc queue start` and would hold a captured stdout open: theirs goes nowhere.
    subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=repo, check=True, timeout=120, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    try:
        assert set(wait_for_the_queue(repo, names).values()) == {"Success"}
    finally:
        run(["dvc", "queue", "stop"], repo, check=False)
    run(["dvc", "exp", "push", "origin", *names], repo)  # git refs to origin, outputs to the default DVC remote

    clone = tmp_path / "second-machine"
    run(["git", "clone", "-q", "-b", "main", str(shared_git), str(clone)], tmp_path)
    run(["dvc", "exp", "pull", "origin", *names], clone)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], clone).stdout)
    pulled = {exp["name"]: exp["revs"][0]["data"] for baseline in shown for exp in baseline.get("experiments") or []}
    assert set(pulled) == set(names)
    for name in names:
        assert pulled[name]["params"]["params.yaml"]["data"]["backtest"]["upper"] == float(name.split("-")[1])
        assert "annualised_sharpe" in pulled[name]["metrics"]["metrics/BTC_backtest.json"]["data"]["lstm"]
    run(["dvc", "exp", "apply", "upper-0.6"], clone)
    run(["dvc", "pull"], clone)
    assert (clone / paths.model("BTC")).read_bytes() == (repo / paths.model("BTC")).read_bytes()
    assert UP_TO_DATE in run(["dvc", "status"], clone).stdout
    assert stages_run(run(["dvc", "repro"], clone)) == []  # nothing recomputed
    run(["dvc", "remote", "remove", "team"], repo)
    run(["git", "remote", "remove", "origin"], repo)


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
