"""Parsing and cleaning of the raw price and whale formats."""

import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import clean_market, small_market
from whalecast import paths
from whalecast.data import clean, delays, price_bars, raw_files, whale_transfers
from whalecast.errors import InputError

HEADER = "timestamp,open,high,low,close,volume\n"


def price_table(tmp_path, body, header=HEADER):
    path = tmp_path / "BTC.csv"
    path.write_text(header + body)
    return raw_files.read_csv(path)


@pytest.mark.parametrize("stamp", [
    "2024-03-01T05:00:00+00:00", "2024-03-01 05:00:00", "2024-03-01T07:00:00+02:00", "2024-03-01T05:00:00Z",
    "1709269200", "1709269200000", "1709269200000000",
])
def test_timestamp_formats_all_mean_the_same_utc_hour(tmp_path, stamp):
    bars = price_bars.clean_prices(price_table(tmp_path, f"{stamp},1,2,1,2,10\n"), max_gap_hours=72)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 05:00", tz="UTC")]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_descending_input_with_extra_columns_is_sorted_and_typed(tmp_path):
    body = ("BTCUSDT,1709276400000,3,4,2,3,5\n"
            "BTCUSDT,1709272800000,2,3,1,3,6\n"
            "BTCUSDT,1709269200000,1,2,1,2,7\n")
    bars = price_bars.clean_prices(price_table(tmp_path, body, "symbol,timestamp,open,high,low,close,volume\n"), 72)
    assert bars["timestamp"].is_monotonic_increasing
    assert bars["close"].tolist() == [2.0, 3.0, 3.0]
    assert list(bars.columns) == ["timestamp", "open", "high", "low", "close", "volume", "filled"]


def test_exact_duplicates_are_dropped_and_counted(tmp_path, caplog):
    body = "1709269200,1,2,1,2,7\n1709272800,2,3,1,3,6\n1709269200,1,2,1,2,7\n"
    with caplog.at_level(logging.INFO, logger="whalecast"):
        bars = price_bars.clean_prices(price_table(tmp_path, body), 72)
    assert len(bars) == 2
    assert "1 exact duplicates dropped" in caplog.text


def test_missing_hours_become_flat_zero_volume_bars_and_are_counted(tmp_path, caplog):
    body = "1709269200,1,2,1,2,7\n1709280000,2,3,1,3,6\n"  # 05:00, then 08:00: 06:00 and 07:00 missing
    with caplog.at_level(logging.INFO, logger="whalecast"):
        bars = price_bars.clean_prices(price_table(tmp_path, body), 72)
    assert bars["filled"].tolist() == [False, True, True, False]
    assert bars.loc[1, ["open", "high", "low", "close", "volume"]].tolist() == [2.0, 2.0, 2.0, 2.0, 0.0]
    assert "2 missing hours in 1 gaps (longest 2 h) filled" in caplog.text


def test_a_gap_longer_than_allowed_is_an_error(tmp_path):
    body = "1709269200,1,2,1,2,7\n1709280000,2,3,1,3,6\n"
    with pytest.raises(InputError, match="2 hours missing after 2024-03-01 05:00, more than data.max_gap_hours=1"):
        price_bars.clean_prices(price_table(tmp_path, body), max_gap_hours=1)


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
        whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC")
    assert whales["timestamp"].tolist() == [pd.Timestamp(1709269300, unit="s", tz="UTC"),
                                            pd.Timestamp(1709269400, unit="s", tz="UTC")]
    assert whales["to_owner"].tolist() == ["binance", "binance"]
    assert whales["from_owner"].isna().all()  # `owner` is absent for unknown wallets
    assert "1 of other symbols skipped, 1 duplicates dropped (0 with an id seen before, 1 identical" in caplog.text


def test_an_empty_api_response_is_a_currency_without_whales(tmp_path):
    path = tmp_path / "BTC.json"
    path.write_text(json.dumps({"result": "success", "cursor": "0-0-0", "count": 0}))
    whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC")
    assert whales.empty and "timestamp" in whales.columns


def test_a_byte_order_mark_and_a_null_transaction_list_are_accepted(tmp_path):
    path = tmp_path / "BTC.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"result": "success", "count": 0, "transactions": None}).encode())
    assert whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC").empty


def test_whale_csv_with_only_the_required_columns(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text("timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,note\n"
                    "2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown,x\n"
                    "2024-03-01T05:20:00Z,btc,12,720000,Unknown,exchange,y\n")
    whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales["from_owner_type"].tolist() == ["exchange", "unknown"]
    assert whales["blockchain"].isna().all()
    assert "note" not in whales.columns and "hash" not in whales.columns  # the hash only tells records apart


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
        table = whale_transfers.read_whales("BTC")
        whales = whale_transfers.clean_whales(table, "BTC")
    assert "2 pages" in caplog.text and "1 duplicates dropped (0 with an id seen before, 1 identical" in caplog.text
    assert [table.row(label) for label in table.frame.index] == [
        f"{page}.json: transactions[{index}]" for page in ("0001", "0002") for index in range(3)]
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
        whale_transfers.clean_whales(whale_transfers.read_whales("BTC"), "BTC")


def test_with_skip_a_page_that_cannot_be_read_is_left_out_and_counted(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    pages = tmp_path / paths.raw_whales_pages("BTC")
    pages.mkdir(parents=True)
    (pages / "0001.json").write_text(whale_page([whale_record("a")]))
    (pages / "0002.json").write_text(whale_page([whale_record("b")])[:-30])  # cut off mid-way
    (pages / "0003.json").write_text(whale_page([whale_record("c")]))
    with pytest.raises(InputError, match="0002.json: malformed JSON"):
        whale_transfers.read_whales("BTC")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        table = whale_transfers.read_whales("BTC", skip_bad_pages=True)
    assert table.frame["hash"].tolist() == ["a", "c"]
    assert "1 of 3 pages in data/raw/whales/BTC skipped (data.bad_rows: skip); first: 0002.json: malformed JSON" \
        in caplog.text


# --- edges, in-process (mutation testing counts only tests that call the package in this process; the stage
# tests in test_bad_input.py reach the same branches through a subprocess) ------------------------------------

def log_messages(caplog, logger):
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name.startswith(logger)]


def write(tmp_path, text, name="BTC.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_missing_a_directory_and_an_empty_price_file_are_named(tmp_path):
    for path, problem in ((tmp_path / "BTC.csv", "file not found"), (tmp_path, "is a directory, not a file"),
                          (write(tmp_path, "", "empty.csv"), "file is empty")):
        with pytest.raises(InputError) as raised:
            raw_files.read_csv(path)
        assert str(raised.value) == f"{path}: {problem}"


@pytest.mark.parametrize("text, problem", [
    ("\n\n", "file has no header line"),
    ("a,b\n1,2\n1,2,3\n", "malformed CSV: Error tokenizing data. C error: Expected 2 fields in line 3, saw 3"),
    ("timestamp,Close,close\n1,2,3\n", "column 'close' appears more than once in the header"),
    ("timestamp\topen\n1\t2\n", "looks tab-separated; save it comma-separated (CSV)"),
    ("timestamp;open\n1;2,5\n", "looks like `;`-separated with `,` decimals (a spreadsheet's export in some locales); "
                                "save it comma-separated with `.` decimals"),
    ("timestamp;open\n1;2.5\n", "looks like `;`-separated (a spreadsheet's export in some locales); save it "
                                "comma-separated with `.` decimals"),
])
def test_csv_files_that_cannot_be_read_as_a_table_are_named(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as raised:
        raw_files.read_csv(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_bytes(b"timestamp,open\n\xff\xfe,1\n")
    with pytest.raises(InputError, match="BTC.csv: not UTF-8 text$"):
        raw_files.read_csv(path)


def test_a_header_below_other_lines_keeps_the_file_line_numbers(tmp_path):
    path = write(tmp_path, "source: an exchange\nTimestamp, Open\n1,2\n\n3,4\n")
    table = raw_files.read_csv(path, header_line=2)
    assert list(table.frame.columns) == ["timestamp", "open"]
    assert table.frame.index.tolist() == [3, 5] and table.frame["open"].tolist() == ["2", "4"]
    assert table.row(5) == "line 5" and table.source == str(path)
    assert str(table.fail(5, "open is odd")) == f"{path}: line 5: open is odd"


@pytest.mark.parametrize("first_line, layout", [
    ("https://www.CryptoDataDownload.com", "cryptodatadownload"), ("http://example.com", "cryptodatadownload"),
    ("www.cryptodatadownload.com", "cryptodatadownload"), ("1709269200000,1,2,1,2,3", "binance_kline"),
    ("\ufeff1709269200,1,2,1,2,3", "binance_kline"), ("timestamp,open,high,low,close,volume", "generic"),
    ("unix,date,symbol", "generic"),
])
def test_the_price_layout_is_told_by_the_first_line(tmp_path, first_line, layout):
    assert price_bars.detect_price_format(write(tmp_path, first_line + "\n")) == layout


def test_the_log_says_whether_the_layout_was_detected_or_given(tmp_path, caplog):
    path = write(tmp_path, HEADER + "1709269200,1,2,1,2,7\n")
    with caplog.at_level("INFO", logger="whalecast"):
        assert price_bars.read_prices(path, "BTC")[1] == "generic"
        assert price_bars.read_prices(path, "BTC", "generic")[1] == "generic"
    assert log_messages(caplog, "whalecast.data") == [("INFO", f"prices: {path} read as generic (detected)"),
                                                         ("INFO", f"prices: {path} read as generic")]


def test_a_price_file_and_a_price_directory_cannot_both_be_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths.raw_prices_dir("BTC").mkdir(parents=True)
    with pytest.raises(InputError) as raised:
        price_bars.read_price_files("BTC")
    assert str(raised.value) == "data/raw/prices/BTC: no *.csv price files in the directory"
    paths.raw_prices("BTC").write_text(HEADER)
    with pytest.raises(InputError) as raised:
        price_bars.read_price_files("BTC")
    assert str(raised.value) == ("data/raw/prices/BTC.csv: both data/raw/prices/BTC.csv and the directory "
                                 "data/raw/prices/BTC/ exist; keep one")


def test_a_single_price_file_is_read_on_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths.raw_prices("BTC").parent.mkdir(parents=True)
    paths.raw_prices("BTC").write_text(HEADER + "1709269200,1,2,1,2,7\n")
    table, layouts = price_bars.read_price_files("BTC", "generic")
    assert layouts == ["generic"] and table.frame.index.tolist() == [2] and table.source == "data/raw/prices/BTC.csv"


def test_price_files_of_two_layouts_in_one_directory_are_one_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    directory = paths.raw_prices_dir("BTC")
    directory.mkdir(parents=True)
    (directory / "a.csv").write_text("1709269200000,1,2,1,2,7,1709272799999,14,3,1,2,0\n")
    (directory / "b.csv").write_text(HEADER + "1709272800,2,3,1,3,6\n")
    (directory / "notes.txt").write_text("not a price file")
    table, layouts = price_bars.read_price_files("BTC")
    assert layouts == ["binance_kline", "generic"]
    assert table.file_numbers(table.frame.index).tolist() == [0, 1]
    assert table.source == "data/raw/prices/BTC" and [table.row(label) for label in table.frame.index] == ["a.csv: line 1", "b.csv: line 2"]
    assert table.row(1) == "b.csv: line 2"
    bars = price_bars.clean_prices(table, max_gap_hours=0)
    assert bars["close"].tolist() == [2.0, 3.0]


def test_a_cryptodatadownload_file_without_its_columns_is_named(tmp_path):
    path = write(tmp_path, "https://www.CryptoDataDownload.com\nunix,open,high,low,close,Volume USD\n1,2,3,1,2,5\n")
    with pytest.raises(InputError) as raised:
        price_bars.read_prices(path, "BTC")
    assert str(raised.value) == (f"{path}: missing column 'volume btc' of the CryptoDataDownload layout (have: unix, "
                                 "open, high, low, close, volume usd)")
    path = write(tmp_path, "https://www.CryptoDataDownload.com\ndate,Volume BTC\n1,2\n")
    with pytest.raises(InputError, match="missing column 'unix' of the CryptoDataDownload layout"):
        price_bars.read_prices(path, "BTC")


def test_a_cryptodatadownload_row_is_swapped_only_where_the_swap_fits(tmp_path, caplog):
    path = write(tmp_path, "https://www.CryptoDataDownload.com\nunix,open,high,low,close,Volume BTC,Volume USD\n"
                           "1709272800,2,3,1,2,10,20\n"         # 10 BTC x 2 = 20 USD: as labelled
                           "1709269200,2,3,1,2,20,10\n")        # 20 "BTC" x 2 = 40, 10 x 2 = 20: swapped
    with caplog.at_level("INFO", logger="whalecast"):
        table, _ = price_bars.read_prices(path, "BTC")
    assert table.frame[["volume", "volume usd"]].astype(float).to_numpy().tolist() == [[10, 20], [10, 20]]
    assert ("INFO", f"prices: 1 of 2 rows of {path} had 'volume btc' and 'volume usd' swapped (volume x close matched "
                    "the other column); swapped back") in log_messages(caplog, "whalecast.data")


def test_a_linked_price_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    paths.raw_prices_dir("BTC").parent.mkdir(parents=True)
    paths.raw_prices_dir("BTC").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(InputError) as raised:
        price_bars.read_price_files("BTC")
    assert str(raised.value) == ("data/raw/prices/BTC: a linked folder inside data/raw/prices, which DVC does not "
                                 "follow (a change behind the link would go unnoticed); copy the files in, or link "
                                 "data/raw/prices itself to the folder that holds them")


@pytest.mark.parametrize("text, problem", [
    ("  \n", "file is empty"),
    ('{"result": "success", "transactions": [', "malformed JSON at line 1 column 40: Expecting value"),
    ("[1, 2]", "not a Whale Alert /transactions response (expected a JSON object)"),
    ('{"result": "error", "message": "invalid api_key"}', "API result is 'error': invalid api_key"),
    ('{"result": "error"}', "API result is 'error':"),
    ('{"result": "success", "count": 2}', "not a Whale Alert /transactions response (no 'transactions' list)"),
    ('{"transactions": {}}', "not a Whale Alert /transactions response (no 'transactions' list)"),
    ('{"transactions": [5]}', "transactions[0]: not a JSON object"),
])
def test_whale_json_that_is_no_transactions_response_is_named(tmp_path, text, problem):
    path = write(tmp_path, text, "BTC.json")
    with pytest.raises(InputError) as raised:
        whale_transfers.read_whales_json(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_whale_json_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "BTC.json"
    path.write_bytes(b'{"transactions": ["\xff"]}')
    with pytest.raises(InputError, match="BTC.json: not UTF-8 text$"):
        whale_transfers.read_whales_json(path)


@pytest.mark.parametrize("change, problem", [
    ({"to": None}, "transactions[1]: missing field 'to'"),
    ({"timestamp": None}, "transactions[1]: missing field 'timestamp'"),
    ({"symbol": None}, "transactions[1]: missing field 'symbol'"),
    ({"amount": None}, "transactions[1]: missing field 'amount'"),
    ({"from": "exchange"}, "transactions[1].from: missing field 'owner_type'"),
    ({"to": {"owner": "binance"}}, "transactions[1].to: missing field 'owner_type'"),
    ({"to": {"owner_type": ["exchange"]}}, "transactions[1].to.owner_type: ['exchange'] is not text"),
])
def test_a_whale_record_without_its_fields_is_named(tmp_path, change, problem):
    broken = transfer()
    for key, value in change.items():
        if value is None:
            del broken[key]
        else:
            broken[key] = value
    path = write(tmp_path, json.dumps(whale_response([transfer(), broken])), "BTC.json")
    with pytest.raises(InputError) as raised:
        whale_transfers.read_whales_json(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_a_whale_record_is_read_field_by_field(tmp_path):
    record = transfer(id=123456789, source="unknown", target="exchange")
    record["from"]["owner"] = "a wallet"
    path = write(tmp_path, json.dumps(whale_response([record, {**transfer(), "id": None, "to": {"owner_type": None}}])),
                 "BTC.json")
    table = whale_transfers.read_whales_json(path)
    assert table.row(1) == "transactions[1]" and table.source == str(path)
    assert list(table.frame.columns) == whale_transfers.WHALE_COLUMNS
    assert table.frame.iloc[0].tolist() == [1709269300, "btc", 10.0, 600_000.0, "unknown", "exchange", "123456789",
                                            "bitcoin", "ab", "a wallet", "binance", "transfer"]
    assert pd.isna(table.frame.loc[1, "id"]) and pd.isna(table.frame.loc[1, "to_owner_type"])


def test_whale_pages_need_at_least_one_page(tmp_path):
    with pytest.raises(InputError) as raised:
        whale_transfers.read_whale_pages(tmp_path)
    assert str(raised.value) == f"{tmp_path}: no *.json response pages in the directory"


def test_one_whale_source_of_three_must_be_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as raised:
        whale_transfers.read_whales("BTC")
    assert str(raised.value) == "data/raw/whales/BTC.json: file not found (nor BTC.csv or a directory BTC/)"
    paths.raw_whales_csv("BTC").parent.mkdir(parents=True)
    paths.raw_whales_csv("BTC").write_text("timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"
                                           "2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown\n")
    table = whale_transfers.read_whales("BTC")
    assert table.frame.index.tolist() == [2] and table.frame["amount_usd"].tolist() == [600000.0]  # read typed
    paths.raw_whales_json("BTC").write_text(json.dumps(whale_response([transfer()])))
    with pytest.raises(InputError) as raised:
        whale_transfers.read_whales("BTC")
    assert str(raised.value) == ("data/raw/whales/BTC.json: data/raw/whales/BTC.json and data/raw/whales/BTC.csv all "
                                 "exist; keep one")
    paths.raw_whales_csv("BTC").unlink()
    table = whale_transfers.read_whales("BTC")  # read as a Whale Alert response
    assert table.frame.index.tolist() == [0] and table.row(0) == "transactions[0]"
    assert table.frame["amount_usd"].tolist() == [600_000.0]


def test_a_linked_whale_pages_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "0001.json").write_text(whale_page([whale_record("a")]))
    paths.raw_whales_pages("BTC").parent.mkdir(parents=True)
    paths.raw_whales_pages("BTC").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(InputError, match="^data/raw/whales/BTC: a linked folder inside data/raw/whales, which DVC"):
        whale_transfers.read_whales("BTC")


# clean_prices: every check, by the message it raises (as test_bad_input.py does through the stage)
GOOD_ROW = "2024-03-01T00:00:00Z,1,2,1,2,3\n"
BAD_PRICES = {
    "scientific notation": (HEADER + "1709254855000,1,2,1,2,3\n1.70925E+12,1,2,1,2,3\n",
                            "line 3: timestamp '1.70925E+12' is in scientific notation, as a spreadsheet shows large "
                            "numbers: rounded to a few digits it can be hours off; export the column as whole numbers "
                            "or ISO-8601 text"),
    "Excel serial date": (HEADER + "45352.5,1,2,1,2,3\n45352.541667,1,2,1,2,3\n",
                          "line 2: timestamp '45352.5' looks like an Excel serial date (2024-03-01 12:00); export the "
                          "column as ISO-8601 text or epoch seconds"),
    "epoch among ISO": (HEADER + GOOD_ROW + "1709262000,1,2,1,2,3\n",
                        "line 3: timestamp '1709262000' is an epoch number, but other rows are ISO-8601 text"),
    "unreadable": (HEADER + GOOD_ROW + "yesterday,1,2,1,2,3\n",
                   "line 3: timestamp 'yesterday' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds"),
    "empty timestamp": (HEADER + GOOD_ROW + ",1,2,1,2,3\n", "line 3: timestamp is empty"),
    "ISO before 1970": (HEADER + GOOD_ROW + "1969-12-31T23:00:00Z,1,2,1,2,3\n",
                        "line 3: timestamp '1969-12-31T23:00:00Z' is outside 1970..2100"),
    "ISO after 2100": (HEADER + GOOD_ROW + "2100-01-01T01:00:00Z,1,2,1,2,3\n",
                       "line 3: timestamp '2100-01-01T01:00:00Z' is outside 1970..2100"),
    "negative epoch": (HEADER + "1709254800,1,2,1,2,3\n-3600,1,2,1,2,3\n",
                       "line 3: timestamp -3600 is outside 1970..2100 in any epoch unit"),
    "epoch beyond microseconds": (HEADER + "1709254800,1,2,1,2,3\n500000000000000000000,1,2,1,2,3\n",
                                  "line 3: timestamp 5e+20 is outside 1970..2100 in any epoch unit"),
    "clock change": (HEADER + "2024-03-31 01:00:00 Europe/Berlin,1,2,1,2,3\n"
                              "2024-03-31 02:00:00 Europe/Berlin,1,2,1,2,3\n",
                     "line 3: timestamp '2024-03-31 02:00:00 Europe/Berlin' is skipped or repeated when clocks change "
                     "in Europe/Berlin; write it with an offset (+01:00) instead"),
    "non-positive open": (HEADER + "2024-03-01T00:00:00Z,0,2,1,2,3\n", "line 2: open is 0; prices must be positive"),
    "non-positive low": (HEADER + "2024-03-01T00:00:00Z,1,2,-1,2,3\n", "line 2: low is -1; prices must be positive"),
    "negative volume": (HEADER + "2024-03-01T00:00:00Z,1,2,1,2,-3.5\n",
                        "line 2: volume is -3.5; volume cannot be negative"),
    "high below low": (HEADER + "2024-03-01T00:00:00Z,1,0.5,1,2,3\n", "line 2: high 0.5 is below low 1"),
    "open above high": (HEADER + "2024-03-01T00:00:00Z,2.5,2,1,2,3\n", "line 2: open 2.5 is outside low..high 1..2"),
    "close below low": (HEADER + "2024-03-01T00:00:00Z,1,2,1,0.5,3\n", "line 2: close 0.5 is outside low..high 1..2"),
    "not on the hour": (HEADER + "2024-03-01T00:00:01Z,1,2,1,2,3\n",
                        "line 2: timestamp 2024-03-01 00:00:01 is not on the hour (hourly bars are stamped with their "
                        "open time)"),
    "empty number": (HEADER + "2024-03-01T00:00:00Z,1, ,1,2,3\n", "line 2: high is empty"),
    "blank quoted number": (HEADER + '2024-03-01T00:00:00Z,1," ",1,2,3\n', "line 2: high is empty"),
    "infinite number": (HEADER + "2024-03-01T00:00:00Z,1,2,1,2,inf\n", "line 2: volume 'inf' is not a number"),
    "two bars for an hour": (HEADER + GOOD_ROW + "2024-03-01T01:00:00Z,1,2,1,2,3\n2024-03-01T00:00:00Z,1,2,1,2,4\n",
                             "line 4: timestamp 2024-03-01 00:00 also on line 2 with other values"),
    "missing column": ("timestamp,open,high,low,close\n1,2,3,4,5\n",
                       "missing required column 'volume' (have: timestamp, open, high, low, close)"),
    "no rows": (HEADER, "no data rows"),
    "local time, spring": (HEADER + "".join(
        f"{time:%Y-%m-%d %H:%M:%S},1,2,1,2,{row}\n" for row, time in
        enumerate(pd.date_range("2024-03-30", periods=48, freq="h", tz="UTC").tz_convert("Europe/Berlin"))),
        "looks like local time, not UTC: 2024-03-31 02:00 is missing, as when clocks change in Europe/Berlin; "
        "export it in UTC, or with an offset (+01:00)"),
}


@pytest.mark.parametrize("case", BAD_PRICES)
def test_bad_price_rows_are_named_by_line_and_problem(tmp_path, case):
    text, problem = BAD_PRICES[case]
    path = write(tmp_path, text)
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72)
    assert str(raised.value) == f"{path}: {problem}"


def test_a_timezone_aware_timestamp_column_is_taken_as_is():
    times = pd.Series(pd.date_range("2024-03-01 01:00", periods=2, freq="h", tz="Europe/Berlin"))
    frame = pd.DataFrame({"timestamp": times, "open": ["1", "1"], "high": ["2", "2"], "low": ["1", "1"],
                          "close": ["2", "2"], "volume": ["3", "3"]})
    bars = price_bars.clean_prices(raw_files.RawTable(frame, "memory"), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 00:00", tz="UTC"),
                                          pd.Timestamp("2024-03-01 01:00", tz="UTC")]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_cleaning_prices_logs_every_count(tmp_path, caplog):
    path = write(tmp_path, HEADER + "2024-03-01T05:00:00Z,1,2,1,2,7\n2024-03-01T03:00:00Z,1,2,1,2,7\n"
                                    "2024-03-01T09:00:00Z,1,2,1,2,7\n2024-03-01T03:00:00Z,1,2,1,2,7\n"
                                    "2024-03-01T04:00:00Z,1,2,1,2,7\n2024-03-01T11:00:00Z,1,2,1,2,7\n")
    with caplog.at_level("INFO", logger="whalecast"):
        bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=3)
    assert bars["filled"].tolist() == [False] * 3 + [True] * 3 + [False, True, False]
    assert log_messages(caplog, "whalecast.data") == [(
        "INFO", f"prices: 6 rows from {path} (re-sorted), 1 exact duplicates dropped, 4 missing hours in 2 gaps "
                "(longest 3 h) filled as flat zero-volume bars (44.4% of the hours), 9 hourly bars 2024-03-01 03:00 .. 2024-03-01 11:00")]


def test_with_skip_every_kind_of_bad_price_row_is_counted_with_its_first_example(tmp_path, caplog):
    path = write(tmp_path, HEADER + "2024-03-01T00:00:00Z,1,2,1,2,7\n2024-03-01T01:00:00Z,abc,2,1,2,7\n"
                                    "2024-03-01T02:00:00Z,1,2,1,2,x\n2024-03-01T03:00:00Z,1,2,1,2,7\n"
                                    "2024-03-01T03:00:00Z,1,2,1,2,8\n2024-03-01T04:30:00Z,1,2,1,2,7\n"
                                    "2024-03-01T05:00:00Z,1,0.5,1,2,7\n2024-03-01T06:00:00Z,1,2,1,2,7\n"
                                    "2024-03-01T07:00:00Z,,2,1,2,7\n")
    with caplog.at_level("INFO", logger="whalecast"):
        bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72, skip_bad_rows=True)
    # Both 03:00 bars go (which is right cannot be known), and every hour of a dropped row is filled.
    assert bars["filled"].tolist() == [False, True, True, True, True, True, False]
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"prices: 7 malformed rows of {path} skipped (data.bad_rows: skip): 2 non-numeric open (first: "
                    "line 3: open 'abc' is not a number); 1 non-numeric volume (first: line 4: volume 'x' is not a "
                    "number); 1 rows with high below low (first: line 8: high 0.5 is below low 1); 1 timestamps not "
                    "on the hour (first: line 7: timestamp 2024-03-01 04:30:00 is not on the hour (hourly bars are "
                    "stamped with their open time)); 2 rows whose hour has another, different row (first: line 5: "
                    "timestamp 2024-03-01 03:00 has other rows with other values)"),
        ("INFO", f"prices: 9 rows from {path} (ascending), 0 exact duplicates dropped, 5 missing hours in 1 gaps "
                 "(longest 5 h) filled as flat zero-volume bars (71.4% of the hours), 7 hourly bars 2024-03-01 00:00 .. 2024-03-01 06:00"),
    ]


def test_with_skip_a_local_time_file_is_still_refused(tmp_path):
    autumn = pd.date_range("2024-10-26", periods=48, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    path = write(tmp_path, HEADER + "".join(f"{time:%Y-%m-%d %H:%M:%S},1,2,1,2,{row}\n"
                                            for row, time in enumerate(autumn)))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72, skip_bad_rows=True)
    assert str(raised.value) == (f"{path}: looks like local time, not UTC: 2024-10-27 02:00 appears twice, as when "
                                 "clocks change in Europe/Berlin; export it in UTC, or with an offset (+01:00)")


def test_the_newest_bar_is_dropped_unless_it_is_the_only_one(tmp_path, caplog):
    # Written newest first, as CryptoDataDownload does: the newest bar is on line 2, not the last line.
    path = write(tmp_path, HEADER + "2024-03-01T02:00:00Z,3,3,3,3,1\n2024-03-01T01:00:00Z,2,2,2,2,1\n"
                                    "2024-03-01T00:00:00Z,1,1,1,1,1\n")
    with caplog.at_level("INFO", logger="whalecast"):
        kept = price_bars.clean_prices(raw_files.read_csv(path), 72, drop_newest=[True], drop_reason="it may be partial")
    assert kept["close"].tolist() == [1, 2]
    assert log_messages(caplog, "whalecast.data")[0] == (
        "INFO", "prices: newest bar of 1 file dropped (2024-03-01 02:00, line 2): it may be partial")
    assert price_bars.clean_prices(raw_files.read_csv(path), 72, drop_newest=[False])["close"].tolist() == [1, 2, 3]
    path = write(tmp_path, HEADER + "2024-03-01T00:00:00Z,1,1,1,1,1\n")
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), 72, drop_newest=[True], drop_reason="it may be partial")
    assert str(raised.value) == f"{path}: no price bars left: the newest bar of each file was dropped (it may be partial)"


@pytest.mark.parametrize("cell", ["NaN", "nan", "null", "N/A", "#N/A", "NULL", "None"])
@pytest.mark.parametrize("layout", ["generic", "binance_kline"])
def test_a_word_for_a_missing_value_in_a_price_is_quoted_as_written_not_called_empty(tmp_path, cell, layout):
    # pandas reads these words as missing; the cell is not empty, and the message says what it holds.
    rows = {"generic": HEADER + f"2024-03-01T00:00:00Z,1,2,1,2,3\n2024-03-01T01:00:00Z,1,2,1,{cell},3\n",
            "binance_kline": f"1709251200000,1,2,1,2,3,1709254799999,6,1,1,3,0\n"
                             f"1709254800000,1,2,1,{cell},3,1709258399999,6,1,1,3,0\n"}[layout]
    path = write(tmp_path, rows)
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(price_bars.read_prices(path, "BTC")[0], max_gap_hours=72)
    line = {"generic": 3, "binance_kline": 2}[layout]
    assert str(raised.value) == f"{path}: line {line}: close '{cell}' is not a number"


def test_a_missing_value_word_in_a_whale_amount_is_quoted_and_an_empty_cell_is_empty(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + "2024-03-01T05:10:00Z,btc,NaN,1,unknown,exchange,1,transfer\n"
                                          "2024-03-01T05:20:00Z,btc,1,,unknown,exchange,2,transfer\n"
                                          "2024-03-01T05:30:00Z,btc,1,null,unknown,exchange,3,transfer\n"
                                          "2024-03-01T05:40:00Z,btc,1,1,unknown,exchange,NA,transfer\n")
    read = raw_files.read_csv(path, numeric=whale_transfers.WHALE_NUMBERS, categorical=whale_transfers.WHALE_CATEGORICAL)
    with caplog.at_level("INFO", logger="whalecast"):
        whales = whale_transfers.clean_whales(read, "BTC", skip_bad_rows=True)
    assert whales["id"].isna().tolist() == [True]  # in a text column NA is still a missing id
    assert log_messages(caplog, "whalecast.data")[0] == (
        "WARNING", f"whales: 3 malformed rows of {path} skipped (data.bad_rows: skip): 1 non-numeric amount (first: line "
                   "2: amount 'NaN' is not a number); 2 non-numeric amount_usd (first: line 3: amount_usd is empty)")
    with pytest.raises(InputError) as raised:
        whale_transfers.clean_whales(raw_files.read_csv(path, numeric=whale_transfers.WHALE_NUMBERS), "BTC")
    assert str(raised.value) == f"{path}: line 2: amount 'NaN' is not a number"


WHALE_HEADER = "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,id,transaction_type\n"


def test_cleaning_whales_logs_every_count(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + "2024-03-01T05:20:00Z,btc,2,120000,Exchange,unknown,7,\n"
                                          "2024-03-01T05:10:00Z,BTC,1,60000,unknown, EXCHANGE ,8,Mint\n"
                                          "2024-03-01T05:10:00Z,usdt,1,1,unknown,exchange,9,transfer\n"
                                          "2024-03-01T05:30:00Z,btc,1,60000,unknown,exchange,8,transfer\n"
                                          "2024-03-01T05:40:00Z,btc,3,180000,unknown,unknown,,transfer\n"
                                          "2024-03-01T05:40:00Z,btc,3,180000,unknown,unknown,,transfer\n")
    with caplog.at_level("INFO", logger="whalecast"):
        whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales["id"].tolist() == ["8", "7", pd.NA]
    assert whales["transaction_type"].tolist() == ["mint", "transfer", "transfer"]
    assert whales["to_owner_type"].tolist() == ["exchange", "unknown", "unknown"]
    assert str(whales["from_owner_type"].dtype) == "category" and str(whales["to_owner_type"].dtype) == "category"
    assert whales["amount"].tolist() == [1.0, 2.0, 3.0] and whales["amount_usd"].dtype == float
    assert log_messages(caplog, "whalecast.data") == [(
        "INFO", f"whales: 6 records from {path}, 1 of other symbols skipped, 2 duplicates dropped (1 with an id seen "
                "before, 1 identical records without an id), 1 without a transaction_type read as 'transfer', 3 BTC "
                "records kept (re-sorted; types: transfer 2, mint 1; owner types: unknown 4, exchange 2)")]


def test_with_skip_every_kind_of_bad_whale_record_is_counted(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + "2024-03-01T05:20:00Z,btc,-2,120000,exchange,unknown,1,\n"
                                          "2024-03-01T05:10:00Z,BTC,1,lots,unknown,exchange,2,\n"
                                          "2024-03-01T05:30:00Z,btc,1,60000,,exchange,3,\n"
                                          "2024-03-01T05:40:00Z,btc,3,-180000,unknown,unknown,4,\n"
                                          "bad,btc,3,180000,unknown,unknown,5,\n"
                                          "2024-03-01T05:50:00Z,btc,3,180000,unknown,unknown,6,\n")
    with pytest.raises(InputError) as raised:
        whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert str(raised.value) == (f"{path}: line 6: timestamp 'bad' is neither ISO-8601 nor epoch "
                                 "seconds/milliseconds/microseconds")
    with caplog.at_level("INFO", logger="whalecast"):
        whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC", skip_bad_rows=True)
    assert whales["id"].tolist() == ["6"]
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"whales: 5 malformed rows of {path} skipped (data.bad_rows: skip): 1 unreadable timestamps "
                    "(first: line 6: timestamp 'bad' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds); "
                    "1 negative amount (first: line 2: amount is negative); 1 non-numeric amount_usd (first: line 3: "
                    "amount_usd 'lots' is not a number); 1 negative amount_usd (first: line 5: amount_usd is "
                    "negative); 1 empty from_owner_type (first: line 4: from_owner_type is empty)"),
        ("INFO", f"whales: 6 records from {path}, 0 of other symbols skipped, 0 duplicates dropped (0 with an id seen "
                 "before, 0 identical records without an id), 1 without a transaction_type read as 'transfer', 1 BTC "
                 "records kept (ascending; types: transfer 1; owner types: unknown 2)"),
    ]


def whale_times(seconds):
    return pd.DataFrame({"timestamp": pd.to_datetime(seconds, unit="s", utc=True)})


@pytest.mark.parametrize("seconds, described, step", [
    ([1709254800, 1709254860, 1709255040], "a whole minute", 60),
    ([1709254800, 1709258400, 1709272800], "a whole hour", 3600),
    ([1709254800, 1709254920, 1709255040], "a multiple of 120 s", 120),
])
def test_rounded_whale_timestamps_need_a_report_delay_of_at_least_the_rounding(seconds, described, step, caplog):
    with pytest.raises(InputError) as raised:
        delays.check_time_resolution(whale_times(seconds), "data/raw/whales/BTC.json", pd.Timedelta(seconds=step - 1))
    assert str(raised.value) == (f"data/raw/whales/BTC.json: every timestamp is {described} (3 records): rounded times "
                                 "can put a transfer in the hour before it happened; if the source is that coarse, set "
                                 f"whale_report_delay_seconds to at least {step}")
    with caplog.at_level("INFO", logger="whalecast"):
        delays.check_time_resolution(whale_times(seconds), "data/raw/whales/BTC.json", pd.Timedelta(seconds=step))
    assert log_messages(caplog, "whalecast.data") == [
        ("INFO", f"whales: every timestamp is {described}; each counts from its stamp + whale_report_delay_seconds "
                 f"({step} s)")]


@pytest.mark.parametrize("seconds", [
    [1709254800, 1709254860],                 # two records: whole minutes by chance
    [1709254800, 1709254830, 1709255040],     # half minutes
    [1709254800, 1709254860, 1709255040.5],   # one stamp with a fraction of a second
])
def test_whale_timestamps_that_are_not_shown_rounded_need_no_delay(seconds, caplog):
    with caplog.at_level("INFO", logger="whalecast"):
        delays.check_time_resolution(whale_times(seconds), "w.json", pd.Timedelta(0))  # raises no InputError
    assert not log_messages(caplog, "whalecast.data")


KLINES = ("1709269200000,1,2,1,2,7,1709272799999,14,3,1,2,0\n"
          "1709272800000,2,3,1,3,6,1709276399999,18,3,1,2,0\n")


def test_a_file_without_header_reads_every_line_as_a_row_of_the_given_columns(tmp_path):
    path = write(tmp_path, KLINES)
    table = raw_files.read_csv(path, header_line=2, names=price_bars.BINANCE_KLINE_COLUMNS)  # no header to skip to
    assert table.source == str(path) and table.frame.index.tolist() == [1, 2]
    assert list(table.frame.columns) == price_bars.BINANCE_KLINE_COLUMNS
    assert table.frame["timestamp"].tolist() == ["1709269200000", "1709272800000"]  # text, as in the file


def test_a_kline_timestamp_in_scientific_notation_is_refused_by_line(tmp_path):
    path = write(tmp_path, KLINES.replace("1709272800000,2", "1.7092728E+12,2"))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(price_bars.read_prices(path, "BTC")[0], max_gap_hours=0)
    assert str(raised.value).startswith(f"{path}: line 2: timestamp '1.7092728E+12' is in scientific notation")


def test_a_byte_order_mark_before_the_csv_header_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "1709269200,1,2,1,2,7\n").encode())
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 05:00", tz="UTC")]


def test_a_quoted_field_after_a_space_and_a_semicolon_in_a_comma_header_are_read_as_written(tmp_path):
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,note;kind\n"
                           '2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown, "a note, with a comma"\n')
    table = raw_files.read_csv(path)
    assert table.frame["note;kind"].tolist() == ["a note, with a comma"]
    assert len(whale_transfers.clean_whales(table, "BTC")) == 1


def test_rows_keep_their_line_numbers_around_a_field_over_two_lines_and_empty_cells(tmp_path):
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,note\n"
                           "2024-03-01T05:10:07Z,BTC,10,lots,exchange,unknown,\n"
                           '2024-03-01T05:20:07Z,btc,12,1,unknown,exchange,"two\nlines"\n'
                           "2024-03-01T05:30:07Z,btc,12,2,unknown,exchange,\n"
                           "2024-03-01T05:40:07Z,btc,12,x,unknown,exchange,y\n")
    table = raw_files.read_csv(path)
    assert table.frame.index.tolist() == [2, 3, 5, 6]
    with pytest.raises(InputError, match=r"BTC.csv: line 2: amount_usd 'lots' is not a number$"):
        whale_transfers.clean_whales(table, "BTC")


def test_a_price_file_of_bare_numbers_is_taken_for_a_kline_dump_and_refused_for_its_width(tmp_path):
    path = write(tmp_path, "1709269200\n1709272800\n")
    with pytest.raises(InputError) as raised:
        price_bars.read_prices(path, "BTC")
    assert str(raised.value) == f"{path}: line 1 has 1 columns; this layout has 12"


def test_a_price_file_not_in_utf8_is_named_even_when_its_layout_is_detected(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_bytes(b"\xfftimestamp,open,high,low,close,volume\n1,2,3,1,2,3\n")
    with pytest.raises(InputError) as raised:
        price_bars.read_prices(path, "BTC")
    assert str(raised.value) == f"{path}: not UTF-8 text"


def test_a_cryptodatadownload_row_with_equal_or_unreadable_volumes_is_left_as_it_is(tmp_path, caplog):
    path = write(tmp_path, "https://www.CryptoDataDownload.com\nunix,open,high,low,close,Volume BTC,Volume USD\n"
                           "1709272800,2,3,1,abc,10,20\n"   # close is not a number: cleaning names it later
                           "1709269200,1,1,1,1,5,5\n")      # volume x close equals either column: no swap
    with caplog.at_level("INFO", logger="whalecast"):
        table, layout = price_bars.read_prices(path, "BTC")
    assert layout == "cryptodatadownload"
    assert table.frame[["volume", "volume usd"]].to_numpy().tolist() == [["10", "20"], ["5", "5"]]
    assert log_messages(caplog, "whalecast.data") == [
        ("INFO", f"prices: {path} read as cryptodatadownload (detected)")]
    with pytest.raises(InputError, match="line 3: close 'abc' is not a number"):
        price_bars.clean_prices(table, max_gap_hours=0)


CDD = ("https://www.CryptoDataDownload.com\nunix,open,high,low,close,Volume BTC,Volume USD\n"
       "1709272800,2,3,1,2,10,20\n1709269200,2,3,1,2,20,10\n")


def test_the_currency_names_the_volume_column_of_a_cryptodatadownload_file(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    paths.raw_prices("BTC").parent.mkdir(parents=True)
    paths.raw_prices("BTC").write_text(CDD)
    with caplog.at_level("INFO", logger="whalecast"):
        table, layouts = price_bars.read_price_files("BTC", "cryptodatadownload")
    assert layouts == ["cryptodatadownload"]
    assert table.frame["volume"].astype(float).tolist() == [10.0, 10.0]  # the second row swapped back
    assert log_messages(caplog, "whalecast.data")[-1] == (
        "INFO", "prices: data/raw/prices/BTC.csv read as cryptodatadownload")


def test_each_file_of_a_directory_has_its_layout(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    directory = paths.raw_prices_dir("BTC")
    directory.mkdir(parents=True)
    (directory / "2024-03-a.csv").write_text(CDD)
    (directory / "2024-03-b.csv").write_text(CDD.replace("17092", "17093"))
    assert price_bars.read_price_files("BTC")[1] == ["cryptodatadownload"] * 2  # detected
    with caplog.at_level("INFO", logger="whalecast"):
        table, layouts = price_bars.read_price_files("BTC", "cryptodatadownload")  # given
    assert layouts == ["cryptodatadownload"] * 2
    assert [message for level, message in log_messages(caplog, "whalecast.data") if "read as" in message] == [
        f"prices: {directory / name} read as cryptodatadownload" for name in ("2024-03-a.csv", "2024-03-b.csv")]
    assert [table.row(label) for label in table.frame.index] == [f"2024-03-{part}.csv: line {line}" for part in "ab" for line in (3, 4)]
    assert table.frame["volume"].astype(float).tolist() == [10.0] * 4


def test_with_every_whale_page_skipped_the_table_is_empty(tmp_path, caplog):
    (tmp_path / "0001.json").write_text("{")
    (tmp_path / "0002.json").write_text("[]")
    with pytest.raises(InputError, match="0001.json: malformed JSON"):
        whale_transfers.read_whale_pages(tmp_path)  # by default a bad page is an error
    with caplog.at_level("INFO", logger="whalecast"):
        table = whale_transfers.read_whale_pages(tmp_path, skip_bad_pages=True)
    assert table.frame.empty and list(table.frame.columns) == whale_transfers.WHALE_COLUMNS
    assert table.source == str(tmp_path)
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"whales: 2 of 2 pages in {tmp_path} skipped (data.bad_rows: skip); first: 0001.json: malformed "
                    "JSON at line 1 column 2: Expecting property name enclosed in double quotes"),
        ("INFO", f"whales: 0 pages in {tmp_path}"),
    ]
    assert whale_transfers.clean_whales(table, "BTC").empty


def test_a_local_time_file_over_years_names_its_first_four_clock_changes(tmp_path):
    local = pd.date_range("2022-03-01", "2024-11-01", freq="h", tz="UTC").tz_convert("Europe/London")
    path = write(tmp_path, HEADER + "".join(f"{time:%Y-%m-%d %H:%M:%S},1,2,1,2,{row}\n"
                                            for row, time in enumerate(local)))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72)
    assert str(raised.value) == (f"{path}: looks like local time, not UTC: 2022-03-27 01:00 is missing and 2023-03-26 "
                                 "01:00 is missing and 2024-03-31 01:00 is missing and 2022-10-30 01:00 appears twice, "
                                 "as when clocks change in Europe/London; export it in UTC, or with an offset (+01:00)")


def test_with_skip_rows_of_two_unknown_zones_are_one_kind_counted_together(tmp_path, caplog):
    path = write(tmp_path, HEADER + "2024-03-01 00:00:00 Mars/Olympus,1,2,1,2,3\n"
                                    "2024-03-01 01:00:00 Venus/Maxwell,1,2,1,2,3\n"
                                    "2024-03-01 02:00:00 Mars/Olympus,1,2,1,2,3\n2024-03-01T03:00:00Z,1,2,1,2,3\n")
    with caplog.at_level("WARNING", logger="whalecast"):
        bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0, skip_bad_rows=True)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 03:00", tz="UTC")]
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"prices: 3 malformed rows of {path} skipped (data.bad_rows: skip): 3 unknown time zones (first: "
                    "line 2: timestamp '2024-03-01 00:00:00 Mars/Olympus' names an unknown time zone 'Mars/Olympus')")]


# With skip, each kind of bad row is counted under its own name, with its first example.
SKIPPED_KINDS = {
    "scientific notation": ("1709254800,1,2,1,2,3\n1.70925E+12,1,2,1,2,3\n", "1 timestamps in scientific notation "
                            "(first: line 3: timestamp '1.70925E+12' is in scientific notation, as a spreadsheet shows "
                            "large numbers: rounded to a few digits it can be hours off; export the column as whole "
                            "numbers or ISO-8601 text)"),
    "Excel serial date": ("1709254800,1,2,1,2,3\n45352.5,1,2,1,2,3\n", "1 Excel serial dates (first: line 3: timestamp "
                          "'45352.5' looks like an Excel serial date (2024-03-01 12:00); export the column as ISO-8601 "
                          "text or epoch seconds)"),
    "empty timestamp": ("2024-03-01T00:00:00Z,1,2,1,2,3\n,1,2,1,2,3\n",
                        "1 empty timestamps (first: line 3: timestamp is empty)"),
    "epoch among ISO": ("2024-03-01T00:00:00Z,1,2,1,2,3\n1709262000,1,2,1,2,3\n", "1 epoch timestamps among ISO-8601 "
                        "text (first: line 3: timestamp '1709262000' is an epoch number, but other rows are ISO-8601 "
                        "text)"),
    "ISO out of range": ("2024-03-01T00:00:00Z,1,2,1,2,3\n2124-03-01T00:00:00Z,1,2,1,2,3\n", "1 timestamps outside "
                         "1970..2100 (first: line 3: timestamp '2124-03-01T00:00:00Z' is outside 1970..2100)"),
    "epoch out of range": ("1709254800,1,2,1,2,3\n-3600,1,2,1,2,3\n", "1 timestamps outside 1970..2100 (first: line 3: "
                           "timestamp -3600 is outside 1970..2100 in any epoch unit)"),
    "clock change": ("2024-03-31 01:00:00 Europe/Berlin,1,2,1,2,3\n2024-03-31 02:00:00 Europe/Berlin,1,2,1,2,3\n",
                     "1 times skipped or repeated by a clock change (first: line 3: timestamp '2024-03-31 02:00:00 "
                     "Europe/Berlin' is skipped or repeated when clocks change in Europe/Berlin; write it with an "
                     "offset (+01:00) instead)"),
    "non-positive prices": ("2024-03-01T00:00:00Z,1,2,1,2,3\n2024-03-01T01:00:00Z,0,2,1,2,3\n"
                            "2024-03-01T02:00:00Z,1,2,1,0,3\n", "1 non-positive open (first: line 3: open is 0; "
                            "prices must be positive); 1 non-positive close (first: line 4: close is 0; prices must "
                            "be positive)"),
    "negative volume": ("2024-03-01T00:00:00Z,1,2,1,2,3\n2024-03-01T01:00:00Z,1,2,1,2,-3\n",
                        "1 negative volumes (first: line 3: volume is -3; volume cannot be negative)"),
    "outside low..high": ("2024-03-01T00:00:00Z,1,2,1,2,3\n2024-03-01T01:00:00Z,3,2,1,2,3\n"
                          "2024-03-01T02:00:00Z,1,2,1,3,3\n", "1 rows with open outside low..high (first: line 3: "
                          "open 3 is outside low..high 1..2); 1 rows with close outside low..high (first: line 4: "
                          "close 3 is outside low..high 1..2)"),
}


@pytest.mark.parametrize("case", SKIPPED_KINDS)
def test_with_skip_each_kind_of_bad_price_row_is_named_in_the_count(tmp_path, caplog, case):
    rows, counted = SKIPPED_KINDS[case]
    path = write(tmp_path, HEADER + rows)
    with caplog.at_level("WARNING", logger="whalecast"):
        bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72, skip_bad_rows=True)
    assert len(bars) == 1
    skipped = len(rows.splitlines()) - 1
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"prices: {skipped} malformed rows of {path} skipped (data.bad_rows: skip): {counted}")]


@pytest.mark.parametrize("stamp, utc", [("1970-01-01T00:00:00Z", "1970-01-01 00:00"),
                                        ("2100-01-01T00:00:00Z", "2100-01-01 00:00")])
def test_the_first_and_last_hour_of_1970_2100_are_accepted(tmp_path, stamp, utc):
    bars = price_bars.clean_prices(raw_files.read_csv(write(tmp_path, HEADER + f"{stamp},1,2,1,2,3\n")), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp(utc, tz="UTC")]


EPOCH_ROW, ISO_ROW = "1709254800,1,2,1,2,3\n", "2024-03-01T00:00:00Z,1,2,1,2,3\n"


@pytest.mark.parametrize("stamp, other_row, problem", [
    ("20000", EPOCH_ROW, "timestamp '20000' looks like an Excel serial date (1954-10-03 00:00); export the column as "
                         "ISO-8601 text or epoch seconds"),
    ("80000", EPOCH_ROW, "timestamp 1970-01-01 22:13:20 is not on the hour (hourly bars are stamped with their open "
                         "time)"),
    ("1.70925e+12", EPOCH_ROW, "timestamp '1.70925e+12' is in scientific notation, as a spreadsheet shows large "
                               "numbers: rounded to a few digits it can be hours off; export the column as whole "
                               "numbers or ISO-8601 text"),
    ('" "', ISO_ROW, "timestamp is empty"),
    ("2024-02-30 14:00:00 Europe/Berlin", ISO_ROW, "timestamp '2024-02-30 14:00:00 Europe/Berlin' is neither ISO-8601 "
                                                   "nor epoch seconds/milliseconds/microseconds"),
    ("2024-10-27 02:00:00 Europe/Berlin", ISO_ROW, "timestamp '2024-10-27 02:00:00 Europe/Berlin' is skipped or "
                                                   "repeated when clocks change in Europe/Berlin; write it with an "
                                                   "offset (+01:00) instead"),
    ("inf", ISO_ROW, "timestamp 'inf' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds"),
])
def test_edge_timestamps_are_named(tmp_path, stamp, other_row, problem):
    """20000 days is the first Excel serial date taken for one (80000 is read as epoch seconds); a lower-case e is
    scientific notation too; a blank is empty; 2024-10-27 02:00 happened twice in Berlin."""
    path = write(tmp_path, HEADER + f"{stamp},1,2,1,2,3\n" + other_row)
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72)
    assert str(raised.value) == f"{path}: line 2: {problem}"


@pytest.mark.parametrize("separator", [" ", "\t"])
def test_times_that_name_their_zone_are_not_taken_for_local_time(tmp_path, separator):
    """UTC hours without 2024-03-31 02:00 (an outage) would look like Berlin's clock change, were the zone
    not written."""
    hours = pd.date_range("2024-03-30", periods=48, freq="h").drop(pd.Timestamp("2024-03-31 02:00"))
    path = write(tmp_path, HEADER + "".join(f"{hour:%Y-%m-%d %H:%M:%S}{separator}UTC,1,2,1,2,3\n" for hour in hours))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=1)
    assert bars["filled"].sum() == 1


def test_iso_8601_timestamps_of_several_styles_in_one_file_are_all_read(tmp_path):
    path = write(tmp_path, HEADER + "2024-03-01T00:00:00Z,1,2,1,2,3\n2024-03-01 01:00:00,1,2,1,2,3\n"
                                    "2024-03-01T04:00:00+02:00,1,2,1,2,3\n2024-03-01 03:00,1,2,1,2,3\n"
                                    "2024-03-01 05:00:00 Europe/Berlin,1,2,1,2,3\n"
                                    "2024-03-01T06:00 Europe/Berlin,1,2,1,2,3\n")
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert bars["timestamp"].tolist() == list(pd.date_range("2024-03-01", periods=6, freq="h", tz="UTC"))


@pytest.mark.parametrize("stamps, hours", [
    (["0", "3600"], ["1970-01-01 00:00", "1970-01-01 01:00"]),   # the epoch itself is in range
    (["4102444800"], ["2100-01-01 00:00"]),                      # and so is 2100-01-01 00:00
    (["1709254800000000000"], ["2024-03-01 01:00"]),             # 1e17 and more: nanoseconds
])
def test_epoch_timestamps_at_the_edges_of_their_range_and_units(tmp_path, stamps, hours):
    path = write(tmp_path, HEADER + "".join(f"{stamp},1,2,1,2,3\n" for stamp in stamps))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp(hour, tz="UTC") for hour in hours]


@pytest.mark.parametrize("stamp, problem", [
    ("100000000000", "timestamp 1973-03-03 09:46:40 is not on the hour (hourly bars are stamped with their open time)"),
    ("90000000000000000", "timestamp 90000000000000000 is outside 1970..2100 in any epoch unit"),
    ("4102444801", "timestamp 4102444801 is outside 1970..2100 in any epoch unit"),
])
def test_epoch_timestamps_just_past_a_unit_or_the_range_are_named(tmp_path, stamp, problem):
    """1e11 is milliseconds (1973), not seconds (year 5138); 9e16 microseconds is year 4821."""
    path = write(tmp_path, HEADER + f"{stamp},1,2,1,2,3\n")
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert str(raised.value) == f"{path}: line 2: {problem}"


def test_with_skip_a_huge_epoch_is_dropped_without_an_overflow(tmp_path):
    path = write(tmp_path, HEADER + "1709254800,1,2,1,2,3\n500000000000000000000,1,2,1,2,3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast" from the dropped row
        bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0, skip_bad_rows=True)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 01:00", tz="UTC")]


def test_epoch_milliseconds_are_converted_exactly_to_the_nanosecond(tmp_path):
    """Whole epoch numbers are scaled as integers: as floats, ms x 1e6 would be 64 ns off."""
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"
                           "1709254855123,btc,1,2,unknown,exchange\n1709254856789,btc,1,2,unknown,exchange\n")
    whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales["timestamp"].tolist() == [pd.Timestamp("2024-03-01 01:00:55.123", tz="UTC"),
                                            pd.Timestamp("2024-03-01 01:00:56.789", tz="UTC")]


def test_optional_whale_columns_a_file_lacks_are_empty_text(tmp_path):
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"
                           "2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown\n"
                           "2024-03-01T05:20:00Z,btc,12,720000,unknown,exchange\n")
    whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert str(whales["id"].dtype) == "string" and whales["id"].isna().all()
    for column in ("blockchain", "from_owner", "to_owner"):  # names: text categories
        assert isinstance(whales[column].dtype, pd.CategoricalDtype) and whales[column].isna().all(), column
    assert whales["transaction_type"].tolist() == ["transfer", "transfer"]


def test_with_skip_a_file_of_only_bad_rows_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path, HEADER + "2024-03-01T00:00:00Z,1,0.5,1,2,3\n")
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0, skip_bad_rows=True)
    assert str(raised.value) == f"{path}: no valid data rows"


def test_a_flat_bar_with_high_equal_to_low_is_valid(tmp_path):
    bars = price_bars.clean_prices(raw_files.read_csv(write(tmp_path, HEADER + "1709254800,5,5,5,5,0\n")), max_gap_hours=0)
    assert bars.loc[0, ["open", "high", "low", "close", "volume"]].tolist() == [5.0, 5.0, 5.0, 5.0, 0.0]


def test_a_gap_longer_than_allowed_names_the_file_and_the_hour_before_it(tmp_path):
    path = write(tmp_path, HEADER + "1709254800,1,2,1,2,7\n1709262000,2,3,1,3,6\n1709265600,2,3,1,3,6\n")
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert str(raised.value) == f"{path}: 1 hours missing after 2024-03-01 01:00, more than data.max_gap_hours=0"


SPRING_FORWARD = pd.date_range("2024-03-30", "2024-04-01", freq="h")  # Berlin skips 2024-03-31 02:00 local time


@pytest.mark.parametrize("written", ["{:%s}", "{:%Y-%m-%dT%H:%M:%S}Z", "{:%Y-%m-%d %H:%M:%S}+00:00"])
def test_a_file_in_utc_by_its_writing_may_lack_the_hour_a_clock_skips(tmp_path, written):
    """Epoch numbers and times with a zone are UTC whatever hours they lack: an outage, not local time."""
    utc = SPRING_FORWARD[SPRING_FORWARD != pd.Timestamp("2024-03-31 02:00")]
    path = write(tmp_path, HEADER + "".join(f"{written.format(time.tz_localize('UTC'))},1,2,1,2,{row}\n"
                                            for row, time in enumerate(utc)))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=1)
    assert bars["timestamp"][bars["filled"]].tolist() == [pd.Timestamp("2024-03-31 02:00", tz="UTC")]


def test_epoch_numbers_in_memory_are_utc_too():
    utc = SPRING_FORWARD[SPRING_FORWARD != pd.Timestamp("2024-03-31 02:00")].tz_localize("UTC")
    seconds = np.asarray((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1), dtype=np.int64)
    frame = pd.DataFrame({"timestamp": seconds, "open": 1.0, "high": 2.0, "low": 1.0, "close": 2.0,
                          "volume": 3.0})
    bars = price_bars.clean_prices(raw_files.RawTable(frame, "memory"), max_gap_hours=1)
    assert bars["filled"].sum() == 1 and len(bars) == len(SPRING_FORWARD)


@pytest.mark.parametrize("outage", [["2024-03-31 01:00", "2024-03-31 02:00"], ["2024-03-31 02:00", "2024-03-31 03:00"]])
def test_an_outage_of_two_hours_around_a_skipped_hour_is_not_taken_for_local_time(tmp_path, outage):
    """Only a lone missing hour (both neighbours present) is what a local clock shows."""
    times = SPRING_FORWARD[~SPRING_FORWARD.isin(pd.to_datetime(outage))]
    path = write(tmp_path, HEADER + "".join(f"{time:%Y-%m-%d %H:%M:%S},1,2,1,2,{row}\n"
                                            for row, time in enumerate(times)))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=2)
    assert bars["timestamp"][bars["filled"]].tolist() == [pd.Timestamp(hour, tz="UTC") for hour in outage]


def test_whale_records_at_one_time_keep_their_file_order_when_sorted(tmp_path):
    times = ["2024-03-01T05:00:00Z" if row % 2 else "2024-03-01T04:59:00Z" for row in range(200)]
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,id\n" + "".join(
        f"{time},btc,1,{row},unknown,exchange,{row}\n" for row, time in enumerate(times)))
    whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales["id"].tolist() == [str(row) for row in range(0, 200, 2)] + [str(row) for row in range(1, 200, 2)]
    assert whales.index.tolist() == list(range(200))
    assert list(whales.columns) == ["timestamp", "amount", "amount_usd", "from_owner_type", "to_owner_type",
                                    *whale_transfers.WHALE_KEPT]


def test_zero_and_fractional_amounts_blank_types_and_a_missing_symbol(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + '2024-03-01T05:10:00Z,btc,0,0.5,unknown,exchange,1," "\n'
                                          "2024-03-01T05:20:00Z,,1,1,unknown,exchange,2,transfer\n")
    with caplog.at_level("INFO", logger="whalecast"):
        whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales[["amount", "amount_usd"]].to_numpy().tolist() == [[0.0, 0.5]]
    assert whales["transaction_type"].tolist() == ["transfer"]  # a blank type is a plain transfer
    assert log_messages(caplog, "whalecast.data")[-1][1].startswith(
        f"whales: 2 records from {path}, 1 of other symbols skipped, 0 duplicates dropped (0 with an id seen before, 0 "
        "identical records without an id), 1 without a transaction_type read as 'transfer', 1 BTC records kept")


def test_a_blank_owner_type_is_empty(tmp_path):
    path = write(tmp_path, WHALE_HEADER + '2024-03-01T05:10:00Z,btc,1,1,unknown," ",1,transfer\n')
    with pytest.raises(InputError) as raised:
        whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert str(raised.value) == f"{path}: line 2: to_owner_type is empty"


def test_a_whale_file_of_other_currencies_lists_each_symbol_with_its_count(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + "2024-03-01T05:10:00Z,eth,1,1,unknown,exchange,1,transfer\n"
                                          "2024-03-01T05:20:00Z,usdt,1,1,unknown,exchange,2,transfer\n"
                                          "2024-03-01T05:30:00Z,ETH,1,1,unknown,exchange,3,transfer\n")
    with caplog.at_level("WARNING", logger="whalecast"):
        assert whale_transfers.clean_whales(raw_files.read_csv(path), "BTC").empty
    assert log_messages(caplog, "whalecast.data") == [
        ("WARNING", f"whales: none of the 3 records of {path} is BTC (symbols: ETH 2, USDT 1); is it another "
                    "currency's file?")]


def test_no_whale_record_at_all_is_logged_as_none(tmp_path, caplog):
    path = write(tmp_path, json.dumps({"result": "success", "count": 0}), "BTC.json")
    with caplog.at_level("INFO", logger="whalecast"):
        assert whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC").empty
    assert log_messages(caplog, "whalecast.data") == [(
        "INFO", f"whales: 0 records from {path}, 0 of other symbols skipped, 0 duplicates dropped (0 with an id seen "
                "before, 0 identical records without an id), 0 without a transaction_type read as 'transfer', 0 BTC "
                "records kept (ascending; types: none; owner types: none)")]


def test_whales_at_the_first_and_last_price_hour_are_inside_and_the_share_is_compared_at_least(caplog):
    prices = pd.DataFrame({"timestamp": pd.date_range("2024-03-01", periods=3, freq="h", tz="UTC")})  # .. 03:00
    inside = pd.to_datetime(["2024-03-01 00:00", "2024-03-01 03:00"], utc=True)  # the first open, the last close
    outside = pd.to_datetime(["2024-02-29 23:59:00", "2024-03-01 03:00:01"], utc=True)
    with caplog.at_level("INFO", logger="whalecast"):
        clean.check_overlap(prices, pd.DataFrame({"timestamp": inside}), "w.json", warn_share=0.0)  # none outside
        clean.check_overlap(prices, pd.DataFrame({"timestamp": inside.append(outside[:1])}), "w.json", warn_share=0.5)
        clean.check_overlap(prices, pd.DataFrame({"timestamp": inside.append(outside)}), "w.json", warn_share=0.5)
    assert log_messages(caplog, "whalecast.data") == [(
        "WARNING", "whales: 2 of 4 whale records of w.json fall outside the price range (prices 2024-03-01 00:00 .. "
                   "2024-03-01 03:00, whales 2024-02-29 23:59 .. 2024-03-01 03:00; "
                   "data.warn_whales_outside_prices: 0.5)")]


def test_records_with_a_blank_id_are_told_apart_by_their_content(tmp_path, caplog):
    path = write(tmp_path, WHALE_HEADER + '2024-03-01T05:10:00Z,btc,1,1,unknown,exchange," ",transfer\n'
                                          '2024-03-01T05:20:00Z,btc,2,2,unknown,exchange," ",transfer\n'
                                          '2024-03-01T05:20:00Z,btc,2,2,unknown,exchange," ",transfer\n')
    with caplog.at_level("INFO", logger="whalecast"):
        whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert whales["amount"].tolist() == [1.0, 2.0]
    assert "1 duplicates dropped (0 with an id seen before, 1 identical records without an id)" in caplog.text
