"""Price bars (whalecast.data.price_bars): the layouts of price files told apart and read, one file or a directory
of them; bars cleaned into a complete hourly grid, every bad row named by line or counted, local time refused."""

import logging

import numpy as np
import pandas as pd
import pytest

from conftest import clean_market, small_market
from unit.raw_inputs import HEADER, log_messages, price_table, write
from whalecast import paths
from whalecast.data import price_bars, raw_files
from whalecast.errors import InputError


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


def test_generated_market_survives_cleaning_unchanged():
    market = small_market(hours=200)
    prices, whales = clean_market(market)
    assert len(prices) == 200 and not prices["filled"].any()
    assert len(whales) == len(market.whales)
    assert whales["timestamp"].is_monotonic_increasing
    np.testing.assert_array_equal(prices["close"], market.prices["close"])


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


def test_a_local_time_file_over_years_names_its_first_four_clock_changes(tmp_path):
    local = pd.date_range("2022-03-01", "2024-11-01", freq="h", tz="UTC").tz_convert("Europe/London")
    path = write(tmp_path, HEADER + "".join(f"{time:%Y-%m-%d %H:%M:%S},1,2,1,2,{row}\n"
                                            for row, time in enumerate(local)))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=72)
    assert str(raised.value) == (f"{path}: looks like local time, not UTC: 2022-03-27 01:00 is missing and 2023-03-26 "
                                 "01:00 is missing and 2024-03-31 01:00 is missing and 2022-10-30 01:00 appears twice, "
                                 "as when clocks change in Europe/London; export it in UTC, or with an offset (+01:00)")


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


@pytest.mark.parametrize("separator", [" ", "\t"])
def test_times_that_name_their_zone_are_not_taken_for_local_time(tmp_path, separator):
    """UTC hours without 2024-03-31 02:00 (an outage) would look like Berlin's clock change, were the zone
    not written."""
    hours = pd.date_range("2024-03-30", periods=48, freq="h").drop(pd.Timestamp("2024-03-31 02:00"))
    path = write(tmp_path, HEADER + "".join(f"{hour:%Y-%m-%d %H:%M:%S}{separator}UTC,1,2,1,2,3\n" for hour in hours))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=1)
    assert bars["filled"].sum() == 1


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
