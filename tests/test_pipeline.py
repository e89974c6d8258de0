"""End to end: real `dvc` on a real git repository made from a copy of the project."""

import json

import pandas as pd
import pytest

from conftest import copy_project, edit_params, run
from whalecast import paths

HOURS = 400
NAMED = ["sum_of_whale_inflows_last_6_hours", "max_whale_outflow_last_3_hours",
         "number_of_whale_transactions_last_12_hours", "price_volatility_last_24_hours"]
UP_TO_DATE = "Data and pipelines are up to date."


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("clone") / "project")
    edit_params(project, **{"currencies": ["BTC"], "data.synthetic.hours": HOURS})
    run(["git", "init", "-q"], project)
    run(["git", "add", "-A"], project)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "clone"], project)
    return project


@pytest.fixture(scope="module")
def first_repro(repo):
    return run(["dvc", "repro"], repo)


def test_repro_runs_every_stage_and_writes_the_feature_table(repo, first_repro):
    assert "Running stage 'ingest@BTC'" in first_repro.stdout
    assert "Running stage 'featurize@BTC'" in first_repro.stdout
    table = pd.read_parquet(repo / paths.features("BTC"))
    assert list(table.columns[:5]) == ["timestamp", *NAMED]
    assert len(table) == HOURS - 24
    assert str(table["timestamp"].dtype) == "datetime64[ns, UTC]"
    prices = pd.read_parquet(repo / paths.prices("BTC"))
    # Row T is the close of a bar: the last row is the last bar's open time + 1 h.
    assert table["timestamp"].iloc[-1] == prices["timestamp"].iloc[-1] + pd.Timedelta(hours=1)
    assert table.notna().all().all()
    assert (repo / "dvc.lock").exists()


def test_second_repro_is_a_no_op(repo, first_repro):
    again = run(["dvc", "repro"], repo)
    assert UP_TO_DATE in again.stdout
    assert "Running stage" not in again.stdout


def test_a_forced_rerun_reproduces_every_output_bit_for_bit(repo, first_repro):
    lock = (repo / "dvc.lock").read_text()
    run(["dvc", "repro", "--force"], repo)
    assert (repo / "dvc.lock").read_text() == lock  # same md5 for every output


def test_a_model_setting_does_not_touch_ingest_or_featurize(repo, first_repro):
    edit_params(repo, seq_len=36)
    assert UP_TO_DATE in run(["dvc", "status"], repo).stdout


def test_a_feature_change_reruns_featurize_only(repo, first_repro):
    params = edit_params(repo)
    edit_params(repo, features=params["features"][:-1])
    status = run(["dvc", "status"], repo).stdout
    assert "featurize@BTC" in status and "ingest@BTC" not in status
    run(["dvc", "repro"], repo)
    assert UP_TO_DATE in run(["dvc", "status"], repo).stdout


def test_an_experiment_runs_in_a_temporary_workspace(repo, first_repro):
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "baseline"], repo)
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
    pd.testing.assert_frame_equal(file_features, synthetic_features, check_exact=False, rtol=1e-12)
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
