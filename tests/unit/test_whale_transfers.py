"""Whale transfers (whalecast.data.whale_transfers): Whale Alert responses, cursor pages and CSV files read and
cleaned; and the checks of their timestamps against the report delay (whalecast.data.delays) and the price range
(whalecast.data.clean)."""

import json
import logging

import pandas as pd
import pytest

from unit.raw_inputs import WHALE_HEADER, log_messages, write
from whalecast import paths
from whalecast.data import clean, delays, raw_files, whale_transfers
from whalecast.errors import InputError


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


def test_optional_whale_columns_a_file_lacks_are_empty_text(tmp_path):
    path = write(tmp_path, "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"
                           "2024-03-01T05:10:00Z,BTC,10,600000,exchange,unknown\n"
                           "2024-03-01T05:20:00Z,btc,12,720000,unknown,exchange\n")
    whales = whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")
    assert str(whales["id"].dtype) == "string" and whales["id"].isna().all()
    for column in ("blockchain", "from_owner", "to_owner"):  # names: text categories
        assert isinstance(whales[column].dtype, pd.CategoricalDtype) and whales[column].isna().all(), column
    assert whales["transaction_type"].tolist() == ["transfer", "transfer"]


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
