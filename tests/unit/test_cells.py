"""Cells of raw tables (whalecast.data.cells): timestamps in every format and unit, to UTC, and numbers; what
cannot be read is named by line, or counted with data.bad_rows: skip."""

import warnings

import pandas as pd
import pytest

from unit.raw_inputs import HEADER, KLINES, WHALE_HEADER, log_messages, price_table, write
from whalecast.data import price_bars, raw_files, whale_transfers
from whalecast.errors import InputError


@pytest.mark.parametrize("stamp", [
    "2024-03-01T05:00:00+00:00", "2024-03-01 05:00:00", "2024-03-01T07:00:00+02:00", "2024-03-01T05:00:00Z",
    "1709269200", "1709269200000", "1709269200000000",
])
def test_timestamp_formats_all_mean_the_same_utc_hour(tmp_path, stamp):
    bars = price_bars.clean_prices(price_table(tmp_path, f"{stamp},1,2,1,2,10\n"), max_gap_hours=72)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 05:00", tz="UTC")]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_a_timezone_aware_timestamp_column_is_taken_as_is():
    times = pd.Series(pd.date_range("2024-03-01 01:00", periods=2, freq="h", tz="Europe/Berlin"))
    frame = pd.DataFrame({"timestamp": times, "open": ["1", "1"], "high": ["2", "2"], "low": ["1", "1"],
                          "close": ["2", "2"], "volume": ["3", "3"]})
    bars = price_bars.clean_prices(raw_files.RawTable(frame, "memory"), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 00:00", tz="UTC"),
                                          pd.Timestamp("2024-03-01 01:00", tz="UTC")]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"


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


def test_a_kline_timestamp_in_scientific_notation_is_refused_by_line(tmp_path):
    path = write(tmp_path, KLINES.replace("1709272800000,2", "1.7092728E+12,2"))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(price_bars.read_prices(path, "BTC")[0], max_gap_hours=0)
    assert str(raised.value).startswith(f"{path}: line 2: timestamp '1.7092728E+12' is in scientific notation")


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
