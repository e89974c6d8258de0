"""End to end: real `dvc` on a real git repository made from a copy of the project."""

import json

import pandas as pd
import pytest

from conftest import REPORTED_MODELS, TINY_MODEL, copy_project, edit_params, run
from whalecast import paths

HOURS = 1000
STAGES = ["ingest", "featurize", "sequence", "train", "evaluate"]
METRIC_NAMES = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier"]
NAMED = ["sum_of_whale_inflows_last_6_hours", "max_whale_outflow_last_3_hours",
         "number_of_whale_transactions_last_12_hours", "price_volatility_last_24_hours"]
UP_TO_DATE = "Data and pipelines are up to date."


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("clone") / "project")
    edit_params(project, **{"currencies": ["BTC"], "data.synthetic.hours": HOURS, **TINY_MODEL})
    run(["git", "init", "-q"], project)
    commit(project, "clone")
    return project


def commit(repo, message):
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--allow-empty", "-qm", message], repo)


def stages_run(result) -> list[str]:
    return [line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")]


@pytest.fixture(scope="module")
def first_repro(repo):
    return run(["dvc", "repro"], repo)


def test_repro_runs_every_stage_and_writes_the_feature_table(repo, first_repro):
    assert stages_run(first_repro) == [f"{stage}@BTC" for stage in STAGES]
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
    assert list(metrics) == ["base_rate", "n_test", *REPORTED_MODELS]
    assert all(list(metrics[model]) == METRIC_NAMES for model in REPORTED_MODELS)
    assert metrics["majority_class"]["roc_auc"] == 0.5
    report = (repo / paths.classification_report("BTC")).read_text()
    assert "up_or_flat" in report and "down" in report and f"{metrics['n_test']}" in report
    epochs = (repo / paths.training_log("BTC") / "plots" / "metrics" / "train" / "auc.tsv").read_text().splitlines()
    assert epochs[0] == "step\tauc" and len(epochs) == 1 + TINY_MODEL["model.epochs"]
    for name, columns in {"roc": "threshold,fpr,tpr", "precision_recall": "threshold,recall,precision",
                          "confusion_matrix": "actual,predicted", "calibration": "mean_predicted,fraction_down"}.items():
        lines = (repo / paths.evaluation_plot("BTC", name)).read_text().splitlines()
        assert lines[0] == columns and len(lines) > 2
    confusion = (repo / paths.evaluation_plot("BTC", "confusion_matrix")).read_text().splitlines()
    assert len(confusion) == 1 + metrics["n_test"]


def test_second_repro_is_a_no_op(repo, first_repro):
    again = run(["dvc", "repro"], repo)
    assert UP_TO_DATE in again.stdout
    assert "Running stage" not in again.stdout


def test_a_forced_rerun_reproduces_every_output_bit_for_bit(repo, first_repro):
    lock, metrics = (repo / "dvc.lock").read_text(), (repo / paths.metrics("BTC")).read_text()
    assert str(paths.model("BTC")) in lock
    run(["dvc", "repro", "--force"], repo)
    assert (repo / "dvc.lock").read_text() == lock  # same md5 for every output: features, model, metrics, plots
    assert (repo / paths.metrics("BTC")).read_text() == metrics


def test_a_model_setting_reruns_train_and_evaluate_only(repo, first_repro):
    edit_params(repo, **{"model.units": 6})
    assert stages_run(run(["dvc", "repro"], repo)) == ["train@BTC", "evaluate@BTC"]
    edit_params(repo, **{"baselines.boosting_max_iter": 10})
    assert stages_run(run(["dvc", "repro"], repo)) == ["evaluate@BTC"]


def test_a_feature_change_reruns_featurize_only(repo, first_repro):
    params = edit_params(repo)
    edit_params(repo, features=params["features"][:-1])
    status = run(["dvc", "status"], repo).stdout
    assert "featurize@BTC" in status and "ingest@BTC" not in status
    assert stages_run(run(["dvc", "repro"], repo)) == ["featurize@BTC", "sequence@BTC", "train@BTC", "evaluate@BTC"]
    assert UP_TO_DATE in run(["dvc", "status"], repo).stdout


def test_a_seq_len_experiment_skips_the_feature_stages_and_shows_in_metrics_diff(repo, first_repro):
    commit(repo, "baseline")
    experiment = run(["dvc", "exp", "run", "--name", "longer-window", "-S", "seq_len=18"], repo)
    assert stages_run(experiment) == ["sequence@BTC", "train@BTC", "evaluate@BTC"]
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], repo).stdout)
    changed = diff["metrics/BTC.json"]
    assert changed["lstm.roc_auc"]["old"] != changed["lstm.roc_auc"]["new"]
    assert "n_test" not in changed and "base_rate" not in changed  # the same test hours, whatever seq_len
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
    run(["dvc", "add", "data/raw/prices/BTC.csv", "data/raw/whales/BTC.json"], repo)
    edit_params(repo, **{"data.source": "files"})
    result = run(["dvc", "repro"], repo)
    assert "Running stage 'ingest@BTC'" in result.stdout
    assert "from data/raw/prices/BTC.csv" in result.stderr + result.stdout
    file_features = pd.read_parquet(repo / paths.features("BTC"))
    # The same table, less the newest hour: a downloaded file's last bar may be partial and is dropped.
    pd.testing.assert_frame_equal(file_features, synthetic_features.iloc[:-1], check_exact=False, rtol=1e-12)
    assert UP_TO_DATE in run(["dvc", "repro"], repo).stdout


def test_stages_run_the_package_code_of_their_own_workspace(tmp_path):
    """As in `dvc exp run --temp`: the copy's src/, not the installed one, is what runs and what is hashed."""
    project = copy_project(tmp_path / "project")
    stage_module = project / "src" / "whalecast" / "stage.py"
    stage_module.write_text(stage_module.read_text() + '\nraise SystemExit("this workspace\'s package ran")\n')
    run(["git", "init", "-q"], project)
    result = run(["dvc", "repro", "ingest@BTC"], project, check=False)
    assert result.returncode != 0
    assert "this workspace's package ran" in result.stdout + result.stderr
