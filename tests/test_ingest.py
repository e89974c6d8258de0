"""Parsing and cleaning of the raw price and whale formats."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from conftest import clean_market, small_market
from whalecast import ingest, paths, readers
from whalecast.errors import InputError

HEADER = "timestamp,open,high,low,close,volume\n"


def price_table(tmp_path, body, header=HEADER):
    path = tmp_path / "BTC.csv"
    path.write_text(header + body)
    return readers.read_csv(path)


@pytest.mark.parametrize("stamp", [
    "2024-03-01T05:00:00+00:00", "2024-03-01 05:00:00", "2024-03-01T07:00:00+02:00", "2024-03-01T05:00:00Z",
    "1709269200", "1709269200000", "1709269200000000",
])
def test_timestamp_formats_all_mean_the_same_utc_hour(tmp_path, stamp):
    bars = ingest.clean_prices(price_table(tmp_path, f"{stamp},1,2,1,2,10\n"), max_gap_hours=72)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 05:00", tz="UTC")]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_descending_input_with_extra_columns_is_sorted_and_typed(tmp_path):
    body = ("BTCUSDT,1709276400000,3,4,2,3,5\n"
            "BTCUSDT,1709272800000,2,3,1,3,6\n"
            "BTCUSDT,1709269200000,1,2,1,2,7\n")
    bars = ingest.clean_prices(price_table(tmp_path, body, "symbol,timestamp,open,high,low,close,volume\n"), 72)
    assert bars["timestamp"].is_monotonic_increasing
    assert bars["close"].tolist() == [2.0, 3.0, 3.0]
    assert list(bars.columns) == ["timestamp", "open", "high", "low", "close", "volume", "filled"]


def test_exact_duplicates_are_dropped_and_counted(tmp_path, caplog):
    body = "1709269200,1,2,1,2,7\n1709272800,2,3,1,3,6\n1709269200,1,2,1,2,7\n"
    with caplog.at_level(logging.INFO, logger="whalecast"):
        bars = ingest.clean_prices(price_table(tmp_path, body), 72)
    assert len(bars) == 2
    assert "1 exact duplicates dropped" in caplog.text


def test_missing_hours_become_flat_zero_volume_bars_and_are_counted(tmp_path, caplog):
    body = "1709269200,1,2,1,2,7\n1709280000,2,3,1,3,6\n"  # 05:00, then 08:00: 06:00 and 07:00 missing
    with caplog.at_level(logging.INFO, logger="whalecast"):
        bars = ingest.clean_prices(price_table(tmp_path, body), 72)
    assert bars["filled"].tolist() == [False, True, True, False]
    assert bars.loc[1, ["open", "high", "low", "close", "volume"]].tolist() == [2.0, 2.0, 2.0, 2.0, 0.0]
    assert "2 missing hours in 1 gaps (longest 2 h) filled" in caplog.text


def test_a_gap_longer_than_allowed_is_an_error(tmp_path):
    body = "1709269200,1,2,1,2,7\n1709280000,2,3,1,3,6\n"
    with pytest.raises(InputError, match="2 hours missing after 2024-03-01 05:00, more than data.max_gap_hours=1"):
        ingest.clean_prices(price_table(tmp_path, body), max_gap_hours=1)


def whale_response(transactions, **extra):
    return {"result": "success", "cursor": "0-0-0", "count": len(transactions), "transactions": transactions, **extra}


def transfer(timestamp=1709269300, symbol="btc", usd=600_000.0, source="unknown", target="exchange", **extra):
    return {"blockchain": "bitcoin", "symbol": symbol, "transaction_type": "transfer", "hash": "ab",
            "from": {"owner_type": source}, "to": {"owner": "binance", "owner_type": target},
            "timestamp": timestamp, "amount": usd / 60_000, "amount_usd": usd, **extra}


def test_whale_json_keeps_the_currency_in_any_case_and_counts_the_rest(tmp_path, caplog):
    path = tmp_path / "BTC.json"
    path.write_text(json.dumps(whale_response([
        transfer(timestamp=1709269400, symbol="BTC"), transfer(symbol="usdt"), transfer(symbol="btc"),
        transfer(symbol="btc"),  # exact duplicate of the one before
    ])))
    with caplog.at_level(logging.INFO, logger="whalecast"):
        whales = ingest.clean_whales(readers.read_whales_json(path), "BTC")
    assert whales["timestamp"].tolist() == [pd.Timestamp(1709269300, unit="s", tz="UTC"),
                                            pd.Timestamp(1709269400, unit="s", tz="UTC")]
    assert whales["to_owner"].tolist() == ["binance", "binance"]
    assert whales["from_owner"].isna().all()  # `owner` is absent for unknown wallets
    assert "1 of other symbols skipped, 1 duplicates dropped (0 with an id seen before, 1 identical" in caplog.text


def test_an_empty_api_response_is_a_currency_without_whales(tmp_path):
    path = tmp_path / "BTC.json"
    path.write_text(json.dumps({"result": "success", "cursor": "0-0-0", "count": 0}))
    whales = ingest.clean_whales(readers.read_whales_json(path), "BTC")
    assert whales.empty and "timestamp" in whales.columns


def test_a_byte_order_mark_and_a_null_transaction_list_are_accepted(tmp_path):
    path = tmp_path / "BTC.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"result": "success", "count": 0, "transactions": None}).encode())
    assert ingest.clean_whales(readers.read_whales_json(path), "BTC").empty


def test_whale_csv_with_only_the_required_columns(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text("timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,note\n"
                    "2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown,x\n"
                    "2024-03-01T05:20:00Z,btc,12,720000,Unknown,exchange,y\n")
    whales = ingest.clean_whales(readers.read_csv(path), "BTC")
    assert whales["from_owner_type"].tolist() == ["exchange", "unknown"]
    assert whales["hash"].isna().all()
    assert "note" not in whales.columns


def test_generated_market_survives_cleaning_unchanged():
    market = small_market(hours=200)
    prices, whales = clean_market(market)
    assert len(prices) == 200 and not prices["filled"].any()
    assert len(whales) == len(market.whales)
    assert whales["timestamp"].is_monotonic_increasing
    np.testing.assert_array_equal(prices["close"], market.prices["close"])


def whale_page(transactions, cursor="c"):
    return json.dumps({"result": "success", "cursor": cursor, "count": len(transactions), "transactions": transactions})


def whale_record(hash_, timestamp=1709254800, transaction_type="transfer", blockchain="bitcoin"):
    return {"blockchain": blockchain, "symbol": "btc", "hash": hash_, "timestamp": timestamp, "amount": 10,
            "amount_usd": 600000, "transaction_type": transaction_type,
            "from": {"owner_type": "unknown"}, "to": {"owner": "binance", "owner_type": "exchange"}}


def test_cursor_pages_are_merged_without_repeats(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    pages = tmp_path / paths.raw_whales_pages("BTC")
    pages.mkdir(parents=True)
    (pages / "0001.json").write_text(whale_page([whale_record("a"), whale_record("b"), whale_record(None)]))
    # The next page repeats "b" (cursor overlap); "b" on another chain and a hash-less record are new.
    (pages / "0002.json").write_text(whale_page([whale_record("b"), whale_record("b", blockchain="ethereum"),
                                                 whale_record(None, timestamp=1709258400, transaction_type="Mint")]))
    with caplog.at_level(logging.INFO, logger="whalecast"):
        table = readers.read_whales("BTC")
        whales = ingest.clean_whales(table, "BTC")
    assert "2 pages" in caplog.text and "1 duplicates dropped (0 with an id seen before, 1 identical" in caplog.text
    assert list(table.frame.index) == [f"{page}.json: transactions[{index}]" for page in ("0001", "0002")
                                       for index in range(3)]
    assert whales["transaction_type"].tolist() == ["transfer"] * 4 + ["mint"]
    assert "types: transfer 4, mint 1" in caplog.text


def test_an_error_on_a_page_names_the_page_and_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pages = tmp_path / paths.raw_whales_pages("BTC")
    pages.mkdir(parents=True)
    (pages / "0001.json").write_text(whale_page([whale_record("a")]))
    broken = whale_record("c")
    broken["amount_usd"] = "lots"
    (pages / "0002.json").write_text(whale_page([whale_record("b"), broken]))
    with pytest.raises(InputError, match=r"data/raw/whales/BTC: 0002.json: transactions\[1\]: amount_usd 'lots'"):
        ingest.clean_whales(readers.read_whales("BTC"), "BTC")


def test_with_skip_a_page_that_cannot_be_read_is_left_out_and_counted(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    pages = tmp_path / paths.raw_whales_pages("BTC")
    pages.mkdir(parents=True)
    (pages / "0001.json").write_text(whale_page([whale_record("a")]))
    (pages / "0002.json").write_text(whale_page([whale_record("b")])[:-30])  # cut off mid-way
    (pages / "0003.json").write_text(whale_page([whale_record("c")]))
    with pytest.raises(InputError, match="0002.json: malformed JSON"):
        readers.read_whales("BTC")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        table = readers.read_whales("BTC", skip_bad_pages=True)
    assert table.frame["hash"].tolist() == ["a", "c"]
    assert "1 of 3 pages in data/raw/whales/BTC skipped (data.bad_rows: skip); first: 0002.json: malformed JSON" \
        in caplog.text
