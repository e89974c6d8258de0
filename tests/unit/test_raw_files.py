"""Reading raw CSV files (whalecast.data.raw_files): what cannot be read is named, rows keep the file's line
numbers."""

import pandas as pd
import pytest

from unit.raw_inputs import HEADER, KLINES, write
from whalecast.data import price_bars, raw_files, whale_transfers
from whalecast.errors import InputError


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


def test_a_file_without_header_reads_every_line_as_a_row_of_the_given_columns(tmp_path):
    path = write(tmp_path, KLINES)
    table = raw_files.read_csv(path, header_line=2, names=price_bars.BINANCE_KLINE_COLUMNS)  # no header to skip to
    assert table.source == str(path) and table.frame.index.tolist() == [1, 2]
    assert list(table.frame.columns) == price_bars.BINANCE_KLINE_COLUMNS
    assert table.frame["timestamp"].tolist() == ["1709269200000", "1709272800000"]  # text, as in the file


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
