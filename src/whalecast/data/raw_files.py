"""Raw input files as read: tables of text, with rows labelled as the user knows them.

The one reader of files that every stream (prices, whales, news and other sources) goes through. Rows are named
"line N" of a CSV file (the header is line 1), "transactions[i]" of a Whale Alert JSON response, and "file: row" in
a table made of a folder's files, so that every error can point at the row to fix. A CSV is read by Arrow with the
columns' types where it can be, else as text, and both ways give the same table.
"""

import csv
import json
import logging
import mmap
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv

from whalecast.errors import InputError

log = logging.getLogger(__name__)

TEXT = pa.large_string()  # pandas keeps text in this Arrow type, so a table becomes a frame without a copy
CATEGORY = pa.dictionary(pa.int32(), TEXT)
# The text reader's settings (read_csv): every cell as text, as written but for a space after the comma; header=None,
# as pandas would silently rename a repeated column; blank lines kept so that row labels stay the file's line
# numbers; a byte-order mark (Excel's UTF-8) dropped.
TEXT_READER = {"header": None, "dtype": str, "skipinitialspace": True, "skip_blank_lines": False,
                "encoding": "utf-8-sig"}
# The words pandas' read_csv takes for a missing value (its default na_values), so that a file read typed
# and the same file read as text hold the same missing cells.
NA_TEXT = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
           "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


@dataclass
class RawTable:
    """A raw table as read, with its rows indexed by the number the user knows them by (or, for a table of
    several files, by position, named by `row_names`)."""

    frame: pd.DataFrame
    source: str
    row_format: str = "row {}"
    row_names: "PartRows | None" = None
    # A table read without some of its file's columns: the file's column names in order, and how to read one.
    file_columns: list[str] | None = None
    read_column: Callable[[str], pd.Series] | None = None

    @property
    def columns(self) -> list[str]:
        return self.file_columns or list(self.frame.columns)

    def column(self, name: str) -> pd.Series | None:
        """The column, indexed as the frame's rows (and the file's rows that frame dropped), or None if the file
        has none. One not read yet is read from the file now."""
        if name in self.frame.columns:
            return self.frame[name]
        return self.read_column(name) if self.read_column and name in self.columns else None

    def row(self, label) -> str:
        return self.row_names.name(label) if self.row_names else self.row_format.format(label)

    def fail(self, label, problem: str) -> InputError:
        return InputError(self.source, f"{self.row(label)}: {problem}")

    def file_numbers(self, labels) -> np.ndarray:
        """The file each of these rows comes from, by its place among the table's files (0 in a table of one file)."""
        return self.row_names.part_numbers(labels) if self.row_names else np.zeros(len(labels), int)

    def subset(self, rows) -> "RawTable":
        """The rows selected by a boolean mask, named as before."""
        return replace(self, frame=self.frame[rows])


class PartRows:
    """Row names of a table made of several files, by position: "file: the row's name in that file"."""

    def __init__(self, parts: list[tuple[str, int, Callable[[int], str]]]):
        """parts: each file's name, its number of rows, and the name of its i-th row."""
        self.parts = parts
        self.starts = np.cumsum([0] + [length for _, length, _ in parts])

    @staticmethod
    def of(name: str, table: "RawTable") -> tuple[str, int, Callable[[int], str]]:
        """The part of one file read as a table: its rows named as that table names them."""
        return name, len(table.frame), lambda i: table.row(table.frame.index[i])

    def part_numbers(self, positions) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    def name(self, position) -> str:
        part = int(self.part_numbers(position))
        file_name, _, row_name = self.parts[part]
        return f"{file_name}: {row_name(int(position - self.starts[part]))}"


def read_csv(path: Path, header_line: int = 1, names: list[str] | None = None, numeric: tuple[str, ...] = (),
             categorical: tuple[str, ...] = (), on_demand: tuple[str, ...] = ()) -> RawTable:
    """A CSV with lower-case column names and rows labelled by line number.

    The header is on `header_line` (lines above it are skipped), or, with `names`, the file has no header
    and every line is a row of exactly those columns. Every column is text, unless `numeric` names columns:
    then the file is first read typed (see _typed_csv; the `categorical` columns then arrive as categories, the
    `on_demand` ones only when asked for), and as text only when that fails, so that the checks can name the row
    at fault. Both ways give the same clean tables.
    """
    path = Path(path)
    check_not_empty(path)
    if not names:
        _check_separator(path, header_line)
    if numeric:
        typed = _typed_csv(path, header_line, names, numeric, categorical, on_demand)
        if typed is not None:
            return typed
    skipped = 0 if names else header_line - 1
    header = (names or _header(path, header_line)) if numeric else None
    # In a number column pandas' words for a missing value ("NaN", "null") stay as written, for the checks to quote
    # (the cell is not empty); other columns read them as missing, as the typed reader does.
    missing = {"keep_default_na": False, "na_values": {position: [""] if name in numeric else NA_TEXT
                                                       for position, name in enumerate(header)}} if header else {}
    try:
        frame = pd.read_csv(path, skiprows=skipped, **TEXT_READER, **missing)
    except pd.errors.EmptyDataError:
        raise InputError(path, "file has no header line") from None
    except pd.errors.ParserError as error:
        raise InputError(path, f"malformed CSV: {error}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    if names:
        if frame.shape[1] != len(names):
            raise InputError(path, f"line 1 has {frame.shape[1]} columns; this layout has {len(names)}")
        frame = frame.set_axis(names, axis=1).set_axis(_line_numbers(path, frame, 1))
        return RawTable(frame[frame.notna().any(axis=1)], str(path), "line {}")
    header = [str(name).strip().lower() for name in frame.iloc[0]]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InputError(path, f"column '{repeated[0]}' appears more than once in the header")
    frame = frame.set_axis(header, axis=1).set_axis(_line_numbers(path, frame, header_line)).iloc[1:]
    return RawTable(frame[frame.notna().any(axis=1)], str(path), "line {}")


def _typed_csv(path: Path, header_line: int, names: list[str] | None, numeric: tuple[str, ...],
               categorical: tuple[str, ...], on_demand: tuple[str, ...]) -> RawTable | None:
    """The file read by Arrow's CSV reader: `numeric` columns as float64, a `timestamp` of whole numbers as
    int64, `categorical` columns as categories (each distinct value stored once), the rest as text; empty cells
    and pandas' NA words are missing, as read_csv reads them as text. In a file without quotes, the `on_demand`
    text columns are read only when RawTable.column asks for them (with quotes, a quoted line break could hide
    in them: see below).

    None when the file cannot be read so, one line per row: a malformed line, a value that is not a number (or
    NaN or infinity in some spelling, or a word for a missing value), a quoted line break, a blank line, a cell
    that starts with a space. The text reader then reads it and the checks name the row.
    """
    header = names or _header(path, header_line)
    if not header or len(set(header)) < len(header):
        return None  # the text reader names what is wrong: a repeated column, text that is not UTF-8
    column_types = {name: pa.float64() if name in numeric else CATEGORY if name in categorical else TEXT
                    for name in header}
    # The text reader numbers rows by the line they start on: a quoted line break would shift every later row's
    # number (looked for below, in every column, only in a file that has a quote at all: one fast scan of its bytes).
    quoted = _contains(path, b'"')
    later = [] if quoted else [name for name in header if name in on_demand]
    # A blank line is an error here (a row of one empty cell), so every row is one line of the file.
    read_options = pyarrow.csv.ReadOptions(skip_rows=0 if names else header_line, column_names=header)
    parse_options = pyarrow.csv.ParseOptions(ignore_empty_lines=False)
    first_line = 1 if names else header_line + 1

    def read(columns: list[str]) -> pa.Table:
        return pyarrow.csv.read_csv(path, read_options=read_options, parse_options=parse_options,
                                    convert_options=pyarrow.csv.ConvertOptions(
                                        column_types=column_types, include_columns=columns, null_values=NA_TEXT,
                                        strings_can_be_null=True))

    def check_unchanged() -> None:  # a column read later must hold the rows read first
        if _version(path) != version:
            raise InputError(path, "the file changed while it was being read; run again")

    def read_later(name: str) -> pd.Series:
        check_unchanged()
        values = read([name])[name]
        check_unchanged()
        # Arrow keeps a space after the comma (" NA" is then text, not missing): the text reader's values instead.
        if pc.any(pc.starts_with(values, " ")).as_py():
            position = header.index(name)
            values = pd.read_csv(path, skiprows=first_line - 1, usecols=[position], **TEXT_READER)[position]
        else:
            values = values.to_pandas()
        return values.set_axis(np.arange(first_line, first_line + len(values)))

    version = _version(path)
    try:
        table = read([name for name in header if name not in later])
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        log.debug("%s: read as text (%s)", path, error)
        return None
    read_now = table.column_names
    # A category's values are checked once each, in the chunks' dictionaries, not once per row.
    texts = [pa.chunked_array([chunk.dictionary for chunk in table[name].chunks], TEXT) if name in categorical
             else table[name] for name in read_now if name not in numeric]
    # The text reader skips a space after the comma (then reads " NA" as missing).
    if any(pc.any(pc.starts_with(text, " ")).as_py() or (quoted and pc.any(pc.match_substring(text, "\n")).as_py())
           for text in texts):
        return None
    # NaN and infinity in any spelling ("NAN", "Infinity"): the checks quote the value as written.
    if any(pc.any(pc.or_(pc.is_nan(table[name]), pc.is_inf(table[name]))).as_py()
           for name in read_now if name in numeric):
        return None
    # So too a word for a missing value ("NaN", "null"), read as missing here like an empty cell: told apart in those
    # columns read again as text, with only an empty cell missing.
    missing_numbers = [name for name in read_now if name in numeric and table[name].null_count]
    if missing_numbers:
        written = pyarrow.csv.read_csv(path, read_options=read_options, parse_options=parse_options,
                                       convert_options=pyarrow.csv.ConvertOptions(
                                           column_types={name: TEXT for name in missing_numbers},
                                           include_columns=missing_numbers, null_values=[""], strings_can_be_null=True))
        if any(pc.any(pc.and_(pc.is_null(table[name]), pc.is_valid(written[name]))).as_py()
               for name in missing_numbers):
            return None
    if "timestamp" in read_now and table["timestamp"].null_count == 0:
        try:
            whole = pc.cast(table["timestamp"], pa.int64())
        except pa.ArrowInvalid:
            whole = None  # ISO-8601 text, or anything else the timestamp checks read and name
        # Only numbers written plainly (no plus sign, no leading zero): the checks quote "045000" as written.
        # Prefixes, not a regex, over 2 million stamps; a lone "0" then stays text too: the same result, read slower.
        if whole is not None and not any(pc.any(pc.starts_with(table["timestamp"], start)).as_py()
                                         for start in ("+", "0", "-0")):
            table = table.set_column(read_now.index("timestamp"), "timestamp", whole)
    frame = table.to_pandas().set_axis(np.arange(first_line, first_line + table.num_rows))
    if all(column.null_count for column in table.columns):  # else no row can be all empty
        if later and frame.isna().all(axis=1).any():  # a value in a column not read yet would make it a record
            frame = frame.join(pd.DataFrame({name: read_later(name) for name in later}))[header]
        frame = frame[frame.notna().any(axis=1)]
    if len(frame.columns) == len(header):
        return RawTable(frame, str(path), "line {}")
    return RawTable(frame, str(path), "line {}", file_columns=header, read_column=read_later)


def _version(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is written or replaced (None: it is gone)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


def _contains(path: Path, byte: bytes) -> bool:
    """Whether the file holds the byte (memory-mapped, searched by memchr: a fraction of a second for 300 MB)."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(byte) >= 0


def _header(path: Path, header_line: int) -> list[str] | None:
    """The column names on line `header_line`, or None when the lines up to it are not UTF-8 text."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for _ in range(header_line - 1):
                handle.readline()
            fields = next(csv.reader([handle.readline()], skipinitialspace=True), [])
    except UnicodeDecodeError:
        return None
    return [field.strip().lower() for field in fields]


def _check_separator(path: Path, header_line: int) -> None:
    """A header without commas: name the separator a spreadsheet used, rather than report one wide column."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        lines = [handle.readline() for _ in range(header_line + 1)]
    header, first_row = lines[header_line - 1], lines[header_line]
    if "," in header:
        return
    if "\t" in header:
        raise InputError(path, "looks tab-separated; save it comma-separated (CSV)")
    if ";" in header:
        decimals = " with `,` decimals" if re.search(r"\d,\d", first_row) else ""
        raise InputError(path, f"looks like `;`-separated{decimals} (a spreadsheet's export in some locales); save it "
                               "comma-separated with `.` decimals")


def _line_numbers(path: Path, frame: pd.DataFrame, first_line: int) -> np.ndarray:
    """The line each row of the file starts on, as an editor numbers them: a quoted field can span lines."""
    with open(path, "rb") as handle:
        physical_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
    numbers = np.arange(first_line, first_line + len(frame))
    if physical_lines <= first_line - 1 + len(frame):  # one line per row (the last may lack its newline)
        return numbers
    breaks = sum(frame[column].str.count("\n").fillna(0).astype(int).to_numpy() for column in frame.columns)
    return numbers + np.concatenate([[0], np.cumsum(breaks)[:-1]])


def one_table(directory: Path, tables: dict[str, RawTable], columns: list[str]) -> RawTable:
    """Tables read from the files of one directory as one table, each row named "file: row"."""
    frames = [table.frame for table in tables.values()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    parts = [PartRows.of(name, table) for name, table in tables.items()]
    return RawTable(frame, str(directory), row_names=PartRows(parts))


def refuse_linked_folder(directory: Path) -> None:
    """DVC hashes data/raw/prices and data/raw/whales, following them when they are links, but not a linked
    folder inside them: a change behind it would leave the pipeline "up to date" with stale results."""
    if directory.is_symlink():
        raise InputError(directory, f"a linked folder inside {directory.parent}, which DVC does not follow (a change "
                                    f"behind the link would go unnoticed); copy the files in, or link "
                                    f"{directory.parent} itself to the folder that holds them")


def check_not_empty(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "file not found")
    if path.is_dir():
        raise InputError(path, "is a directory, not a file")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty")


def read_json(path: Path):
    """A saved API response, or an error naming the file and where its JSON breaks."""
    check_not_empty(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    if not text.strip():
        raise InputError(path, "file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
