"""Raw input files as read: tables of text, with rows labelled as the user knows them.

Rows are named "line N" of a CSV file (the header is line 1) and "transactions[i]" of a Whale Alert JSON
response, so that every error can point at the row to fix.
"""

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from whalecast import paths
from whalecast.errors import InputError

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PRICE_FORMATS = ("auto", "generic", "binance_kline", "cryptodatadownload")
# Binance's kline dumps (data.binance.vision): no header; open_time in ms, or in us from 2025 on.
BINANCE_KLINE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                         "trades", "taker_buy_base", "taker_buy_quote", "ignore"]
WHALE_REQUIRED = ["timestamp", "symbol", "amount", "amount_usd", "from_owner_type", "to_owner_type"]
# `id` is Whale Alert's id of a record: one on-chain transaction (hash) can carry several records.
WHALE_OPTIONAL = ["id", "blockchain", "hash", "from_owner", "to_owner", "transaction_type"]
WHALE_COLUMNS = WHALE_REQUIRED + WHALE_OPTIONAL


@dataclass
class RawTable:
    """A raw table as read, with its rows indexed by the number the user knows them by."""

    frame: pd.DataFrame
    source: str
    row_format: str = "row {}"

    def row(self, label) -> str:
        return self.row_format.format(label)

    def fail(self, label, problem: str) -> InputError:
        return InputError(self.source, f"{self.row(label)}: {problem}")


def read_csv(path: Path, header_line: int = 1, names: list[str] | None = None) -> RawTable:
    """A CSV as strings, with lower-case column names and rows labelled by line number.

    The header is on `header_line` (lines above it are skipped), or, with `names`, the file has no header
    and every line is a row of exactly those columns.
    """
    path = Path(path)
    check_not_empty(path)
    if not names:
        _check_separator(path, header_line)
    skipped = 0 if names else header_line - 1
    try:
        # header=None: pandas would silently rename a repeated column; blank lines are kept so that row
        # labels stay the file's line numbers.
        frame = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True, skip_blank_lines=False,
                            encoding="utf-8-sig", skiprows=skipped)
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
    """A price file in one of PRICE_FORMATS, as a table with at least PRICE_COLUMNS, and its layout."""
    path = Path(path)
    check_not_empty(path)
    layout = detect_price_format(path) if price_format == "auto" else price_format
    if layout == "binance_kline":
        table = read_csv(path, names=BINANCE_KLINE_COLUMNS)
    elif layout == "cryptodatadownload":
        table = _cryptodatadownload(read_csv(path, header_line=2), currency)
    else:
        table = read_csv(path)
    log.info("prices: %s read as %s%s", path, layout, " (detected)" if price_format == "auto" else "")
    return table, layout


def read_price_files(currency: str, price_format: str = "auto") -> tuple[RawTable, str]:
    """data/raw/prices/{CUR}.csv, or every *.csv in a directory data/raw/prices/{CUR}/ (e.g. Binance's
    monthly dumps as downloaded) as one table with rows named "file: line N"; and the layout ("mixed" when
    the files differ)."""
    single, directory = paths.raw_prices(currency), paths.raw_prices_dir(currency)
    refuse_linked_folder(directory)
    if single.exists() and directory.exists():
        raise InputError(single, f"both {single} and the directory {directory}/ exist; keep one")
    if not directory.exists():
        return read_prices(single, currency, price_format)
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise InputError(directory, "no *.csv price files in the directory")
    read = {path.name: read_prices(path, currency, price_format) for path in files}
    layouts = {layout for _, layout in read.values()}
    table = one_table(directory, {name: table for name, (table, _) in read.items()}, PRICE_COLUMNS)
    return table, layouts.pop() if len(layouts) == 1 else "mixed"


def one_table(directory: Path, tables: dict[str, RawTable], columns: list[str]) -> RawTable:
    """Tables read from the files of one directory as one table, each row named "file: row"."""
    frames = [table.frame.set_axis([f"{name}: {table.row(label)}" for label in table.frame.index])
              for name, table in tables.items()]
    return RawTable(pd.concat(frames) if frames else pd.DataFrame(columns=columns), str(directory), "{}")


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
    for field in ("timestamp", "symbol", "amount", "amount_usd", "from", "to"):
        if field not in transaction:
            raise InputError(path, f"{where}: missing field '{field}'")
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
    """Saved Whale Alert responses, one per cursor page (*.json, read in name order), as one table.

    Pages fetched by cursor can overlap; ingest drops a record seen again. A page that cannot be read is an
    error, or with skip_bad_pages left out and counted.
    """
    pages = sorted(Path(directory).glob("*.json"))
    if not pages:
        raise InputError(directory, "no *.json response pages in the directory")
    tables, skipped = {}, []
    for page in pages:
        try:
            tables[page.name] = read_whales_json(page)
        except InputError as error:
            if not skip_bad_pages:
                raise
            skipped.append(f"{page.name}: {error.problem}")
    if skipped:
        log.warning("whales: %d of %d pages in %s skipped (data.bad_rows: skip); first: %s", len(skipped),
                    len(pages), directory, skipped[0])
    log.info("whales: %d pages in %s", len(tables), directory)
    return one_table(directory, tables, WHALE_COLUMNS)


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
    return read_whales_json(path) if path.suffix == ".json" else read_csv(path)
