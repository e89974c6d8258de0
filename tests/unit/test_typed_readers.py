"""Files read typed (Arrow's readers, the fast path) and read as text (record by record, the path that names a
bad row) give the same clean tables, the same errors and the same counted skips."""

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from whalecast.data import price_bars, raw_files, whale_transfers
from whalecast.errors import InputError

WHALE_HEADER = "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,id,hash,from_owner,transaction_type\n"
GOOD_WHALES = [
    "1709269800,btc,10,600000,exchange,unknown,,aa,binance,transfer\n",
    "1709269800,btc,10,600000,exchange,unknown,,aa,binance,transfer\n",   # identical: dropped
    "1709269800,btc,10,600000,exchange,unknown,,bb,binance,transfer\n",   # another hash: kept
    "1709269200,BTC,12.5,750000.25,Unknown,EXCHANGE ,,cc,,\n",            # earlier, untyped, odd case
    "1709270000,eth,3,9000,unknown,exchange,,dd,,transfer\n",              # another symbol
]
WHALE_FILES = {
    "good": WHALE_HEADER + "".join(GOOD_WHALES),
    "crlf": (WHALE_HEADER + "".join(GOOD_WHALES)).replace("\n", "\r\n"),
    "bom": "\ufeff" + WHALE_HEADER + "".join(GOOD_WHALES),
    "no trailing newline": WHALE_HEADER + "".join(GOOD_WHALES).rstrip("\n"),
    "ISO times": WHALE_HEADER + "2024-03-01T05:10:00Z,btc,1,500000,unknown,exchange,7,h,,transfer\n"
                                "2024-03-01T05:10:00+01:00,btc,1,500000,unknown,exchange,8,h,,transfer\n",
    "fractional epochs": WHALE_HEADER + "1709269800.5,btc,1,500000,unknown,exchange,1,h,,transfer\n",
    "ids repeated": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,5,h,,transfer\n"
                                   "1709269900,btc,2,500000,unknown,exchange,5,h,,transfer\n",
    "NA words": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,NA,null,n/a,transfer\n"
                               "1709269900,btc,1,500000,unknown,exchange,None,<NA>,#N/A,transfer\n",
    "amount not a number": WHALE_HEADER + "1709269800,btc,ten,500000,unknown,exchange,1,h,,transfer\n",
    "amount NaN": WHALE_HEADER + "1709269800,btc,NaN,500000,unknown,exchange,1,h,,transfer\n",
    "empty amount and null amount_usd": WHALE_HEADER + "1709269800,btc,,500000,unknown,exchange,1,h,,transfer\n"
                                                       "1709269900,btc,1,null,unknown,exchange,2,h,,transfer\n"
                                                       "1709270000,btc,1,500000,unknown,exchange,3,h,,transfer\n",
    "amount infinite": WHALE_HEADER + "1709269800,btc,inf,500000,unknown,exchange,1,h,,transfer\n",
    "negative amount": WHALE_HEADER + "1709269800,btc,-1,500000,unknown,exchange,1,h,,transfer\n",
    "empty owner type": WHALE_HEADER + "1709269800,btc,1,500000,,exchange,1,h,,transfer\n"
                                       "1709269900,btc,1,500000,unknown,exchange,2,h,,transfer\n",
    "empty timestamp": WHALE_HEADER + ",btc,1,500000,unknown,exchange,1,h,,transfer\n",
    "a row of empty cells": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,1,h,,transfer\n,,,,,,,,,\n"
                                           "1709269900,btc,1,500000,unknown,exchange,2,h,,transfer\n",
    "a timestamp of 0 and plus signs": WHALE_HEADER + "0,btc,1,500000,unknown,exchange,1,h,,transfer\n"
                                                      "+1709269900,btc,1,500000,unknown,exchange,2,h,,transfer\n",
    "blank line": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,1,h,,transfer\n\n"
                                 "1709269900,btc,1,500000,unknown,exchange,2,h,,transfer\n",
    "space after comma": WHALE_HEADER + "1709269800, btc,1,500000, NA,exchange,1,h,,transfer\n",
    "blank line before a bad row": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,1,h,,transfer\n\n"
                                                  "1709269900,btc,-1,500000,unknown,exchange,2,h,,transfer\n",
    "quoted line break": WHALE_HEADER + '1709269800,btc,1,500000,unknown,exchange,1,"h\nh",,transfer\n',
    "quoted line break before a bad row": WHALE_HEADER + '1709269800,btc,1,500000,unknown,exchange,1,"h\nh",,transfer\n'
                                                         "1709269900,btc,-1,500000,unknown,exchange,2,h,,transfer\n",
    "NaN and infinity spelt otherwise": WHALE_HEADER + "1709269800,btc,NAN,500000,unknown,exchange,1,h,,transfer\n"
                                                       "1709269900,btc,1,Infinity,unknown,exchange,2,h,,transfer\n"
                                                       "1709270000,btc,+inf,1,unknown,exchange,3,h,,transfer\n",
    "Excel date with a leading zero": WHALE_HEADER + "045000,btc,1,500000,unknown,exchange,1,h,,transfer\n",
    "thousands separator": WHALE_HEADER + '1709269800,btc,1,"500,000",unknown,exchange,1,h,,transfer\n',
    "short row": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange\n",
    "long row": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,1,h,,transfer,extra\n",
    "scientific timestamp": WHALE_HEADER + "1.7092698E+09,btc,1,500000,unknown,exchange,1,h,,transfer\n",
    "repeated column": "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,amount\n"
                       "1709269800,btc,1,500000,unknown,exchange,1\n",
    "missing column": "timestamp,symbol,amount,from_owner_type,to_owner_type\n1709269800,btc,1,unknown,exchange\n",
    "missing column, the hash not last": "timestamp,symbol,hash,amount,from_owner_type,to_owner_type\n"
                                         "1709269800,btc,aa,1,unknown,exchange\n",
    # Categories: those of another symbol's rows are not kept, and their order is first appearance among ours.
    "another symbol's owners first": WHALE_HEADER + "1709269700,eth,3,9000,exchange,unknown,,dd,okx,deposit\n"
                                                    "1709269800,btc,1,500000,unknown,exchange,,ee,,transfer\n"
                                                    "1709269900,btc,1,500000,exchange,unknown,,ff,binance,\n"
                                                    "1709270000,btc,1,500000,exchange,unknown,,gg,okx,transfer\n",
    # The hash is read on demand, for records alike in every other column: here, of a row with nothing else.
    "a row of only a hash": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,,aa,,transfer\n,,,,,,,zz,,\n",
    # After a comma, a space is skipped (and " NA" is missing): records alike in the rest, then in the hash too.
    "hashes after a space": WHALE_HEADER + "1709269800,btc,10,600000,exchange,unknown,, NA,binance,transfer\n"
                                           "1709269800,btc,10,600000,exchange,unknown,,,binance,transfer\n"
                                           "1709269800,btc,10,600000,exchange,unknown,,  aa,binance,transfer\n"
                                           "1709269800,btc,10,600000,exchange,unknown,,aa,binance,transfer\n",
    "a row of only a hash, after a space": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,,aa,,transfer\n"
                                                          ",,,,,,, NA,,\n",
    "records alike but for the hash, a quote elsewhere": WHALE_HEADER + "".join(GOOD_WHALES[:3])
                                                         + '1709269900,btc,1,500000,unknown,exchange,,dd,"okx",transfer\n',
    "minus zero": WHALE_HEADER + "1709269800,btc,-0,500000,unknown,exchange,,aa,,transfer\n"
                                 "1709269900,btc,2,500000,unknown,exchange,,bb,,transfer\n",
    "a label spelt with spaces and cases": WHALE_HEADER + "1709269800,btc,1,500000,unknown,exchange,,aa,Binance,transfer\n"
                                                         "1709269900,btc,1,500000,exchange,unknown,,bb,binance ,\n",
}
# Whale CSVs are read as read_whales reads them.
WHALE_TYPES = {"numeric": whale_transfers.WHALE_NUMBERS, "categorical": whale_transfers.WHALE_CATEGORICAL,
               "on_demand": whale_transfers.WHALE_ON_DEMAND}
PRICE_HEADER = "timestamp,open,high,low,close,volume\n"
PRICE_FILES = {
    "epoch": PRICE_HEADER + "".join(f"{1709251200 + 3600 * hour},1,2,1,1.5,{hour}\n" for hour in range(30)),
    "ISO": PRICE_HEADER + "".join(f"2024-03-01T{hour:02d}:00:00+00:00,1,2,1,1.5,3\n" for hour in range(20)),
    "zone name": PRICE_HEADER + "2024-03-01 13:00:00 Europe/Berlin,1,2,1,1.5,3\n",
    "bad close": PRICE_HEADER + "1709251200,1,2,1,x,3\n1709254800,1,2,1,1,3\n",
    "empty volume": PRICE_HEADER + "1709251200,1,2,1,1,\n",
    "missing-value words": PRICE_HEADER + "1709251200,1,2,1,NaN,3\n1709254800,1,2,1,1,N/A\n1709258400,1,2,1,1,3\n",
    "duplicate hour": PRICE_HEADER + "1709251200,1,2,1,1,3\n1709251200,1,2,1,1.2,3\n",
    "minus zero volume": PRICE_HEADER + "1709251200,1,2,1,1,-0\n1709254800,1,2,1,1,3\n",
}


def cleaned(table: raw_files.RawTable, kind: str, skip: bool, caplog):
    """The clean table, or the error message, and the log lines cleaning wrote."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="whalecast.data"):
        try:
            if kind == "whales":
                result = whale_transfers.clean_whales(table, "BTC", skip_bad_rows=skip)
            else:
                result = price_bars.clean_prices(table, max_gap_hours=72, skip_bad_rows=skip)
        except InputError as error:
            result = str(error)
    return result, [record.getMessage() for record in caplog.records]


def both_ways(path, types, kind, skip, caplog):
    try:
        typed = raw_files.read_csv(path, **types)
    except InputError as error:
        typed = str(error)
    with pytest.MonkeyPatch.context() as patch:  # the text reader, with the number columns it keeps words in
        patch.setattr(raw_files, "_typed_csv", lambda *arguments: None)
        try:
            text = raw_files.read_csv(path, **types)
        except InputError as error:
            text = str(error)
    if isinstance(typed, str) or isinstance(text, str):
        return typed, text
    return cleaned(typed, kind, skip, caplog), cleaned(text, kind, skip, caplog)


def assert_same(typed, text):
    if isinstance(typed, tuple) and isinstance(typed[0], pd.DataFrame) and isinstance(text[0], pd.DataFrame):
        pd.testing.assert_frame_equal(typed[0], text[0])
        for name in typed[0].select_dtypes(float):  # assert_frame_equal takes -0.0 for 0.0; the parquet bytes differ
            assert (np.signbit(typed[0][name]) == np.signbit(text[0][name])).all(), name
        assert typed[1] == text[1]
    else:
        assert typed == text


@pytest.mark.parametrize("skip", [False, True], ids=["error", "skip"])
@pytest.mark.parametrize("name", list(WHALE_FILES))
def test_a_whale_csv_cleans_the_same_read_typed_or_as_text(tmp_path, name, skip, caplog):
    path = tmp_path / "BTC.csv"
    path.write_bytes(WHALE_FILES[name].encode())
    assert_same(*both_ways(path, WHALE_TYPES, "whales", skip, caplog))


@pytest.mark.parametrize("skip", [False, True], ids=["error", "skip"])
@pytest.mark.parametrize("name", list(PRICE_FILES))
def test_a_price_csv_cleans_the_same_read_typed_or_as_text(tmp_path, name, skip, caplog):
    path = tmp_path / "BTC.csv"
    path.write_text(PRICE_FILES[name])
    assert_same(*both_ways(path, {"numeric": price_bars.PRICE_NUMBERS}, "prices", skip, caplog))


def test_a_well_formed_file_is_read_typed_and_a_malformed_one_as_text(tmp_path):
    """Else the comparisons above would compare the text reader with itself."""
    path = tmp_path / "BTC.csv"
    path.write_text(WHALE_FILES["good"])
    table = raw_files.read_csv(path, **WHALE_TYPES)
    assert table.frame["amount"].dtype == float and table.frame["timestamp"].dtype == "int64"
    assert all(table.frame[name].dtype == "category" for name in whale_transfers.WHALE_CATEGORICAL if name in table.frame)
    assert table.frame.index.tolist() == [2, 3, 4, 5, 6]
    path.write_text(WHALE_FILES["amount not a number"])
    assert raw_files.read_csv(path, **WHALE_TYPES).frame["amount"].tolist() == ["ten"]
    # An empty number is missing either way; a word for a missing value is kept as written, for the checks to quote.
    path.write_text(WHALE_FILES["empty amount and null amount_usd"].replace(",null,", ",1,"))
    assert raw_files.read_csv(path, **WHALE_TYPES).frame["amount"].dtype == float
    path.write_text(WHALE_FILES["empty amount and null amount_usd"])
    assert raw_files.read_csv(path, **WHALE_TYPES).frame["amount_usd"].tolist() == ["500000", "null", "500000"]


def test_a_whale_csv_s_hash_is_read_when_asked_for_from_the_file_as_it_was(tmp_path):
    """Left out of the typed read, labelled by line when read; with it read first where a quote could hide a line
    break in it; a file changed or gone in between is an error, not other rows' hashes."""
    path = tmp_path / "BTC.csv"
    path.write_text(WHALE_FILES["good"])
    table = raw_files.read_csv(path, **WHALE_TYPES)
    assert "hash" not in table.frame and table.column("hash").to_dict() == {2: "aa", 3: "aa", 4: "bb", 5: "cc", 6: "dd"}
    assert table.column("no_such_column") is None
    table = raw_files.read_csv(path, **WHALE_TYPES)
    path.write_text(WHALE_FILES["good"].replace(",aa,", ",aaa,"))
    changed = f"^{re.escape(str(path))}: the file changed while it was being read; run again$"
    with pytest.raises(InputError, match=changed):
        table.column("hash")
    table = raw_files.read_csv(path, **WHALE_TYPES)
    path.unlink()
    with pytest.raises(InputError, match=changed):
        table.column("hash")
    path.write_text(WHALE_FILES["records alike but for the hash, a quote elsewhere"])  # where a line break could hide
    table = raw_files.read_csv(path, **WHALE_TYPES)
    assert table.frame["amount"].dtype == float and table.frame["hash"].tolist() == ["aa", "aa", "bb", "dd"]


def record(index, **changes):
    base = {"blockchain": "bitcoin", "symbol": "btc", "id": str(index), "transaction_type": "transfer",
            "hash": f"h{index}", "from": {"owner_type": "exchange", "owner": "binance"},
            "to": {"owner_type": "unknown"}, "timestamp": 1709269800 + index, "amount": 1.5,
            "amount_usd": 600000.0}
    return {**base, **changes}


def page(records, **top) -> str:
    return json.dumps({"result": "success", "cursor": "x", "count": len(records), "transactions": records, **top})


PAGE_SETS = {
    "good": [page([record(0), record(1)]), page([record(1), record(2, amount=3)])],
    "pretty printed": [json.dumps(json.loads(page([record(0)])), indent=2), page([record(1)])],
    "empty page": [page([]), page([record(0)])],
    "numeric id": [page([record(0, id=7)]), page([record(1)])],
    "amount as text": [page([record(0, amount="2.5")])],
    "float timestamp": [page([record(0, timestamp=1709269800.5)])],
    "missing owner type": [page([record(0, to={})]), page([record(1)])],
    "null owner type": [page([record(0, to={"owner_type": None})]), page([record(1)])],
    "missing amount": [page([{key: value for key, value in record(0).items() if key != "amount_usd"}])],
    "not a success": [page([record(0)], result="error", message="invalid api key")],
    "null record": [page([None, record(1)])],
    "no transactions": [json.dumps({"result": "success", "count": 0, "transactions": None}), page([record(1)])],
    "malformed JSON": [page([record(0)]), "{not json"],
    "empty file": [page([record(0)]), ""],
    "a bare null": ["null", page([record(1)])],
    "two objects in a page, then an empty page": [page([record(0)]) + "\n" + page([record(1)]), ""],
    "not UTF-8": [page([record(0, hash="caf\u00e9")]).encode("latin-1"), page([record(1)])],
}


@pytest.mark.parametrize("skip", [False, True], ids=["error", "skip"])
@pytest.mark.parametrize("name", list(PAGE_SETS))
def test_whale_pages_clean_the_same_read_typed_or_record_by_record(tmp_path, monkeypatch, name, skip, caplog):
    for number, text in enumerate(PAGE_SETS[name], 1):
        (tmp_path / f"{number:05d}.json").write_bytes(text if isinstance(text, bytes) else text.encode())

    def read():
        try:
            table = whale_transfers.read_whale_pages(tmp_path, skip_bad_pages=skip)
        except InputError as error:
            return str(error)
        named = [table.row(label) for label in table.frame.index]
        return cleaned(table, "whales", skip, caplog), named

    typed = read()
    monkeypatch.setattr(whale_transfers, "_typed_pages", lambda pages: None)
    text = read()
    if isinstance(typed, str) or isinstance(text, str):
        assert typed == text
    else:
        assert typed[1] == text[1]  # every row named alike: "00002.json: transactions[0]"
        assert_same(typed[0], text[0])


def test_good_pages_are_read_typed_in_batches(tmp_path, monkeypatch):
    for number in range(5):
        (tmp_path / f"{number:05d}.json").write_text(page([record(2 * number), record(2 * number + 1)]))
    monkeypatch.setattr(whale_transfers, "PAGE_BATCH_BYTES", 1000)  # about two pages per batch
    batches = []
    original = whale_transfers._typed_pages
    monkeypatch.setattr(whale_transfers, "_typed_pages", lambda pages: batches.append(len(pages)) or original(pages))
    table = whale_transfers.read_whale_pages(tmp_path)
    assert len(batches) > 1 and sum(batches) == 5
    assert table.frame["amount"].dtype == float and table.frame["id"].tolist() == [str(index) for index in range(10)]
    assert table.row(9) == "00004.json: transactions[1]"
