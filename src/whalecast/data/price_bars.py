"""Hourly price bars: the price files a user drops into data/raw/prices/ as read, and the clean bars ingest
writes, typed, UTC, sorted, de-duplicated, on a complete hourly grid.

Layouts (PRICE_FORMATS, told apart from the first line): generic (a header with timestamp and OHLCV), Binance's
kline dumps, and CryptoDataDownload's exports; one file or a folder of them. A file whose name or `symbol` column
names another asset's market is refused, and so are two adjacent closes further apart than two assets' prices
could be (data.max_price_jump).
"""

import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from whalecast import paths
from whalecast.data.cells import BadRows, first_label, numbers, require_columns, timestamps
from whalecast.data.raw_files import RawTable, check_not_empty, one_table, read_csv, refuse_linked_folder
from whalecast.errors import InputError
from whalecast.hourly import HOUR

log = logging.getLogger(__name__)

PRICE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume"]
PRICE_NUMBERS = ("open", "high", "low", "close", "volume")
PRICE_FORMATS = ("auto", "generic", "binance_kline", "cryptodatadownload")
# Binance's kline dumps (data.binance.vision): no header; open_time in ms, or in us from 2025 on.
BINANCE_KLINE_COLUMNS = ["timestamp", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                         "trades", "taker_buy_base", "taker_buy_quote", "ignore"]
# The quote assets of the usual spot markets (longest first: a message names the first reading of a market), and a
# market written as exchanges write it, base and quote glued (BTCUSDT, ETHBTC), as in CryptoDataDownload's and
# Binance's file names and symbol columns. Bitcoin is XBT at Kraken and BitMEX.
QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "GBP", "JPY", "KRW", "TRY", "BTC", "ETH", "BNB")
_MARKET = rf"[A-Z][A-Z0-9]{{1,9}}(?:{'|'.join(QUOTE_ASSETS)})"
ASSET_ALIASES = {"XBT": "BTC"}

HOURLY_EVIDENCE_STEPS = 24
# Spelt without \s, which sends pandas' string matching to Python's re, row by row (15x slower than Arrow's RE2).
_ANY_ZONE = r"(?:Z|[+-]\d{2}:?\d{2}|[ \t][A-Za-z][A-Za-z_]*(?:/[A-Za-z0-9_+\-]+)*)$"
# Zones whose daylight-saving changes a local-time export would show; most exchange users live in one of them.
_DAYLIGHT_SAVING_ZONES = ("Europe/London", "Europe/Berlin", "Europe/Athens", "America/New_York", "America/Chicago",
                          "America/Denver", "America/Los_Angeles", "Australia/Sydney", "Pacific/Auckland")


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


def _drop_exact_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    duplicated = frame.duplicated(keep="first")
    return frame[~duplicated], int(duplicated.sum())


def clean_prices(table: RawTable, max_gap_hours: int, skip_bad_rows: bool = False,
                 max_filled_share: float = 1.0, max_price_jump: float = math.inf, drop_newest: Sequence[bool] = (),
                 drop_reason: str = "") -> pd.DataFrame:
    """Hourly OHLCV bars stamped with their UTC open time, sorted, on a complete hourly grid.

    Bars of another interval (daily, 4-hour, 5-minute) are refused. Missing hours (exchange outages) become
    flat bars at the previous close with zero volume, flagged `filled`; a gap longer than max_gap_hours, or
    more than max_filled_share of the hours filled, is an error rather than a fabricated stretch of market.
    So is a close more than max_price_jump times, or less than 1/max_price_jump times, the one before.
    A malformed row is an error, or with skip_bad_rows dropped and counted (its hour is then missing).
    drop_newest says, for each file of the table in its order, whether its newest bar is dropped, for drop_reason
    (it may have been still open when the file was saved): see _drop_newest_bars.
    """
    require_columns(table, PRICE_COLUMNS)
    if table.frame.empty:
        raise InputError(table.source, "no data rows")
    bad_rows = BadRows(table, skip_bad_rows)
    bars = pd.DataFrame({"timestamp": timestamps(table, bad_rows)})
    for column in PRICE_COLUMNS[1:]:
        bars[column] = numbers(table, column, bad_rows)
    # Before the row checks: a 5-minute file is one problem, not a bad row per bar.
    _check_hourly(table, bad_rows.without(bars)["timestamp"])
    _check_bars(bars, bad_rows)
    bars, exact_duplicates = _drop_exact_duplicates(_drop_newest_bars(table, bars, bad_rows, drop_newest, drop_reason))
    if _written_without_zone(table.frame["timestamp"]):  # after exact duplicates: a file appended twice is not local
        _check_not_local_time(table, bars["timestamp"])
    repeated = bars["timestamp"].duplicated(keep="first")
    if repeated.any() and not skip_bad_rows:
        second = first_label(repeated)
        first = first_label(bars["timestamp"] == bars.loc[second, "timestamp"])
        raise table.fail(
            second, f"timestamp {bars.loc[second, 'timestamp']:%Y-%m-%d %H:%M} also on {table.row(first)} with other values"
        )
    # Which of two different bars for one hour is right cannot be known: with skip, neither is kept.
    bad_rows.reject(bars["timestamp"].duplicated(keep=False), "rows whose hour has another, different row",
                    lambda label: f"timestamp {bars.loc[label, 'timestamp']:%Y-%m-%d %H:%M} has other rows with other values")
    bars = bad_rows.without(bars)
    bad_rows.log_skipped("prices")
    if bars.empty:
        raise InputError(table.source, "no valid data rows")
    was_sorted = bars["timestamp"].is_monotonic_increasing
    bars = bars.sort_values("timestamp", kind="stable")
    _check_price_jumps(table, bars, max_price_jump)
    bars = bars.reset_index(drop=True)
    gaps = int((bars["timestamp"].diff() > HOUR).sum())
    bars, missing_hours, longest_gap = _fill_missing_hours(table, bars, max_gap_hours)
    filled_share = missing_hours / len(bars)
    if filled_share > max_filled_share:
        raise InputError(table.source, f"{missing_hours:,} of {len(bars):,} hours ({filled_share:.1%}) are missing and "
                                       f"would be filled flat, more than data.max_filled_share={max_filled_share:g} "
                                       "allows; a model would learn a market that is partly invented")
    log.info(
        "prices: %d rows from %s (%s), %d exact duplicates dropped, %d missing hours in %d gaps (longest %d h) "
        "filled as flat zero-volume bars (%.1f%% of the hours), %d hourly bars %s .. %s",
        len(table.frame), table.source, "ascending" if was_sorted else "re-sorted", exact_duplicates,
        missing_hours, gaps, longest_gap, 100 * filled_share, len(bars), f"{bars['timestamp'].iloc[0]:%Y-%m-%d %H:%M}",
        f"{bars['timestamp'].iloc[-1]:%Y-%m-%d %H:%M}",
    )
    return bars


def _drop_newest_bars(table: RawTable, bars: pd.DataFrame, bad_rows: BadRows, drop_newest: Sequence[bool],
                      reason: str) -> pd.DataFrame:
    """The bars but bad rows and the newest hour of each file drop_newest flags, dropped before the files are put
    together: a later file that holds the hour gives its bar (the hour had closed when that file was saved), and
    without one the hour is missing, as in an outage (filled flat and counted)."""
    valid = bad_rows.without(bars)
    if valid.empty or not any(drop_newest):
        return valid
    files = pd.Series(table.file_numbers(bars.index), index=bars.index)
    # The newest of every row with a time: a newest hour already skipped as a bad row takes no other with it.
    newest = bars["timestamp"].groupby(files).transform("max")
    flagged = pd.Series(np.asarray(drop_newest)[files.to_numpy()], index=bars.index)
    dropped = (flagged & (bars["timestamp"] == newest))[valid.index].to_numpy()
    kept, files = valid[~dropped], files[valid.index]
    if kept.empty:
        raise InputError(table.source, f"no price bars left: the newest bar of each file was dropped ({reason})")
    first_of_file = valid.index[dropped][~files[dropped].duplicated().to_numpy()]
    hours = valid.loc[first_of_file, "timestamp"]
    held = int(hours.isin(kept["timestamp"]).sum())
    listed = "; ".join(f"{hours[label]:%Y-%m-%d %H:%M}, {table.row(label)}" for label in first_of_file[:5])
    log.info("prices: newest bar of %d file%s dropped (%s%s): %s%s", len(first_of_file),
             "" if len(first_of_file) == 1 else "s", listed,
             f"; and {len(first_of_file) - 5} more" if len(first_of_file) > 5 else "", reason,
             f"; {held} of these hours {'is' if held == 1 else 'are'} read from another file that holds "
             f"{'it' if held == 1 else 'them'}" if held else "")
    return kept


def _check_bars(bars: pd.DataFrame, bad_rows: BadRows) -> None:
    for column in ("open", "high", "low", "close"):
        bad_rows.reject(bars[column] <= 0, f"non-positive {column}", lambda label, column=column: (
            f"{column} is {bars.loc[label, column]:g}; prices must be positive"))
    bad_rows.reject(bars["volume"] < 0, "negative volumes", lambda label: (
        f"volume is {bars.loc[label, 'volume']:g}; volume cannot be negative"))
    bad_rows.reject(bars["high"] < bars["low"], "rows with high below low", lambda label: (
        f"high {bars.loc[label, 'high']:g} is below low {bars.loc[label, 'low']:g}"))
    for column in ("open", "close"):
        outside = (bars[column] > bars["high"]) | (bars[column] < bars["low"])
        bad_rows.reject(outside, f"rows with {column} outside low..high", lambda label, column=column: (
            f"{column} {bars.loc[label, column]:g} is outside low..high "
            f"{bars.loc[label, 'low']:g}..{bars.loc[label, 'high']:g}"))
    bad_rows.reject(bars["timestamp"] != bars["timestamp"].dt.floor("h"), "timestamps not on the hour", lambda label: (
        f"timestamp {bars.loc[label, 'timestamp']:%Y-%m-%d %H:%M:%S} is not on the hour "
        "(hourly bars are stamped with their open time)"))


def _check_price_jumps(table: RawTable, bars: pd.DataFrame, max_price_jump: float) -> None:
    """Refuse two adjacent bars (`bars` sorted; hours missing between them are filled flat at the earlier close)
    whose closes differ by more than the factor either way: the trace of two assets' prices in one history, an ETH
    file among BTC's say, where the two meet. In eight years of real BTC and ETH hours the largest factor was 1.26
    (ETH, 2020-03-12 09:00 to 10:00)."""
    close = bars["close"].to_numpy()
    factors = np.maximum(close[1:] / close[:-1], close[:-1] / close[1:])
    jumps = np.flatnonzero(factors > max_price_jump)
    if not len(jumps):
        return
    before, after = bars.index[jumps[0]], bars.index[jumps[0] + 1]
    times = bars.loc[[before, after], "timestamp"]
    hours = (times[after] - times[before]) // HOUR
    raise InputError(table.source, f"close {bars.loc[before, 'close']:.10g} at {times[before]:%Y-%m-%d %H:%M} "
                                   f"({table.row(before)}) and {bars.loc[after, 'close']:.10g} at "
                                   f"{times[after]:%Y-%m-%d %H:%M} ({table.row(after)}): a factor of "
                                   f"{factors[jumps[0]]:.3g} in {hours} hour{'' if hours == 1 else 's'}, more than "
                                   f"data.max_price_jump ({max_price_jump:g}) allows; two assets' prices in one "
                                   "history, or a wrong price?")


def _check_hourly(table: RawTable, times: pd.Series) -> None:
    """Refuse a file whose most common step between timestamps is not 1 hour: daily bars with 23-hour gaps
    would pass every gap check and be filled into a market that is mostly invented. Judged from a day of bars
    on (fewer say little, and are too short for any window anyway)."""
    steps = times.dropna().drop_duplicates().sort_values().diff().dropna()
    if len(steps) < HOURLY_EVIDENCE_STEPS:
        return
    step = steps.mode().iloc[0]
    if step != HOUR:
        raise InputError(table.source, f"bars are {_duration(step)} apart (the most common step between timestamps), "
                                       "not 1 hour: the pipeline reads hourly bars; export the hourly file or resample "
                                       "it to 1 hour")


def _duration(step: pd.Timedelta) -> str:
    for unit, length in (("day", pd.Timedelta(days=1)), ("hour", HOUR), ("minute", pd.Timedelta(minutes=1))):
        if step >= length and step % length == pd.Timedelta(0):
            count = step // length
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{step.total_seconds():g} seconds"


def _written_without_zone(raw: pd.Series) -> bool:
    """ISO-8601 text with neither offset nor zone name: UTC by contract, unless the file says otherwise."""
    if pd.api.types.is_numeric_dtype(raw) or isinstance(raw.dtype, pd.DatetimeTZDtype):
        return False
    text = raw.astype("string").str.strip()
    return not (text.str.contains(_ANY_ZONE) | text.str.fullmatch(r"[-+]?\d+(\.\d*)?")).fillna(False).any()


def _check_not_local_time(table: RawTable, times: pd.Series) -> None:
    """Refuse an hourly file written on a local clock: it lacks an hour where clocks go forward and has one
    twice where they go back. A zone matches when every such hour of it in the file's span shows that."""
    labels = pd.DatetimeIndex(times.dropna().dt.tz_localize(None))
    if labels.empty:
        return
    counts = labels.value_counts()
    present, repeated = counts.index, counts.index[counts > 1]
    grid = pd.date_range(present.min(), present.max(), freq="h")
    missing = grid.difference(present)
    lone_missing = missing[(missing - HOUR).isin(present) & (missing + HOUR).isin(present)]
    for zone in _DAYLIGHT_SAVING_ZONES:
        skipped = grid[grid.tz_localize(zone, ambiguous=np.ones(len(grid), bool), nonexistent="NaT").isna()]
        doubled = grid[grid.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").isna()]
        shown = ([f"{hour:%Y-%m-%d %H:%M} is missing" for hour in skipped if hour in lone_missing]
                 + [f"{hour:%Y-%m-%d %H:%M} appears twice" for hour in doubled if hour in repeated])
        if (len(skipped) and skipped.isin(lone_missing).all()) or (len(doubled) and doubled.isin(repeated).all()):
            raise InputError(table.source, f"looks like local time, not UTC: {' and '.join(shown[:4])}, as when "
                                           f"clocks change in {zone}; export it in UTC, or with an offset (+01:00)")


def _fill_missing_hours(table: RawTable, bars: pd.DataFrame, max_gap_hours: int) -> tuple[pd.DataFrame, int, int]:
    steps = bars["timestamp"].diff() / HOUR
    longest_gap = int(steps.max() - 1) if len(bars) > 1 else 0
    if longest_gap > max_gap_hours:
        after = bars["timestamp"].iloc[steps.idxmax() - 1]  # the index is 0..n-1 after sorting
        raise InputError(
            table.source, f"{longest_gap} hours missing after {after:%Y-%m-%d %H:%M}, more than "
            f"data.max_gap_hours={max_gap_hours}"
        )
    grid = pd.date_range(bars["timestamp"].iloc[0], bars["timestamp"].iloc[-1], freq="h")
    complete = bars.set_index("timestamp").reindex(grid)
    filled = complete["close"].isna()
    complete["close"] = complete["close"].ffill()
    for column in ("open", "high", "low"):
        complete[column] = complete[column].fillna(complete["close"])
    complete["volume"] = complete["volume"].fillna(0.0)
    complete["filled"] = filled
    complete = complete.rename_axis("timestamp").reset_index()
    return complete, int(filled.sum()), longest_gap
