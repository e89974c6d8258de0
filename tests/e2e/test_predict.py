"""whalecast-predict against the evaluate stage (train/serve parity), on the sample market and on files, and its
refusals, on a real tiny model trained by `dvc repro` in a real git repository."""

import contextlib
import json
import logging
import os
import shutil
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import yaml

from conftest import BIN, MARKET, edit_params, run
from whalecast import paths
from whalecast.serve import predict

PARITY_HOURS = 50
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def trained(repo):
    run(["dvc", "repro", "evaluate@BTC"], repo)
    test_hours = pd.read_parquet(repo / paths.predictions("BTC"))
    step = max(1, len(test_hours) // PARITY_HOURS)
    return test_hours.iloc[::step].head(PARITY_HOURS).reset_index(drop=True)


def predict_cli(repo, *arguments, check=True):
    result = run(["whalecast-predict", "--currency", "BTC", *arguments], repo, check=check)
    return [json.loads(line) for line in result.stdout.splitlines()] if check else result


@contextlib.contextmanager
def predict_in_this_process(repo, monkeypatch):
    """In the repository, with what whalecast-predict's main sets for its process put back afterwards: the levels
    of the package's loggers (other tests read the package's INFO lines)."""
    loggers = [logging.getLogger(name) for name in ("whalecast", predict.__name__)]
    levels = [logger.level for logger in loggers]
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")  # for its `dvc status`
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def refused(repo, monkeypatch, capsys, caplog, *arguments) -> str:
    """whalecast-predict's main in this process, which must refuse: its one error line, with nothing said before it
    (no warning, no fetch progress). The answers and their warnings are checked through the command itself; a
    refusal needs no process of its own."""
    with predict_in_this_process(repo, monkeypatch), pytest.raises(SystemExit) as exit:
        predict.main(["--currency", "BTC", *arguments])
    assert capsys.readouterr() == ("", "")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("whalecast")] == []
    return str(exit.value)


def predicted_in_process(repo, monkeypatch, capsys, *arguments) -> list[dict]:
    """whalecast-predict's main in this process: its answers. (The command itself runs in the tests of the sample
    market's parity and of the newest hour; a second process would only load TensorFlow again.)"""
    capsys.readouterr()
    with predict_in_this_process(repo, monkeypatch):
        predict.main(["--currency", "BTC", *arguments])
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def assert_parity(hours, predicted):
    """predicted(*arguments): whalecast-predict's answers to those arguments."""
    assert len(hours) == PARITY_HOURS
    lines = predicted(*(argument for time in hours["timestamp"] for argument in ("--at", f"{time:%Y-%m-%dT%H:%M}")))
    assert [line["decision_time"] for line in lines] == [f"{time:%Y-%m-%dT%H:%M:%SZ}" for time in hours["timestamp"]]
    served = pd.Series([line["p_down"] for line in lines])
    difference = (served - hours["p_down_lstm"]).abs().max()
    assert difference < 1e-6, difference
    return lines


def test_predict_gives_what_evaluate_gave_on_50_test_hours_of_the_sample_market(repo, trained):
    lines = assert_parity(trained, lambda *arguments: predict_cli(repo, *arguments))
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    model_md5 = next(out["md5"] for out in lock["stages"]["train@BTC"]["outs"] if out["path"] == str(paths.model("BTC")))
    assert {line["model_md5"] for line in lines} == {model_md5}
    first = lines[0]
    assert first["horizon_hours"] == 1 and first["model"] == "models/BTC/lstm_model_BTC.keras"
    decision = pd.Timestamp(first["decision_time"])
    assert pd.Timestamp(first["last_price_bar"]["open_time"]) == decision - pd.Timedelta(hours=1)
    assert pd.Timestamp(first["last_whale_record"]["timestamp"]) <= decision


def test_predict_on_files_gives_the_same_probabilities(repo, trained, monkeypatch, capsys):
    # The sample market written as raw files: the file readers must give the model the same inputs.
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    edit_params(repo, **{"data.source": "files"})
    try:
        assert_parity(trained, lambda *arguments: predicted_in_process(repo, monkeypatch, capsys, *arguments))
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
def test_a_decision_time_it_cannot_serve_is_refused_in_one_line(repo, trained, monkeypatch, capsys, caplog, at, problem):
    message = refused(repo, monkeypatch, capsys, caplog, "--at", at)
    assert message.startswith(f"predict: error: {problem}") and "\n" not in message, message


def test_params_changed_since_training_are_refused_before_predicting(repo, trained, monkeypatch, capsys, caplog):
    edit_params(repo, seq_len=6)
    try:
        message = refused(repo, monkeypatch, capsys, caplog)
    finally:
        edit_params(repo, seq_len=12)
    assert message == ("predict: error: dvc.lock: the model was trained with other settings or code than the "
                       "workspace has (sequence@BTC: params seq_len modified); run dvc repro first, or check out the "
                       "commit the model belongs to")


def test_cleaning_code_changed_since_training_is_refused_before_predicting(repo, trained, monkeypatch, capsys, caplog):
    # Ingest's code cleans the data as the model saw it; only its data (and the params naming it) may differ.
    cleaning = repo / "src" / "whalecast" / "data" / "clean.py"
    original = cleaning.read_text()
    cleaning.write_text(original + "\n# a change to how raw data is cleaned\n")
    try:
        message = refused(repo, monkeypatch, capsys, caplog)
    finally:
        cleaning.write_text(original)
    assert message == ("predict: error: dvc.lock: the model was trained with other settings or code than the "
                       "workspace has (ingest@BTC: src/whalecast/data/clean.py modified); run dvc repro first, or "
                       "check out the commit the model belongs to")


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


WHALE_KEY = "test-key-predict"


class ExchangeAfter:
    """Binance's spot API holding `hours` closed hours after `last_open`, continuing from its close."""

    def __init__(self, last_open: pd.Timestamp, close: float, hours: int):
        first_ms = int(last_open.timestamp() * 1000) + HOUR_MS
        self.klines = [[first_ms + index * HOUR_MS, f"{close}", f"{close * 1.002}", f"{close * 0.998}",
                        f"{close * (1 + 0.001 * (-1) ** index)}", "12.5", first_ms + (index + 1) * HOUR_MS - 1,
                        "1000", 42, "5", "500", "0"] for index in range(hours)]

    def respond(self, path, headers):
        url = urlsplit(path)
        if url.path.endswith("/exchangeInfo"):  # the spot market; ccxt asks the futures APIs too: none there
            return 200, {"timezone": "UTC", "serverTime": self.klines[0][0],
                         "symbols": [MARKET] if url.path.startswith("/api/v3") else []}, {}
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        later = [kline for kline in self.klines if kline[0] >= int(query["startTime"])]
        return 200, later[:int(query["limit"])], {}


class WhaleAlertAfter:
    """The Whale Alert API answering the saved page's cursor with one page of new records, then nothing."""

    def __init__(self, records: list[dict]):
        self.records, self.requests = records, []

    def respond(self, path, headers):
        query = {key: values[0] for key, values in parse_qs(urlsplit(path).query).items()}
        self.requests.append(query)
        if headers.get("X-WA-API-KEY") != WHALE_KEY:
            return 401, {"result": "error", "message": "invalid api_key"}, {}
        if query.get("cursor") == "0-0-0":  # the cursor whalecast-sample-data saves, as a fetched page has one
            return 200, {"result": "success", "cursor": "next", "count": len(self.records),
                         "transactions": self.records}, {}
        return 200, {"result": "success", "count": 0, "transactions": []}, {}


def test_fetch_brings_prices_and_whales_up_to_date_then_predicts_the_newest_hour(repo, trained, local_server,
                                                                                 monkeypatch):
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    pages = repo / paths.raw_whales_pages("BTC")  # the whale history as pages, as whalecast-fetch-whales saves it
    pages.mkdir()
    (repo / paths.raw_whales_json("BTC")).rename(pages / "00001.json")
    history = pd.read_csv(repo / paths.raw_prices("BTC"))
    last_open = pd.Timestamp(history["timestamp"].iloc[-1])
    exchange = local_server(ExchangeAfter(last_open, history["close"].iloc[-1], hours=5).respond)
    new_times = [last_open + pd.Timedelta(minutes=minutes) for minutes in (70, 125, 270)]
    whale_alert = WhaleAlertAfter([
        {"id": f"new-{index}", "blockchain": "bitcoin", "symbol": "btc", "transaction_type": "transfer",
         "hash": f"n{index}", "from": {"owner_type": "unknown"}, "to": {"owner": "binance", "owner_type": "exchange"},
         "timestamp": int(time.timestamp()), "amount": 20, "amount_usd": 900_000} for index, time in enumerate(new_times)])
    whale_server = local_server(whale_alert.respond)
    monkeypatch.setenv("WHALE_ALERT_API_KEY", WHALE_KEY)
    edit_params(repo, **{"data.source": "files", "data.partial_candle": "keep"})
    try:
        result = predict_cli(repo, "--fetch", "--exchange-api-url", exchange.url, "--whale-alert-api-url",
                             f"{whale_server.url}/v1", check=False)
    finally:
        edit_params(repo, **{"data.source": "synthetic", "data.partial_candle": "auto"})
        shutil.rmtree(pages)
    assert result.returncode == 0, result.stderr
    assert "fetched 5 hours of BTC/USDT from binance and 1 Whale Alert pages" in result.stderr
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    newest_open = last_open + pd.Timedelta(hours=5)
    assert line["decision_time"] == f"{newest_open + pd.Timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    assert line["last_price_bar"]["open_time"] == f"{newest_open:%Y-%m-%dT%H:%M:%SZ}"
    assert line["last_whale_record"]["timestamp"] == f"{new_times[-1]:%Y-%m-%dT%H:%M:%SZ}"
    assert 0 < line["p_down"] < 1
    assert len(pd.read_csv(repo / paths.raw_prices("BTC"))) == len(history) + 5
    assert whale_alert.requests[0]["cursor"] == "0-0-0"  # resumed after the saved page


@pytest.mark.parametrize("source, key, epoch_prices, problem", [
    ("synthetic", WHALE_KEY, False, "params.yaml: data.source is synthetic: the sample market has nothing to fetch "
                                    "(--fetch needs data.source: files)"),
    ("files", "", False, "WHALE_ALERT_API_KEY: not set: --fetch needs your Whale Alert API key"),
    # The fetcher resumes after an ISO time; from an epoch number it would start in 1970.
    ("files", WHALE_KEY, True, "data/raw/prices/BTC.csv: --fetch appends to the price file whalecast-fetch-prices "
                               "writes (the generic layout, ISO-8601 times); this is not one: fetch the history with "
                               "whalecast-fetch-prices first"),
])
def test_fetch_is_refused_in_one_line_before_any_request(repo, trained, monkeypatch, capsys, caplog, source, key,
                                                         epoch_prices, problem):
    run(["whalecast-sample-data", "--currencies", "BTC"], repo)
    if epoch_prices:
        prices = pd.read_csv(repo / paths.raw_prices("BTC"))
        prices["timestamp"] = pd.to_datetime(prices["timestamp"]).astype("int64") // 10**9
        prices.to_csv(repo / paths.raw_prices("BTC"), index=False)
    pages = repo / paths.raw_whales_pages("BTC")
    pages.mkdir()
    (repo / paths.raw_whales_json("BTC")).rename(pages / "00001.json")
    monkeypatch.setenv("WHALE_ALERT_API_KEY", key)
    edit_params(repo, **{"data.source": source})
    try:
        message = refused(repo, monkeypatch, capsys, caplog, "--fetch", "--exchange-api-url", "http://127.0.0.1:9",
                          "--whale-alert-api-url", "http://127.0.0.1:9/v1")
    finally:
        edit_params(repo, **{"data.source": "synthetic"})
        shutil.rmtree(pages)
    assert message == f"predict: error: {problem}"
