"""Raw input files as read: tables of text, with rows labelled as the user knows them.

Rows are named "line N" of a CSV file (the header is line 1) and "transactions[i]" of a Whale Alert JSON
response, so that every error can point at the row to fix.
"""

import csv
import io
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
import pyarrow.json

from whalecast import paths
from whalecast.errors import InputError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PRICE_NUMBERS = ("open", "high", "low", "close", "volume")
PRICE_FORMATS = ("auto", "generic", "binance_kline", "cryptodatadownload")
# Binance's kline dumps (data.binance.vision): no header; open_time in ms, or in us from 2025 on.
BINANCE_KLINE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                         "trades", "taker_buy_base", "taker_buy_quote", "ignore"]
WHALE_REQUIRED = ["timestamp", "symbol", "amount", "amount_usd", "from_owner_type", "to_owner_type"]
# `id` is Whale Alert's id of a record: one on-chain transaction (hash) can carry several records.
WHALE_OPTIONAL = ["id", "blockchain", "hash", "from_owner", "to_owner", "transaction_type"]
WHALE_COLUMNS = WHALE_REQUIRED + WHALE_OPTIONAL
WHALE_NUMBERS = ("amount", "amount_usd")
# Whale columns of (usually) few distinct values: symbols, owner types, exchanges; read typed, as categories.
WHALE_CATEGORICAL = ("symbol", "from_owner_type", "to_owner_type", "blockchain", "from_owner", "to_owner",
                     "transaction_type")
# The transaction hash is looked up only for records alike in every other column (ingest's duplicate check), rarely
# any: 64 characters a record, it is most of a whale CSV's bytes (reading it was a sixth of ingest's time).
WHALE_ON_DEMAND = ("hash",)
_TEXT = pa.large_string()  # pandas keeps text in this Arrow type, so a table becomes a frame without a copy
_CATEGORY = pa.dictionary(pa.int32(), _TEXT)
_PARTY = pa.struct([("owner_type", _TEXT), ("owner", _TEXT)])
# A Whale Alert API v1 /transactions response, as far as ingest reads it.
_PAGE_SCHEMA = pa.schema([("result", _TEXT), ("transactions", pa.list_(pa.struct([
    ("timestamp", pa.int64()), ("symbol", _TEXT), ("amount", pa.float64()), ("amount_usd", pa.float64()),
    ("from", _PARTY), ("to", _PARTY), ("id", _TEXT), ("blockchain", _TEXT), ("hash", _TEXT),
    ("transaction_type", _TEXT)])))])
_PAGE_REQUIRED = ("timestamp", "symbol", "amount", "amount_usd")
PAGE_BATCH_BYTES = 64 * 2**20
# The text reader's settings (read_csv): every cell as text, as written but for a space after the comma; header=None,
# as pandas would silently rename a repeated column; blank lines kept so that row labels stay the file's line
# numbers; a byte-order mark (Excel's UTF-8) dropped.
_TEXT_READER = {"header": None, "dtype": str, "skipinitialspace": True, "skip_blank_lines": False,
                "encoding": "utf-8-sig"}
# The words pandas' read_csv takes for a missing value (its default na_values), so that a file read typed
# and the same file read as text hold the same missing cells.
NA_TEXT = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
           "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
# The quote assets of the usual spot markets (longest first: a message names the first reading of a market), and a
# market written as exchanges write it, base and quote glued (BTCUSDT, ETHBTC), as in CryptoDataDownload's and
# Binance's file names and symbol columns. Bitcoin is XBT at Kraken and BitMEX.
QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "GBP", "JPY", "KRW", "TRY", "BTC", "ETH", "BNB")
_MARKET = rf"[A-Z][A-Z0-9]{{1,9}}(?:{'|'.join(QUOTE_ASSETS)})"
ASSET_ALIASES = {"XBT": "BTC"}


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
        frame = pd.read_csv(path, skiprows=skipped, **_TEXT_READER, **missing)
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
    column_types = {name: pa.float64() if name in numeric else _CATEGORY if name in categorical else _TEXT
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
            values = pd.read_csv(path, skiprows=first_line - 1, usecols=[position], **_TEXT_READER)[position]
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
    texts = [pa.chunked_array([chunk.dictionary for chunk in table[name].chunks], _TEXT) if name in categorical
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
                                           column_types={name: _TEXT for name in missing_numbers},
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


def detect_price_format(path: Path) -> str:
    """generic (a header naming `timestamp`), binance_kline (no header: the first field is a number) or
    cryptodatadownload (a URL line above the header)."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        first_line = handle.readline().strip()
    if first_line.lower().startswith(("http://", "https://", "www.")):
        return "cryptodatadownload"
    try:
        float(first_line.split(",")[0])
        return "binance_kline"
    except ValueError:
        return "generic"


def read_prices(path: Path, currency: str, price_format: str = "auto") -> tuple[RawTable, str]:
    """A price file in one of PRICE_FORMATS, as a table with at least PRICE_COLUMNS, and its layout. A file whose name
    or `symbol` column names another asset's market is refused: it is in the wrong place."""
    path = Path(path)
    check_not_empty(path)
    _check_named_market(path, currency)
    layout = detect_price_format(path) if price_format == "auto" else price_format
    if layout == "binance_kline":
        table = read_csv(path, names=BINANCE_KLINE_COLUMNS, numeric=PRICE_NUMBERS)
    elif layout == "cryptodatadownload":
        table = read_csv(path, header_line=2, numeric=PRICE_NUMBERS)
        _check_symbols(table, currency)  # before its volume columns, which are named after the asset too
        table = _cryptodatadownload(table, currency)
    else:
        table = read_csv(path, numeric=PRICE_NUMBERS)
        _check_symbols(table, currency)
    log.info("prices: %s read as %s%s", path, layout, " (detected)" if price_format == "auto" else "")
    return table, layout


def _priced_assets(symbol: str) -> list[str]:
    """The assets a market symbol can be read to price, one per quote asset it ends with: BTC of BTCUSDT, BTC/USDT,
    btc-usd, XBT/USD or BTC-PERP; XBTUSD is XB in TUSD or BTC in USD. A symbol of no known market is itself."""
    first = re.split(r"[-/_:\s]", symbol.strip().upper())[0]
    bases = [first[:-len(quote)] for quote in QUOTE_ASSETS if first.endswith(quote) and len(first) > len(quote)]
    return [ASSET_ALIASES.get(base, base) for base in bases or [first]]


def _check_named_market(path: Path, currency: str) -> None:
    """Refuse a file named after another asset's market (`Binance_ETHUSDT_1h.csv` or `ETHUSDT-1h-2024-01.csv` among
    BTC's files). Only a glued market in capitals is taken for one: `KRAKEN_BTC` or `prices_usd` name none."""
    for market in re.findall(rf"(?<![A-Za-z0-9]){_MARKET}(?![A-Za-z0-9])", path.stem):
        assets = _priced_assets(market)
        if currency.upper() not in assets:
            raise InputError(path, f"the file name says {market} ({assets[0]}), but the file is read as {currency}'s "
                                   "prices")


def _check_symbols(table: RawTable, currency: str) -> None:
    """Refuse a price file whose `symbol` column (CryptoDataDownload's, or a generic file's) names another asset in
    any row; the first such row is named."""
    symbols = table.column("symbol")
    if symbols is None:
        return
    written = symbols.dropna().astype(str)
    others = [symbol for symbol in written.unique()
              if symbol.strip() and currency.upper() not in _priced_assets(symbol)]
    if others:
        first = written[written.isin(others)].index[0]
        raise table.fail(first, f"symbol '{written[first]}' says {_priced_assets(written[first])[0]}, but the file is "
                                f"read as {currency}'s prices")


def read_price_files(currency: str, price_format: str = "auto") -> tuple[RawTable, list[str]]:
    """data/raw/prices/{CUR}.csv, or every *.csv in a directory data/raw/prices/{CUR}/ (e.g. Binance's
    monthly dumps as downloaded) as one table with rows named "file: line N"; and each file's layout, in the
    table's order of files."""
    single, directory = paths.raw_prices(currency), paths.raw_prices_dir(currency)
    refuse_linked_folder(directory)
    if single.exists() and directory.exists():
        raise InputError(single, f"both {single} and the directory {directory}/ exist; keep one")
    if not directory.exists():
        table, layout = read_prices(single, currency, price_format)
        return table, [layout]
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise InputError(directory, "no *.csv price files in the directory")
    read = {path.name: read_prices(path, currency, price_format) for path in files}
    table = one_table(directory, {name: table for name, (table, _) in read.items()}, PRICE_COLUMNS)
    return table, [layout for _, layout in read.values()]


def one_table(directory: Path, tables: dict[str, RawTable], columns: list[str]) -> RawTable:
    """Tables read from the files of one directory as one table, each row named "file: row"."""
    frames = [table.frame for table in tables.values()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    parts = [PartRows.of(name, table) for name, table in tables.items()]
    return RawTable(frame, str(directory), row_names=PartRows(parts))


def _cryptodatadownload(table: RawTable, currency: str) -> RawTable:
    """unix -> timestamp, `Volume {CUR}` -> volume. Older Bitstamp files hold USD in `Volume BTC` and BTC
    in `Volume USD` for part of their rows; a row is swapped back when only the swap makes
    base volume x close equal the quote volume."""
    frame = table.frame
    base, quotes = f"volume {currency.lower()}", [name for name in frame.columns
                                                  if name.startswith("volume ") and name != f"volume {currency.lower()}"]
    for needed in ("unix", base):
        if needed not in frame.columns:
            raise InputError(table.source, f"missing column '{needed}' of the CryptoDataDownload layout "
                                           f"(have: {', '.join(frame.columns)})")
    frame = frame.rename(columns={"unix": "timestamp", base: "volume"})
    if len(quotes) == 1:
        volume, quote, close = (pd.to_numeric(frame[name], errors="coerce") for name in ("volume", quotes[0], "close"))
        as_labelled = np.abs(np.log(volume * close / quote))
        as_swapped = np.abs(np.log(quote * close / volume))
        swapped = (as_swapped < as_labelled).fillna(False).to_numpy(bool)
        if swapped.any():
            frame.loc[swapped, ["volume", quotes[0]]] = frame.loc[swapped, [quotes[0], "volume"]].to_numpy()
            log.info("prices: %d of %d rows of %s had '%s' and '%s' swapped (volume x close matched the other "
                     "column); swapped back", swapped.sum(), len(frame), table.source, base, quotes[0])
    return RawTable(frame, table.source, table.row_format)


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


def read_whales_json(path: Path) -> RawTable:
    """A saved Whale Alert API v1 /transactions response."""
    path = Path(path)
    check_not_empty(path)
    typed = _typed_pages([path])
    if typed is not None:
        return RawTable(typed[0], str(path), "transactions[{}]")
    return _whales_json_as_text(path)


def _whales_json_as_text(path: Path) -> RawTable:
    """read_whales_json record by record: slower, and names the record at fault."""
    response = read_json(path)
    if not isinstance(response, dict):
        raise InputError(path, "not a Whale Alert /transactions response (expected a JSON object)")
    if response.get("result", "success") != "success":
        raise InputError(path, f"API result is '{response['result']}': {response.get('message', '')}")
    transactions = response.get("transactions")
    if transactions is None and response.get("count") == 0:  # the API's answer when nothing matched
        transactions = []
    if not isinstance(transactions, list):
        raise InputError(path, "not a Whale Alert /transactions response (no 'transactions' list)")
    rows = [_whale_json_row(path, index, transaction) for index, transaction in enumerate(transactions)]
    return RawTable(pd.DataFrame(rows, columns=WHALE_COLUMNS), str(path), "transactions[{}]")


def _whale_json_row(path: Path, index: int, transaction) -> tuple:
    where = f"transactions[{index}]"
    if not isinstance(transaction, dict):
        raise InputError(path, f"{where}: not a JSON object")
    for name in ("timestamp", "symbol", "amount", "amount_usd", "from", "to"):
        if name not in transaction:
            raise InputError(path, f"{where}: missing field '{name}'")
    for side in ("from", "to"):
        if not isinstance(transaction[side], dict) or "owner_type" not in transaction[side]:
            raise InputError(path, f"{where}.{side}: missing field 'owner_type'")
        owner_type = transaction[side]["owner_type"]
        if owner_type is not None and not isinstance(owner_type, str):  # null: a bad row, checked by ingest
            raise InputError(path, f"{where}.{side}.owner_type: {owner_type!r} is not text")
    source, target = transaction["from"], transaction["to"]
    return (
        transaction["timestamp"],
        transaction["symbol"],
        transaction["amount"],
        transaction["amount_usd"],
        source["owner_type"],
        target["owner_type"],
        None if transaction.get("id") is None else str(transaction["id"]),
        transaction.get("blockchain"),
        transaction.get("hash"),
        source.get("owner"),
        target.get("owner"),
        transaction.get("transaction_type"),
    )


def read_whale_pages(directory: Path, skip_bad_pages: bool = False) -> RawTable:
    """Saved Whale Alert responses, one per cursor page (*.json, read in name order), as one table whose rows
    are named "page: transactions[i]".

    Pages fetched by cursor can overlap; ingest drops a record seen again. A page that cannot be read is an
    error, or with skip_bad_pages left out and counted. Pages are read typed in batches (see _typed_pages);
    a batch that cannot be read so is read page by page, record by record, which names the record at fault.
    """
    pages = sorted(Path(directory).glob("*.json"))
    if not pages:
        raise InputError(directory, "no *.json response pages in the directory")
    frames, parts, skipped = [], [], []
    for batch in _batches(pages, PAGE_BATCH_BYTES):
        typed = _typed_pages(batch)
        if typed is not None:
            frame, counts = typed
            frames.append(frame)
            parts += [(page.name, count, "transactions[{}]".format) for page, count in zip(batch, counts)]
            continue
        for page in batch:
            try:
                table = _whales_json_as_text(page)
            except InputError as error:
                if not skip_bad_pages:
                    raise
                skipped.append(f"{page.name}: {error.problem}")
                continue
            frames.append(table.frame)
            parts.append(PartRows.of(page.name, table))
    if skipped:
        log.warning("whales: %d of %d pages in %s skipped (data.bad_rows: skip); first: %s", len(skipped),
                    len(pages), directory, skipped[0])
    log.info("whales: %d pages in %s", len(pages) - len(skipped), directory)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=WHALE_COLUMNS)
    return RawTable(frame, str(directory), row_names=PartRows(parts))


def _batches(files: list[Path], max_bytes: int) -> list[list[Path]]:
    """Consecutive files in groups of at most max_bytes together (a larger file alone)."""
    batches, size = [[]], 0
    for path in files:
        length = path.stat().st_size
        if batches[-1] and size + length > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
    return batches


def _typed_pages(pages: list[Path]) -> tuple[pd.DataFrame, list[int]] | None:
    """The records of saved /transactions responses (one JSON object per file) as one table, read by Arrow's
    JSON reader with the API's types, and each page's number of records.

    None when any page cannot be read so: not one object, not UTF-8, not a success, a record not an object, a
    value of another type (an id or a timestamp as a number, an amount as text), a required field missing or null.
    The record-by-record reader then accepts it or names the fault.
    """
    texts = [page.read_bytes().strip() for page in pages]
    # One object per file (an empty file or a bare null would leave the rows and the files out of step; Arrow
    # cannot be given a bare null at all), and UTF-8 throughout, which Arrow does not check in every field.
    if not all(text.startswith(b"{") for text in texts):
        return None
    try:
        for text in texts:
            text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        table = pyarrow.json.read_json(
            io.BytesIO(b"\n".join(texts)),
            read_options=pyarrow.json.ReadOptions(block_size=max(1 << 20, max(map(len, texts)) + 1)),
            parse_options=pyarrow.json.ParseOptions(explicit_schema=_PAGE_SCHEMA, unexpected_field_behavior="ignore"))
    except pa.ArrowInvalid as error:
        log.debug("%s..%s: read record by record (%s)", pages[0], pages[-1].name, error)
        return None
    transactions = table["transactions"].combine_chunks()
    if (table.num_rows != len(pages) or table["result"].null_count
            or not pc.all(pc.equal(table["result"], "success")).as_py() or transactions.null_count):
        return None
    records = transactions.flatten()
    sides = {side: records.field(side) for side in ("from", "to")}
    required = [records.field(name) for name in _PAGE_REQUIRED] + [
        array for side in sides.values() for array in (side, side.field("owner_type"))]
    if records.null_count or any(array.null_count for array in required):
        return None
    columns = {name: records.field(name) for name in ("timestamp", "symbol", "amount", "amount_usd")}
    columns |= {f"{side}_owner_type": array.field("owner_type") for side, array in sides.items()}
    columns |= {name: records.field(name) for name in ("id", "blockchain", "hash")}
    columns |= {f"{side}_owner": array.field("owner") for side, array in sides.items()}
    columns["transaction_type"] = records.field("transaction_type")
    frame = pa.table({name: columns[name] for name in WHALE_COLUMNS}).to_pandas()
    return frame, pc.list_value_length(transactions).to_numpy().tolist()


def read_whales(currency: str, skip_bad_pages: bool = False) -> RawTable:
    """The currency's whale data: data/raw/whales/{CUR}.json, {CUR}.csv or a directory {CUR}/ of response
    pages, exactly one of them."""
    candidates = [paths.raw_whales_json(currency), paths.raw_whales_csv(currency), paths.raw_whales_pages(currency)]
    present = [path for path in candidates if path.exists()]
    if len(present) > 1:
        raise InputError(present[0], f"{' and '.join(map(str, present))} all exist; keep one")
    if not present:
        raise InputError(candidates[0], f"file not found (nor {candidates[1].name} or a directory {candidates[2].name}/)")
    path = present[0]
    refuse_linked_folder(paths.raw_whales_pages(currency))
    if path.is_dir():
        return read_whale_pages(path, skip_bad_pages)
    if path.suffix == ".json":
        return read_whales_json(path)
    return read_csv(path, numeric=WHALE_NUMBERS, categorical=WHALE_CATEGORICAL, on_demand=WHALE_ON_DEMAND)
