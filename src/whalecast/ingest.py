"""Raw prices and whale transfers -> clean tables: typed, UTC, sorted, de-duplicated, on a full hourly grid.

Every check raises InputError naming the source, the row (see whalecast.readers) and the problem.
"""

import logging

import numpy as np
import pandas as pd

from whalecast.errors import InputError
from whalecast.readers import PRICE_COLUMNS, WHALE_OPTIONAL, WHALE_REQUIRED, RawTable

log = logging.getLogger(__name__)

HOUR = pd.Timedelta(hours=1)
# Epoch numbers are told apart by size: seconds stay below 1e11 until the year 5138, milliseconds reach
# 1e11 in 1973 and microseconds reach 1e14 in 1973, so any date after 1973 is unambiguous.
_EPOCH_UNITS_NS = [(1e11, 10**9), (1e14, 10**6), (1e17, 10**3)]
_EARLIEST, _LATEST = pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC")
_LATEST_EPOCH_SECONDS = _LATEST.timestamp()


def _require_columns(table: RawTable, required: list[str]) -> None:
    missing = [column for column in required if column not in table.frame.columns]
    if missing:
        raise InputError(table.source, f"missing required column '{missing[0]}' (have: {', '.join(table.frame.columns)})")


def _first(mask: pd.Series):
    return mask.index[mask.to_numpy().argmax()]


def _numbers(table: RawTable, column: str) -> pd.Series:
    raw = table.frame[column]
    numbers = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        label = _first(bad)
        value = raw.loc[label]
        problem = "is empty" if pd.isna(value) or str(value).strip() == "" else f"'{value}' is not a number"
        raise table.fail(label, f"{column} {problem}")
    return numbers


def _timestamps(table: RawTable) -> pd.Series:
    """ISO-8601 (no offset means UTC) or epoch seconds/ms/us, as datetime64[ns, UTC]."""
    raw = table.frame["timestamp"]
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    numbers = pd.to_numeric(raw, errors="coerce")
    if len(raw) and numbers.notna().all():  # an empty column has no numbers to go by
        return _from_epoch(table, numbers)
    parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        label = _first(bad)
        value = raw.loc[label]
        if pd.isna(value) or str(value).strip() == "":
            raise table.fail(label, "timestamp is empty")
        if pd.notna(numbers.loc[label]):
            raise table.fail(label, f"timestamp '{value}' is an epoch number, but other rows are ISO-8601 text")
        raise table.fail(label, f"timestamp '{value}' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds")
    out_of_range = (parsed < _EARLIEST) | (parsed > _LATEST)
    if out_of_range.any():
        label = _first(out_of_range)
        raise table.fail(label, f"timestamp '{raw.loc[label]}' is outside 1970..2100")
    return parsed.astype("datetime64[ns, UTC]")


def _from_epoch(table: RawTable, numbers: pd.Series) -> pd.Series:
    magnitude = numbers.abs().to_numpy(dtype=float)
    ns_per_unit = np.select([magnitude < limit for limit, _ in _EPOCH_UNITS_NS], [ns for _, ns in _EPOCH_UNITS_NS], 1)
    seconds = numbers.to_numpy(dtype=float) * ns_per_unit / 1e9
    out_of_range = (seconds < 0) | (seconds > _LATEST_EPOCH_SECONDS)
    if out_of_range.any():
        label = numbers.index[out_of_range.argmax()]
        raise table.fail(label, f"timestamp {numbers.loc[label]} is outside 1970..2100 in any epoch unit")
    if pd.api.types.is_integer_dtype(numbers):
        nanoseconds = numbers.to_numpy(dtype=np.int64) * ns_per_unit.astype(np.int64)
    else:
        nanoseconds = np.round(numbers.to_numpy(dtype=float) * ns_per_unit).astype(np.int64)
    return pd.Series(pd.to_datetime(nanoseconds, utc=True), index=numbers.index)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip()


def _drop_exact_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    duplicated = frame.duplicated(keep="first")
    return frame[~duplicated], int(duplicated.sum())


# --- prices --------------------------------------------------------------------------------------------


def clean_prices(table: RawTable, max_gap_hours: int) -> pd.DataFrame:
    """Hourly OHLCV bars stamped with their UTC open time, sorted, on a complete hourly grid.

    Missing hours (exchange outages) become flat bars at the previous close with zero volume, flagged
    `filled`; a gap longer than max_gap_hours is an error rather than a fabricated stretch of market.
    """
    _require_columns(table, PRICE_COLUMNS)
    if table.frame.empty:
        raise InputError(table.source, "no data rows")
    bars = pd.DataFrame({"timestamp": _timestamps(table)})
    for column in PRICE_COLUMNS[1:]:
        bars[column] = _numbers(table, column)
    _check_bars(table, bars)
    bars, exact_duplicates = _drop_exact_duplicates(bars)
    repeated = bars["timestamp"].duplicated(keep="first")
    if repeated.any():
        second = _first(repeated)
        first = _first(bars["timestamp"] == bars.loc[second, "timestamp"])
        raise table.fail(
            second, f"timestamp {bars.loc[second, 'timestamp']:%Y-%m-%d %H:%M} also on {table.row(first)} with other values"
        )
    was_sorted = bars["timestamp"].is_monotonic_increasing
    bars = bars.sort_values("timestamp", kind="stable").reset_index(drop=True)
    gaps = int((bars["timestamp"].diff() > HOUR).sum())
    bars, missing_hours, longest_gap = _fill_missing_hours(table, bars, max_gap_hours)
    log.info(
        "prices: %d rows from %s (%s), %d exact duplicates dropped, %d missing hours in %d gaps (longest %d h) "
        "filled as flat zero-volume bars, %d hourly bars %s .. %s",
        len(table.frame), table.source, "ascending" if was_sorted else "re-sorted", exact_duplicates,
        missing_hours, gaps, longest_gap, len(bars), f"{bars['timestamp'].iloc[0]:%Y-%m-%d %H:%M}",
        f"{bars['timestamp'].iloc[-1]:%Y-%m-%d %H:%M}",
    )
    return bars


def drop_newest_bar(bars: pd.DataFrame, reason: str) -> pd.DataFrame:
    log.info("prices: newest bar %s dropped: %s", f"{bars['timestamp'].iloc[-1]:%Y-%m-%d %H:%M}", reason)
    return bars.iloc[:-1]


def _check_bars(table: RawTable, bars: pd.DataFrame) -> None:
    for column in ("open", "high", "low", "close"):
        bad = bars[column] <= 0
        if bad.any():
            label = _first(bad)
            raise table.fail(label, f"{column} is {bars.loc[label, column]:g}; prices must be positive")
    bad = bars["volume"] < 0
    if bad.any():
        label = _first(bad)
        raise table.fail(label, f"volume is {bars.loc[label, 'volume']:g}; volume cannot be negative")
    bad = bars["high"] < bars["low"]
    if bad.any():
        label = _first(bad)
        raise table.fail(label, f"high {bars.loc[label, 'high']:g} is below low {bars.loc[label, 'low']:g}")
    for column in ("open", "close"):
        bad = (bars[column] > bars["high"]) | (bars[column] < bars["low"])
        if bad.any():
            label = _first(bad)
            bar = bars.loc[label]
            raise table.fail(label, f"{column} {bar[column]:g} is outside low..high {bar['low']:g}..{bar['high']:g}")
    bad = bars["timestamp"] != bars["timestamp"].dt.floor("h")
    if bad.any():
        label = _first(bad)
        raise table.fail(
            label, f"timestamp {bars.loc[label, 'timestamp']:%Y-%m-%d %H:%M:%S} is not on the hour "
            "(hourly bars are stamped with their open time)"
        )


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


# --- whale transfers -----------------------------------------------------------------------------------


def clean_whales(table: RawTable, currency: str) -> pd.DataFrame:
    """The currency's whale transfers (symbol match, any case), typed, sorted by time, exact duplicates dropped."""
    _require_columns(table, WHALE_REQUIRED)
    frame = table.frame
    symbol = _text(frame, "symbol").str.upper()
    ours = (symbol == currency.upper()).fillna(False).astype(bool)
    mine = RawTable(frame[ours], table.source, table.row_format)
    transfers = pd.DataFrame({"timestamp": _timestamps(mine)})
    for column in ("amount", "amount_usd"):
        transfers[column] = _numbers(mine, column)
        negative = transfers[column] < 0
        if negative.any():
            raise mine.fail(_first(negative), f"{column} is negative")
    unknown_owner_types = 0
    for column in ("from_owner_type", "to_owner_type"):
        owner_type = _text(mine.frame, column).str.lower()
        unknown_owner_types += int(owner_type.isna().sum() + (owner_type == "").sum())
        transfers[column] = owner_type.replace("", pd.NA).fillna("unknown")
    for column in WHALE_OPTIONAL:
        transfers[column] = _text(mine.frame, column)
    # The flat CSV may leave the type out: such a row is read as a plain transfer (counted below).
    untyped = transfers["transaction_type"].isna() | (transfers["transaction_type"] == "")
    transfers["transaction_type"] = transfers["transaction_type"].str.lower().mask(untyped, "transfer")
    transfers, exact_duplicates = _drop_exact_duplicates(transfers)
    was_sorted = transfers["timestamp"].is_monotonic_increasing
    transfers = transfers.sort_values("timestamp", kind="stable").reset_index(drop=True)
    for column in ("from_owner_type", "to_owner_type"):
        transfers[column] = transfers[column].astype("category")
    owner_types = pd.concat([transfers["from_owner_type"], transfers["to_owner_type"]]).astype(str).value_counts()
    transaction_types = transfers["transaction_type"].value_counts()
    log.info(
        "whales: %d records from %s, %d of other symbols skipped, %d exact duplicates dropped, "
        "%d blank owner types read as 'unknown', %d without a transaction_type read as 'transfer', "
        "%d %s records kept (%s; types: %s; owner types: %s)",
        len(frame), table.source, int((~ours).sum()), exact_duplicates, unknown_owner_types, int(untyped.sum()),
        len(transfers), currency, "ascending" if was_sorted else "re-sorted",
        ", ".join(f"{name} {count}" for name, count in transaction_types.items()) or "none",
        ", ".join(f"{name} {count}" for name, count in owner_types.items()) or "none",
    )
    return transfers
