"""whalecast-predict against the evaluate stage (train/serve parity), on the sample market and on files, and its
refusals, on a real tiny model trained by `dvc repro` in a real git repository."""

import json

import pandas as pd
import pytest
import yaml

from conftest import edit_params, run
from whalecast import paths, predict

PARITY_HOURS = 50


@pytest.fixture(scope="module")
def trained(repo):
    run(["dvc", "repro", "evaluate@BTC"], repo)
    test_hours = pd.read_parquet(repo / paths.predictions("BTC"))
    step = max(1, len(test_hours) // PARITY_HOURS)
    return test_hours.iloc[::step].head(PARITY_HOURS).reset_index(drop=True)


def predict_cli(repo, *arguments, check=True):
    result = run(["whalecast-predict", "--currency", "BTC", *arguments], repo, check=check)
    return [json.loads(line) for line in result.stdout.splitlines()] if check else result


def assert_parity(repo, hours):
    assert len(hours) == PARITY_HOURS
    lines = predict_cli(repo, *(argument for time in hours["timestamp"]
                                for argument in ("--at", f"{time:%Y-%m-%dT%H:%M}")))
    assert [line["decision_time"] for line in lines] == [f"{time:%Y-%m-%dT%H:%M:%SZ}" for time in hours["timestamp"]]
    served = pd.Series([line["p_down"] for line in lines])
    difference = (served - hours["p_down_lstm"]).abs().max()
    assert difference < 1e-6, difference
    return lines


def test_predict_gives_what_evaluate_gave_on_50_test_hours_of_the_sample_market(repo, trained):
    lines = assert_parity(repo, trained)
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    model_md5 = next(out["md5"] for out in lock["stages"]["train@BTC"]["outs"] if out["path"] == str(paths.model("BTC")))
    assert {line["model_md5"] for line in lines} == {model_md5}
    first = lines[0]
    assert first["horizon_hours"] == 1 and first["model"] == "models/BTC/lstm_model_BTC.keras"
    decision = pd.Timestamp(first["decision_time"])
    assert pd.Timestamp(first["last_price_bar"]["open_time"]) == decision - pd.Timedelta(hours=1)
    assert pd.Timestamp(first["last_whale_record"]["timestamp"]) <= decision


def test_predict_on_files_gives_the_same_probabilities(repo, trained):
    # The sample market written as raw files: the file readers must give the model the same inputs.
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    edit_params(repo, **{"data.source": "files"})
    try:
        assert_parity(repo, trained)
    finally:
        edit_params(repo, **{"data.source": "synthetic"})


def test_without_at_the_latest_closed_hour_is_predicted_and_old_data_is_said(repo, trained):
    result = predict_cli(repo, check=False)
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    features = pd.read_parquet(repo / paths.features("BTC"))
    assert pd.Timestamp(line["decision_time"]) == features["timestamp"].iloc[-1]
    assert 0 < line["p_down"] < 1
    assert "predict: WARNING: the newest data ends at" in result.stderr  # the sample market lies in the past


@pytest.mark.parametrize("at, problem", [
    ("2024-01-10T15:30", "--at: 2024-01-10 15:30:00 is not a whole hour"),
    ("2030-01-01T00:00", "data: ends at "),
    ("2022-01-01T05:00", "data: the window of 12 hours ending at 2022-01-01 05:00 UTC starts before the first "
                         "feature row"),
    ("soon", "--at: 'soon' is not a date and time"),
])
def test_a_decision_time_it_cannot_serve_is_refused_in_one_line(repo, trained, at, problem):
    result = predict_cli(repo, "--at", at, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith(f"predict: error: {problem}"), result.stderr


def test_params_changed_since_training_are_refused_before_predicting(repo, trained):
    edit_params(repo, seq_len=6)
    try:
        result = predict_cli(repo, check=False)
    finally:
        edit_params(repo, seq_len=12)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == ("predict: error: dvc.lock: the model was trained with other settings or code "
                                     "than the workspace has (sequence@BTC: params seq_len modified, and 2 more); run "
                                     "dvc repro first, or check out the commit the model belongs to")


def test_a_feature_list_other_than_the_scalers_is_refused(repo, trained, monkeypatch):
    # Past the dvc status check (as if dvc.lock had been edited): the scaler's columns are checked too.
    monkeypatch.chdir(repo)
    monkeypatch.setattr(predict, "check_trained_as_configured", lambda currency: None)
    edit_params(repo, **{"feature_groups.news": False})
    try:
        with pytest.raises(predict.InputError) as raised:
            predict.predict("BTC")
    finally:
        edit_params(repo, **{"feature_groups.news": True})
    assert str(raised.value).startswith("models/BTC/scaler_BTC.json: the model was trained on 38 features, the params "
                                        "now make 30 (first difference: ")
