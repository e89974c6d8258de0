"""Bad input, run through the real stage scripts: one line naming file and problem, exit 1, no output. Ingest,
featurize, sequence, train, evaluate and backtest run here once each as their own process on bad input (the report
too); the other cases run the same scripts in this process."""

import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import (GOOD_PRICES, GOOD_WHALES, TINY_MODEL, assert_clean_failure, copy_project, edit_params, files_project, run,
                      run_stage, run_stage_in_process, small_market)
from whalecast import paths
from whalecast.acquire import sample_files

PRICE_CASES = {
    "missing file": (None, "data/raw/prices/BTC.csv: file not found"),
    "empty file": ("", "data/raw/prices/BTC.csv: file is empty"),
    "daily bars": ("timestamp,open,high,low,close,volume\n" + "".join(
        f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T00:00:00Z,100,101,99,100.5,10\n" for day in range(125)),
        "data/raw/prices/BTC.csv: bars are 1 day apart (the most common step between timestamps), not 1 hour"),
    "malformed CSV": (GOOD_PRICES + "2024-03-01T05:00:00Z,1,2,1,2,3,4,5\n", "malformed CSV", "line 7"),
    "missing column": (GOOD_PRICES.replace(",close,", ",last,"), "missing required column 'close'"),
    "non-numeric price": (GOOD_PRICES.replace("T02:00:00Z,100,", "T02:00:00Z,abc,"), "line 4: open 'abc' is not a number"),
    "non-positive price": (GOOD_PRICES.replace("T03:00:00Z,100,101,99,100.5", "T03:00:00Z,100,101,99,0"),
                           "line 5: close is 0; prices must be positive"),
    "high below low": (GOOD_PRICES.replace("T01:00:00Z,100,101,99", "T01:00:00Z,100,98,99"),
                       "line 3: high 98 is below low 99"),
    "conflicting duplicate": (GOOD_PRICES + "2024-03-01T02:00:00Z,100,101,99,100.7,10\n",
                              "line 7: timestamp 2024-03-01 02:00 also on line 4 with other values"),
    "not on the hour": (GOOD_PRICES.replace("T04:00:00Z", "T04:30:00Z"), "line 6: timestamp 2024-03-01 04:30:00 is not on the hour"),
    "empty timestamp": (GOOD_PRICES.replace("2024-03-01T04:00:00Z", ""), "line 6: timestamp is empty"),
    "header only": ("timestamp,open,high,low,close,volume\n", "no data rows"),
    "second conflicting duplicate": (
        GOOD_PRICES + "2024-03-01T05:00:00Z,100,101,99,100.5,10\n2024-03-01T01:00:00Z,100,101,99,100.9,10\n",
        "line 8: timestamp 2024-03-01 01:00 also on line 3 with other values"),
    "line numbers count blank lines": (GOOD_PRICES.replace("\n2024-03-01T03", "\n\n\n2024-03-01T03")
                                       .replace("T04:00:00Z,100,101,99,100.5", "T04:00:00Z,100,101,99,-1"),
                                       "line 8: close is -1"),
    "close outside the range": (GOOD_PRICES.replace("T02:00:00Z,100,101,99,100.5", "T02:00:00Z,100,101,99,200"),
                                "line 4: close 200 is outside low..high 99..101"),
    "column twice in other case": (GOOD_PRICES.replace("volume\n", "volume,Close\n").replace(",10\n", ",10,1\n"),
                                   "column 'close' appears more than once"),
    "epoch among ISO": (GOOD_PRICES.replace("2024-03-01T03:00:00Z", "1709262000"),
                        "line 5: timestamp '1709262000' is an epoch number, but other rows are ISO-8601 text"),
    "year typo": (GOOD_PRICES.replace("2024-03-01T03:00:00Z", "2124-03-01T03:00:00Z"),
                  "line 5: timestamp '2124-03-01T03:00:00Z' is outside 1970..2100"),
    "semicolons": (GOOD_PRICES.replace(",", ";"), "looks like `;`-separated (a spreadsheet's export"),
}


@pytest.mark.parametrize("case", PRICE_CASES)
def test_bad_price_file(project, case):
    text, *fragments = PRICE_CASES[case]
    files_project(project, prices=text)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv", *fragments)


WHALE_CASES = {
    "missing file": (None, "BTC.json", "file not found (nor BTC.csv or a directory BTC/)"),
    "truncated JSON": (GOOD_WHALES[:-20], "BTC.json", "malformed JSON at line 1"),
    "missing field": (GOOD_WHALES.replace('"amount_usd": 600000, ', ""), "BTC.json",
                      "transactions[0]: missing field 'amount_usd'"),
    "missing owner type": (GOOD_WHALES.replace('{"owner_type": "unknown"}', "{}"), "BTC.json",
                           "transactions[0].from: missing field 'owner_type'"),
    "API error": ('{"result": "error", "message": "invalid api_key"}', "BTC.json", "API result is 'error': invalid api_key"),
    "not a response": ("[1, 2]", "BTC.json", "expected a JSON object"),
    "bad amount": (GOOD_WHALES.replace('"amount_usd": 600000', '"amount_usd": "lots"'), "BTC.json",
                   "transactions[0]: amount_usd 'lots' is not a number"),
    "owner type not text": (GOOD_WHALES.replace('{"owner_type": "unknown"}', '{"owner_type": 5}'), "BTC.json",
                            "transactions[0].from.owner_type: 5 is not text"),
}


@pytest.mark.parametrize("case", WHALE_CASES)
def test_bad_whale_file(project, case):
    text, *fragments = WHALE_CASES[case]
    files_project(project, whales=text)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/whales/", *fragments)


def test_a_file_that_is_not_text(project):
    files_project(project)
    (project / paths.raw_prices("BTC")).write_bytes(b"\xff\xfe\x00timestamp,\x81\x82")
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv: not UTF-8 text")


def test_bad_whale_csv_row_is_named_by_line(project):
    files_project(project, whales_name="BTC.csv", whales=(
        "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"
        "2024-03-01T01:00:00Z,btc,1,600000,unknown,exchange\n"
        "2024-03-01T01:05:00Z,usdt,1,oops,unknown,exchange\n"  # another symbol: not checked, not used
        "2024-03-01T01:10:00Z,BTC,1,-5,unknown,exchange\n"))
    assert_clean_failure(run_stage(project, "ingest", check=False), project, "data/raw/whales/BTC.csv",
                         "line 4: amount_usd is negative")


def test_bad_whale_csv_names_the_line(project):
    files_project(project, whales_name="BTC.csv", whales=(
        "timestamp,symbol,amount,amount_usd,from_owner_type\n2024-03-01T01:00:00Z,btc,1,600000,unknown\n"))
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/whales/BTC.csv",
                         "missing required column 'to_owner_type'")


def test_too_few_hours_for_the_longest_window_fails_featurize(project):
    files_project(project)  # 5 hourly bars, the newest dropped as possibly partial; the default features need 25
    run_stage_in_process(project, "ingest")
    assert_clean_failure(run_stage(project, "featurize", check=False), project,
                         "data/interim/prices/BTC.parquet: 4 hourly bars, but the longest feature lookback needs 25",
                         outputs=[paths.FEATURES])


PARAM_CASES = {
    "unknown source": ({"data.source": "ftp"}, "data.source must be one of synthetic, files, got 'ftp'"),
    "text for a number": ({"data.max_gap_hours": "72"}, "data.max_gap_hours must be int, got '72'"),
    "misspelt setting": ({"data.synthetic.hour": 10}, "data.synthetic.hour is not a setting"),
    "bad start date": ({"data.synthetic.start": "yesterday"}, "data.synthetic:"),
    "no hours": ({"data.synthetic.hours": 0}, "data.synthetic.hours must be at least 1, got 0"),
    "unknown bad-row policy": ({"data.bad_rows": "ignore"}, "data.bad_rows must be one of error, skip, got 'ignore'"),
}


@pytest.mark.parametrize("case", PARAM_CASES)
def test_bad_params_are_named(project, case):
    changes, message = PARAM_CASES[case]
    edit_params(project, **changes)
    result = run_stage_in_process(project, "ingest", check=False)
    assert_clean_failure(result, project, f"params.yaml: {message}")


def test_a_feature_named_timestamp_is_refused(project):
    params = edit_params(project)
    edit_params(project, features=[*params["features"], {"source": "prices", "agg": "sum", "column": "log_return",
                                                          "window": 2, "name": "timestamp"}])
    run_stage_in_process(project, "ingest")
    result = run_stage_in_process(project, "featurize", check=False)
    assert result.returncode == 1 and "the name 'timestamp' is the row key" in result.stderr


def test_a_corrupt_interim_file_is_named(project):
    run_stage_in_process(project, "ingest")
    (project / paths.whales("BTC")).write_bytes(b"PAR1 not really parquet")
    result = run_stage_in_process(project, "featurize", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "data/interim/whales/BTC.parquet: not a readable parquet file" in result.stderr


def test_exact_duplicates_and_an_empty_whale_history_are_valid(project):
    market = small_market(hours=60)
    prices_csv = project / paths.raw_prices("BTC")
    sample_files.write_prices_csv(market.prices, prices_csv.parent / "generated.csv")
    lines = (prices_csv.parent / "generated.csv").read_text().splitlines(keepends=True)
    files_project(project, prices="".join(lines + lines[10:13]),
                  whales=json.dumps({"result": "success", "cursor": "0-0-0", "count": 0}))
    ingest_log = run_stage_in_process(project, "ingest").stderr
    assert "3 exact duplicates dropped" in ingest_log and "0 BTC records kept" in ingest_log
    run_stage_in_process(project, "featurize")
    table = pd.read_parquet(project / paths.features("BTC"))
    assert len(table) == 60 - 1 - 24  # the newest bar of a downloaded file may be partial: dropped
    assert (table["sum_of_whale_inflows_last_6_hours"] == 0).all()
    assert (table["number_of_whale_transactions_last_12_hours"] == 0).all()


def test_with_bad_rows_skip_malformed_rows_are_dropped_and_counted(project):
    prices = "timestamp,open,high,low,close,volume\n" + "".join(
        f"2024-03-01T{hour:02d}:00:00Z,100,101,99,100.5,10\n" for hour in range(10))
    prices = (prices.replace("T02:00:00Z,100,", "T02:00:00Z,abc,")  # line 4: not a number
              .replace("T03:00:00Z,100,101,99", "T03:00:00Z,100,98,99")  # line 5: high below low
              .replace("T05:00:00Z", "T05:30:00Z")  # line 7: not on the hour
              + "2024-03-01T08:00:00Z,100,101,99,100.7,10\n")  # line 12: a second, different 08:00 bar
    whales = json.loads(GOOD_WHALES)
    whales["transactions"].append({**whales["transactions"][0], "amount_usd": "lots"})
    files_project(project, prices=prices, whales=json.dumps(whales))
    # the skipped rows leave 4 of 10 hours to fill: allowed here, to see them counted
    edit_params(project, **{"data.bad_rows": "skip", "data.partial_candle": "keep", "data.max_filled_share": 0.5})
    log = run_stage_in_process(project, "ingest").stderr
    assert ("prices: 5 malformed rows of data/raw/prices/BTC.csv skipped (data.bad_rows: skip): 1 non-numeric open "
            "(first: line 4: open 'abc' is not a number); 1 rows with high below low (first: line 5: high 98 is below "
            "low 99); 1 timestamps not on the hour (first: line 7:") in log
    assert "2 rows whose hour has another, different row (first: line 10:" in log
    assert "whales: 1 malformed rows of data/raw/whales/BTC.json skipped (data.bad_rows: skip): 1 non-numeric " \
           "amount_usd (first: transactions[1]: amount_usd 'lots' is not a number)" in log
    bars = pd.read_parquet(project / paths.prices("BTC"))
    assert bars["filled"].tolist() == [False, False, True, True, False, True, False, False, True, False]
    assert len(pd.read_parquet(project / paths.whales("BTC"))) == 1


def test_with_bad_rows_skip_a_file_of_only_bad_rows_is_still_an_error(project):
    files_project(project, prices=GOOD_PRICES.replace(",100,101,99,", ",100,98,99,"))
    edit_params(project, **{"data.bad_rows": "skip"})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "data/raw/prices/BTC.csv: no valid data rows")


# Model stages -----------------------------------------------------------------------------------------

MODEL_OUTPUTS = (paths.SEQUENCES, paths.MODELS, paths.METRICS)


@pytest.fixture(scope="module")
def featurized(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("featurized") / "project")
    edit_params(project, **{"currencies": ["BTC"], "data.synthetic.hours": 1000, **TINY_MODEL})
    run_stage_in_process(project, "ingest")
    run_stage_in_process(project, "featurize")
    return project


@pytest.fixture
def model_project(featurized, tmp_path):
    """A project with ingest and featurize done (976 feature rows) and nothing after."""
    return shutil.copytree(featurized, tmp_path / "project")


@pytest.fixture(scope="module")
def sequenced(featurized, tmp_path_factory):
    project = shutil.copytree(featurized, tmp_path_factory.mktemp("sequenced") / "project")
    run_stage_in_process(project, "sequence")
    return project


@pytest.fixture
def sequenced_project(sequenced, tmp_path):
    """model_project with the sequence stage done too."""
    return shutil.copytree(sequenced, tmp_path / "project")


SEQUENCE_PARAM_CASES = {
    "seq_len zero": ({"seq_len": 0}, "seq_len must be at least 1, got 0"),
    "seq_len as text": ({"seq_len": "24"}, "seq_len must be int, got '24'"),
    "seq_len longer than the training part": ({"seq_len": 700}, "seq_len=700 is longer than the training part "
                                                               "(683 of 976 hours)"),
    "fractions over 1": ({"split.test": 0.25}, "split: train + validation + test must sum to 1, got 1.1"),
    "an empty part": ({"split.train": 0.9, "split.validation": 0.0, "split.test": 0.1},
                      "split.validation must be a fraction between 0 and 1 (exclusive), got 0"),
    "a part emptied by the embargo": ({"seq_len": 400, "split.train": 0.8, "split.validation": 0.1,
                                       "split.test": 0.1}, "split: the train part is empty after an embargo "
                                                           "of 401 hours"),
    "no horizon": ({"target.horizon_hours": 0}, "target.horizon_hours must be at least 1, got 0"),
    "misspelt scaling key": ({"scaling": {"signed_log": []}}, "scaling.signed_log is not a setting"),
    "a number as a column pattern": ({"scaling.signed_log_columns": [1]}, "scaling: signed_log_columns must be a "
                                                                         "list of column-name patterns, got [1]"),
    "a misspelt feature group": ({"feature_groups": {"prices": True, "whale": False}},
                                 "feature_groups: 'whale' is not a feature group of data/features/BTC.parquet (its "
                                 "groups: whales, prices, news)"),
}


@pytest.mark.parametrize("case", SEQUENCE_PARAM_CASES)
def test_bad_sequence_params_are_named(model_project, case):
    changes, message = SEQUENCE_PARAM_CASES[case]
    edit_params(model_project, **changes)
    result = run_stage_in_process(model_project, "sequence", check=False)
    assert_clean_failure(result, model_project, f"params.yaml: {message}", outputs=MODEL_OUTPUTS)


def test_nans_in_the_feature_table_are_named(model_project):
    table = pd.read_parquet(model_project / paths.features("BTC"))
    table.loc[300:, "log_return_sum_6h"] = np.nan
    table.to_parquet(model_project / paths.features("BTC"), index=False)
    assert_clean_failure(run_stage(model_project, "sequence", check=False), model_project,
                         "data/features/BTC.parquet: column log_return_sum_6h has missing values (first at 2022-01-14 13:00 UTC)",
                         outputs=MODEL_OUTPUTS)


def test_a_feature_that_takes_a_sequence_table_name_is_refused(model_project):
    table = pd.read_parquet(model_project / paths.features("BTC"))
    table.rename(columns={"log_return_sum_6h": "label"}).to_parquet(model_project / paths.features("BTC"), index=False)
    assert_clean_failure(run_stage_in_process(model_project, "sequence", check=False), model_project,
                         "data/features/BTC.parquet: a feature is named 'label'", outputs=MODEL_OUTPUTS)


def training_outputs(project):
    """Every file train writes, with its bytes."""
    written = [project / paths.model("BTC"), *(project / paths.seed_models("BTC")).rglob("*"),
               *(project / paths.training_log("BTC")).rglob("*")]
    return {path: path.read_bytes() for path in written if path.is_file()}


def test_evaluate_refuses_a_model_made_for_another_seq_len_than_the_sequence_table_records(sequenced_project):
    """What `dvc repro` never does but a hand-run stage can: evaluate a model trained on windows of one length with
    a sequence table made for another. The model stages take seq_len from the table, not from params.yaml; evaluate
    names the stale model, which is kept as it was."""
    run_stage_in_process(sequenced_project, "train")
    trained = training_outputs(sequenced_project)
    edit_params(sequenced_project, seq_len=TINY_MODEL["seq_len"] + 6)
    run_stage_in_process(sequenced_project, "sequence")
    assert_clean_failure(run_stage_in_process(sequenced_project, "evaluate", check=False), sequenced_project,
                         "models/BTC/lstm_model_BTC.keras: the model reads windows of 12 hours x 38 features, "
                         "not seq_len=18 x 38", outputs=[paths.metrics("BTC"), paths.PREDICTIONS])
    assert training_outputs(sequenced_project) == trained


def test_a_part_with_one_class_is_named(model_project):
    prices = pd.read_parquet(model_project / paths.prices("BTC"))
    prices["close"] = np.linspace(100, 200, len(prices))  # the price only rises: every label is 0
    prices.to_parquet(model_project / paths.prices("BTC"), index=False)
    assert_clean_failure(run_stage_in_process(model_project, "sequence", check=False), model_project,
                         "data/interim/prices/BTC.parquet: the train part has only one class (",
                         outputs=MODEL_OUTPUTS)


MODEL_PARAM_CASES = {
    "no units": ("train", {"model.units": 0}, "model.units must be at least 1, got 0"),
    "one seed": ("train", {"model.n_seeds": 1}, "model.n_seeds must be at least 2, got 1"),
    "few resamples": ("evaluate", {"bootstrap.resamples": 100}, "bootstrap.resamples must be at least 1000, got 100"),
    "blocks longer than the test part": ("evaluate", {"bootstrap.block_days": 4}, "bootstrap: the test part has 146 "
                                         "hours, fewer than two bootstrap blocks of 96 hours"),
    "one shuffle": ("evaluate", {"importance.repeats": 1}, "importance.repeats must be at least 2, got 1"),
    "unknown fold window": ("walk_forward", {"walk_forward.window": "sliding"}, "walk_forward.window must be one of "
                                                                                "expanding, rolling, got 'sliding'"),
    "a first block emptied by the embargo": ("walk_forward", {"walk_forward.first_train": 0.02},
                                             "walk_forward: fold 1: the train part is empty after an embargo of 13 "
                                             "hours"),
    "crossed thresholds": ("backtest", {"backtest.lower": 0.6}, "backtest: needs lower <= upper (P(down) "
                                                                "thresholds), got lower 0.6 and upper 0.55"),
    "a word for a switch": ("backtest", {"backtest.long_only": "yes"}, "backtest.long_only must be bool, got 'yes'"),
    "a switch for a number": ("backtest", {"backtest.fee_bps": True}, "backtest.fee_bps must be float, got True"),
    "unknown class weighting": ("train", {"model.class_weight": "auto"}, "model.class_weight must be one of none, "
                                                                         "balanced, got 'auto'"),
    "dropout of 1": ("train", {"model.dropout": 1}, "model.dropout must be in 0..1, 1 excluded, got 1"),
    "text learning rate": ("train", {"model.learning_rate": "fast"}, "model.learning_rate must be float, got 'fast'"),
    "no boosting rounds": ("evaluate", {"baselines.boosting_max_iter": 0}, "baselines.boosting_max_iter must be at "
                                                                          "least 1, got 0"),
}


@pytest.mark.parametrize("case", MODEL_PARAM_CASES)
def test_bad_model_params_are_named(sequenced_project, case):
    stage, changes, message = MODEL_PARAM_CASES[case]
    edit_params(sequenced_project, **changes)
    result = run_stage_in_process(sequenced_project, stage, check=False)
    assert_clean_failure(result, sequenced_project, f"params.yaml: {message}",
                         outputs=[paths.METRICS, paths.PREDICTIONS])
    assert not (sequenced_project / paths.model("BTC")).exists()


def test_a_feature_table_without_its_groups_is_named(model_project):
    table = pd.read_parquet(model_project / paths.features("BTC"))
    table.attrs = {}
    table.to_parquet(model_project / paths.features("BTC"), index=False)
    assert_clean_failure(run_stage_in_process(model_project, "sequence", check=False), model_project,
                         "data/features/BTC.parquet: no feature groups recorded in the file: run featurize again",
                         outputs=MODEL_OUTPUTS)


def test_missing_inputs_of_the_evaluation_stages_are_named(model_project):
    assert_clean_failure(run_stage(model_project, "backtest", check=False), model_project,
                         "data/predictions/BTC.parquet: file not found", outputs=[paths.METRICS])
    result = run([sys.executable, "stages/report.py"], model_project, check=False)
    assert_clean_failure(result, model_project, "report: error: metrics/BTC.json: file not found",
                         outputs=[paths.METRICS, paths.REPORTS])


def test_missing_and_corrupt_inputs_of_the_model_stages_are_named(model_project):
    assert_clean_failure(run_stage(model_project, "train", check=False), model_project,
                         "data/sequences/BTC.parquet: file not found (run the stage that makes it: dvc repro)",
                         outputs=MODEL_OUTPUTS)
    run_stage_in_process(model_project, "sequence")
    assert_clean_failure(run_stage(model_project, "evaluate", check=False), model_project,
                         "models/BTC/lstm_model_BTC.keras: file not found", outputs=[paths.METRICS])
    (model_project / paths.model("BTC")).write_bytes(b"not a zip archive")
    assert_clean_failure(run_stage_in_process(model_project, "evaluate", check=False), model_project,
                         "models/BTC/lstm_model_BTC.keras: not a readable Keras model", outputs=[paths.METRICS])


def test_training_in_a_git_repository_without_commits_is_a_one_line_error(sequenced_project):
    # dvclive asks git for HEAD when it starts the training log; a fresh `git init` has none.
    run(["git", "init", "-q"], sequenced_project)
    assert_clean_failure(run_stage_in_process(sequenced_project, "train", check=False), sequenced_project,
                         "the git repository has no commit yet", "git commit", outputs=(paths.MODELS / "BTC" / "seeds",))
