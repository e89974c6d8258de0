"""Raw prices and whale transfers -> clean tables: typed, UTC, sorted, de-duplicated, on a full hourly grid.

Every check raises InputError naming the source, the row (see whalecast.readers) and the problem.
"""

import logging
import math
import zoneinfo
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from whalecast.errors import InputError
from whalecast.readers import PRICE_COLUMNS, WHALE_OPTIONAL, WHALE_REQUIRED, RawTable

log = logging.getLogger(__name__)

HOUR = pd.Timedelta(hours=1)
HOURLY_EVIDENCE_STEPS = 24
# Epoch numbers are told apart by size: seconds stay below 1e11 until the year 5138, milliseconds reach
# 1e11 in 1973 and microseconds reach 1e14 in 1973, so any date after 1973 is unambiguous.
_EPOCH_UNITS_NS = [(1e11, 10**9), (1e14, 10**6), (1e17, 10**3)]
_EARLIEST, _LATEST = pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC")
_LATEST_EPOCH_SECONDS = _LATEST.timestamp()
# Spreadsheets count days from 1899-12-30: 20000..80000 is 1954..2119, and as epoch seconds it would be 1 January 1970.
_EXCEL_EPOCH, _EXCEL_SERIAL_DAYS = pd.Timestamp("1899-12-30"), (20_000, 80_000)
# A zone name after the time ("2024-03-01 13:00:00 Europe/Berlin"), and any zone or offset at all.
_ZONE_NAME = r"^(?P<local>.*\d)\s+(?P<zone>[A-Za-z][A-Za-z_]*(?:/[A-Za-z0-9_+\-]+)*)$"
# Spelt without \s, which sends pandas' string matching to Python's re, row by row (15x slower than Arrow's RE2).
_ANY_ZONE = r"(?:Z|[+-]\d{2}:?\d{2}|[ \t][A-Za-z][A-Za-z_]*(?:/[A-Za-z0-9_+\-]+)*)$"
# Zones whose daylight-saving changes a local-time export would show; most exchange users live in one of them.
_DAYLIGHT_SAVING_ZONES = ("Europe/London", "Europe/Berlin", "Europe/Athens", "America/New_York", "America/Chicago",
                          "America/Denver", "America/Los_Angeles", "Australia/Sydney", "Pacific/Auckland")


def _require_columns(table: RawTable, required: list[str]) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(table.source, f"missing required column '{missing[0]}' (have: {', '.join(table.columns)})")


def _first(mask: pd.Series):
    return mask.index[mask.to_numpy().argmax()]


class BadRows:
    """Rows that fail a check: an error naming the first of them (the default) or, with skip, dropped and
    counted per kind of problem, with the first example, in one log line (see log_skipped)."""

    def __init__(self, table: RawTable, skip: bool):
        self.table, self.skip = table, skip
        self.labels: set = set()
        self.kinds: dict[str, tuple[int, str]] = {}

    def reject(self, bad: pd.Series, kind: str, describe: Callable[[object], str]) -> None:
        bad = bad.fillna(False).astype(bool)
        if not bad.any():  # the usual case, decided without looking up millions of labels
            return
        bad &= ~bad.index.isin(self.labels)  # a row counts once
        if not bad.any():
            return
        first = _first(bad)
        if not self.skip:
            raise self.table.fail(first, describe(first))
        self.labels.update(bad.index[bad.to_numpy()])
        count, example = self.kinds.get(kind, (0, f"{self.table.row(first)}: {describe(first)}"))
        self.kinds[kind] = (count + int(bad.sum()), example)

    def without(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame.index.isin(self.labels)]

    def log_skipped(self, what: str) -> None:
        if self.labels:
            log.warning("%s: %d malformed rows of %s skipped (data.bad_rows: skip): %s", what, len(self.labels),
                        self.table.source, "; ".join(f"{count} {kind} (first: {example})"
                                                     for kind, (count, example) in self.kinds.items()))


def numbers(table: RawTable, column: str, bad_rows: BadRows) -> pd.Series:
    raw = table.frame[column]
    # + 0.0 turns -0.0 into 0.0: "-0" read typed is -0.0, read as text the integer 0; equal, but not in parquet bytes.
    numbers = pd.to_numeric(raw, errors="coerce").astype(float) + 0.0

    def describe(label):
        value = raw.loc[label]
        return f"{column} is empty" if pd.isna(value) or str(value).strip() == "" else f"{column} '{value}' is not a number"

    bad_rows.reject(pd.Series(~np.isfinite(numbers), index=raw.index), f"non-numeric {column}", describe)
    return numbers


def timestamps(table: RawTable, bad_rows: BadRows) -> pd.Series:
    """ISO-8601 (no offset means UTC) or epoch seconds/ms/us, as datetime64[ns, UTC] (NaT where rejected)."""
    raw = table.frame["timestamp"]
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    text = None  # a typed read's number column has none
    if pd.api.types.is_numeric_dtype(raw):
        numbers = raw
    else:
        text = raw.astype("string").str.strip()
        numbers = _written_as_numbers(raw, text)
        scientific = numbers.notna() & text.str.contains("[eE]").fillna(False)
        bad_rows.reject(scientific, "timestamps in scientific notation", lambda label: (
            f"timestamp '{raw.loc[label]}' is in scientific notation, as a spreadsheet shows large numbers: rounded "
            "to a few digits it can be hours off; export the column as whole numbers or ISO-8601 text"))
    if len(raw) and numbers.notna().all():  # an empty column has no numbers to go by
        excel = (numbers >= _EXCEL_SERIAL_DAYS[0]) & (numbers < _EXCEL_SERIAL_DAYS[1])
        bad_rows.reject(excel, "Excel serial dates", lambda label: (
            f"timestamp '{raw.loc[label]}' looks like an Excel serial date "
            f"({_EXCEL_EPOCH + pd.Timedelta(days=float(numbers.loc[label])):%Y-%m-%d %H:%M}); export the column as "
            "ISO-8601 text or epoch seconds"))
        return _from_epoch(numbers, bad_rows)
    if text is None:  # numbers with gaps
        text = raw.astype("string").str.strip()
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    # A zone name, as in `2024-03-01 13:00:00 Europe/Berlin`, is looked for only where ISO-8601 failed.
    zoned = text[parsed.isna()].str.extract(_ZONE_NAME)
    named = zoned["zone"].notna()
    if named.any():
        parsed[named[named].index] = _in_named_zones(raw, zoned[named], bad_rows)
    empty = raw.isna() | (text == "")
    bad_rows.reject(empty, "empty timestamps", lambda label: "timestamp is empty")
    bad_rows.reject(parsed.isna() & numbers.notna(), "epoch timestamps among ISO-8601 text", lambda label: (
        f"timestamp '{raw.loc[label]}' is an epoch number, but other rows are ISO-8601 text"))
    bad_rows.reject(parsed.isna(), "unreadable timestamps", lambda label: (
        f"timestamp '{raw.loc[label]}' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds"))
    bad_rows.reject((parsed < _EARLIEST) | (parsed > _LATEST), "timestamps outside 1970..2100", lambda label: (
        f"timestamp '{raw.loc[label]}' is outside 1970..2100"))
    return parsed.astype("datetime64[ns, UTC]")


def _written_as_numbers(raw: pd.Series, text: pd.Series) -> pd.Series:
    """The values of a text column (`text`: stripped) written as plain or scientific numbers, NaN elsewhere.
    to_numeric tries each value in Python, so it is given only those (none of 2 million ISO-8601 stamps, found
    by one RE2 match)."""
    number_like = text.str.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?").fillna(False).astype(bool)
    if number_like.all():
        return pd.to_numeric(raw, errors="coerce")
    numbers = pd.Series(np.nan, index=raw.index)
    numbers[number_like] = pd.to_numeric(raw[number_like], errors="coerce")
    return numbers


def _in_named_zones(raw: pd.Series, zoned: pd.DataFrame, bad_rows: BadRows) -> pd.Series:
    """Wall-clock times followed by a zone name (`2024-03-01 13:00:00 Europe/Berlin`), in UTC."""
    result = pd.Series(pd.NaT, index=zoned.index, dtype="datetime64[ns, UTC]")
    for zone in zoned["zone"].unique():
        rows = zoned["zone"] == zone
        in_zone = rows.reindex(raw.index, fill_value=False)
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            bad_rows.reject(in_zone, "unknown time zones", lambda label, zone=zone: (
                f"timestamp '{raw.loc[label]}' names an unknown time zone '{zone}'"))
            continue
        wall_clock = pd.to_datetime(zoned.loc[rows, "local"], format="ISO8601", errors="coerce")
        localized = wall_clock.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        unclear = (localized.isna() & wall_clock.notna()).reindex(raw.index, fill_value=False)
        bad_rows.reject(unclear, "times skipped or repeated by a clock change", lambda label, zone=zone: (
            f"timestamp '{raw.loc[label]}' is skipped or repeated when clocks change in {zone}; write it with an "
            "offset (+01:00) instead"))
        result[rows] = localized.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return result


def _from_epoch(numbers: pd.Series, bad_rows: BadRows) -> pd.Series:
    magnitude = numbers.abs().to_numpy(dtype=float)
    unit = np.searchsorted([limit for limit, _ in _EPOCH_UNITS_NS], magnitude, side="right")
    ns_per_unit = np.array([ns for _, ns in _EPOCH_UNITS_NS] + [1])[unit]
    seconds = numbers.to_numpy(dtype=float) * ns_per_unit / 1e9
    out_of_range = pd.Series((seconds < 0) | (seconds > _LATEST_EPOCH_SECONDS), index=numbers.index)
    bad_rows.reject(out_of_range, "timestamps outside 1970..2100", lambda label: (
        f"timestamp {numbers.loc[label]} is outside 1970..2100 in any epoch unit"))
    ns_per_unit = np.where(out_of_range, 0, ns_per_unit)  # rejected rows become the epoch, then are dropped
    if pd.api.types.is_integer_dtype(numbers):
        nanoseconds = numbers.to_numpy(dtype=np.int64) * ns_per_unit.astype(np.int64)
    else:
        nanoseconds = np.round(numbers.to_numpy(dtype=float) * ns_per_unit).astype(np.int64)
    return pd.Series(pd.DatetimeIndex(nanoseconds.view("datetime64[ns]")).tz_localize("UTC"), index=numbers.index)


def text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip()


def labels(frame: pd.DataFrame, column: str, case: str | None = None) -> pd.Series:
    """A column of few distinct values (owner types, symbols, ...) as categorical text, stripped and in `case`
    (lower, upper): cleaned once per distinct value, not once per row of millions."""
    if column not in frame.columns:
        return text(frame, column).astype("category")
    codes, values = pd.factorize(frame[column])  # a typed read's category column: by its codes, no text hashed
    cleaned = pd.Index(values, dtype="string").str.strip()
    if case:
        cleaned = getattr(cleaned.str, case)()
    # Values that differ only in case or spaces become one.
    merged, distinct = pd.factorize(cleaned)
    if len(distinct) < len(cleaned):
        codes = np.where(codes < 0, -1, merged[codes])
    return pd.Series(pd.Categorical.from_codes(codes, pd.Index(distinct, dtype="string")), index=frame.index)


# The optional whale columns kept in the clean table (see clean_whales for the hash).
WHALE_KEPT = [column for column in WHALE_OPTIONAL if column != "hash"]


def _drop_exact_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    duplicated = frame.duplicated(keep="first")
    return frame[~duplicated], int(duplicated.sum())


# --- prices --------------------------------------------------------------------------------------------


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
    _require_columns(table, PRICE_COLUMNS)
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
        second = _first(repeated)
        first = _first(bars["timestamp"] == bars.loc[second, "timestamp"])
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


# --- whale transfers -----------------------------------------------------------------------------------


def clean_whales(table: RawTable, currency: str, skip_bad_rows: bool = False) -> pd.DataFrame:
    """The currency's whale records (symbol match, any case), typed, sorted by time, duplicates dropped.

    Records with distinct ids are distinct, even of one on-chain transaction with equal amounts; a duplicate
    is a record whose id was seen before or, without an id, an identical record. A malformed record (a
    number or owner type missing, say) is an error, or with skip_bad_rows dropped and counted.

    The transaction hash tells records apart, but is not kept: no feature reads it, it stays in the raw file,
    and 2 million of them would be most of the table's bytes (to write, and for DVC to hash and cache)."""
    _require_columns(table, WHALE_REQUIRED)
    frame = table.frame
    symbol = labels(frame, "symbol", "upper")
    ours = (symbol == currency.upper()).to_numpy()
    mine = table if ours.all() else table.subset(ours)
    bad_rows = BadRows(mine, skip_bad_rows)
    if len(frame) and not ours.any():
        symbols = symbol.value_counts()
        log.warning("whales: none of the %d records of %s is %s (symbols: %s); is it another currency's file?",
                    len(frame), table.source, currency, ", ".join(f"{name} {count}" for name, count in symbols.items()))
    transfers = pd.DataFrame({"timestamp": timestamps(mine, bad_rows)})
    for column in ("amount", "amount_usd"):
        transfers[column] = numbers(mine, column, bad_rows)
        bad_rows.reject(transfers[column] < 0, f"negative {column}", lambda label, column=column: f"{column} is negative")
    for column in ("from_owner_type", "to_owner_type"):
        transfers[column] = labels(mine.frame, column, "lower")
        bad_rows.reject(transfers[column].isna() | (transfers[column] == ""), f"empty {column}",
                        lambda label, column=column: f"{column} is empty")
    for column in WHALE_KEPT:
        case = "lower" if column == "transaction_type" else None
        transfers[column] = text(mine.frame, column) if column == "id" else labels(mine.frame, column, case)
    transfers = bad_rows.without(transfers)
    bad_rows.log_skipped("whales")
    # The flat CSV may leave the type out: such a row is read as a plain transfer (counted below).
    untyped = transfers["transaction_type"].isna() | (transfers["transaction_type"] == "")
    if untyped.any():
        transfers["transaction_type"] = transfers["transaction_type"].cat.add_categories(
            ["transfer"] if "transfer" not in transfers["transaction_type"].cat.categories else []).mask(untyped, "transfer")
    with_id = (transfers["id"].notna() & (transfers["id"] != "")).to_numpy(bool)
    seen_id = with_id & transfers["id"].duplicated(keep="first").to_numpy() if with_id.any() else with_id
    transfers = transfers[~seen_id]
    was_sorted = transfers["timestamp"].is_monotonic_increasing
    if not was_sorted:  # stable: records of one second keep their order, so "earlier" below is still the file's
        transfers = transfers.sort_values("timestamp", kind="stable")
    identical = _identical_to_earlier(transfers, mine)
    transfers = transfers[~identical].reset_index(drop=True)
    owner_types = transfers["from_owner_type"].value_counts().add(transfers["to_owner_type"].value_counts(),
                                                                    fill_value=0).astype(int).sort_values(ascending=False)
    owner_types = owner_types[owner_types > 0]  # categories of dropped records count 0
    transaction_types = transfers["transaction_type"].value_counts()
    transaction_types = transaction_types[transaction_types > 0]
    log.info(
        "whales: %d records from %s, %d of other symbols skipped, %d duplicates dropped (%d with an id seen before, "
        "%d identical records without an id), %d without a transaction_type read as 'transfer', "
        "%d %s records kept (%s; types: %s; owner types: %s)",
        len(frame), table.source, int((~ours).sum()), int(seen_id.sum() + identical.sum()), int(seen_id.sum()),
        int(identical.sum()), int(untyped.sum()), len(transfers), currency, "ascending" if was_sorted else "re-sorted",
        ", ".join(f"{name} {count}" for name, count in transaction_types.items()) or "none",
        ", ".join(f"{name} {count}" for name, count in owner_types.items()) or "none",
    )
    return transfers


def _identical_to_earlier(transfers: pd.DataFrame, raw: RawTable) -> np.ndarray:
    """Records without an id equal in every column, the raw hash too, to an earlier one; `transfers` sorted by time.
    Only records sharing a timestamp can be, and only those alike in every kept column need their hash looked up:
    comparing every column of millions of rows would be most of ingest's time."""
    times = transfers["timestamp"].to_numpy(dtype="datetime64[ns]")
    repeated = times[1:] == times[:-1]
    maybe = np.zeros(len(times), bool)
    maybe[1:] |= repeated
    maybe[:-1] |= repeated
    maybe &= (transfers["id"].isna() | (transfers["id"] == "")).to_numpy(bool)
    identical = np.zeros(len(transfers), bool)
    alike = np.flatnonzero(maybe)[transfers[maybe].duplicated(keep=False).to_numpy()] if maybe.any() else []
    if len(alike):
        candidates = transfers.iloc[alike]
        hashes = raw.column("hash")
        if hashes is not None:
            candidates = candidates.assign(hash=hashes.loc[candidates.index].astype("string").str.strip().to_numpy())
        identical[alike] = candidates.duplicated(keep="first").to_numpy()
    return identical


def check_overlap(prices: pd.DataFrame, whales: pd.DataFrame, source: str, warn_share: float) -> None:
    """Warn when at least warn_share of the whale records fall outside the price range: their hours get no
    features, and the whale features of the price hours read "no whales", which then means "no data"."""
    first, last = prices["timestamp"].iloc[0], prices["timestamp"].iloc[-1] + HOUR
    outside = int(((whales["timestamp"] < first) | (whales["timestamp"] > last)).sum())
    if outside and outside >= warn_share * len(whales):
        log.warning("whales: %d of %d whale records of %s fall outside the price range (prices %s .. %s, whales %s .. "
                    "%s; data.warn_whales_outside_prices: %g)", outside, len(whales), source, f"{first:%Y-%m-%d %H:%M}",
                    f"{last:%Y-%m-%d %H:%M}", f"{whales['timestamp'].min():%Y-%m-%d %H:%M}",
                    f"{whales['timestamp'].max():%Y-%m-%d %H:%M}", warn_share)


_RESOLUTION_NAMES = {60: "a whole minute", 3600: "a whole hour", 86400: "a whole day"}


def check_time_resolution(table: pd.DataFrame, source: str, delay: pd.Timedelta, stream: str = "whales") -> None:
    """Refuse timestamps rounded to a minute or more, unless each counts from its stamp + the rounding step (the
    stream's delay: whale_report_delay_seconds, or sources.<name>.delay_seconds of an event source): a rounded
    stamp can put an event in the hour before it happened. `stream` is whales or the name of an event source.

    Rounding is inferred when every timestamp is a multiple of the step; three records make that unlikely
    by chance (1 in 216,000 for whole minutes)."""
    nanoseconds = table["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if len(nanoseconds) < 3 or np.any(nanoseconds % 10**9):
        return
    step = int(np.gcd.reduce(nanoseconds // 10**9))
    if step < 60:
        return
    whales = stream == "whales"
    one, many = ("a transfer", "transfers") if whales else ("an item", "items")
    delay_setting = "whale_report_delay_seconds" if whales else f"sources.{stream}.delay_seconds"
    date_only = step % 86400 == 0
    described = "midnight" if date_only else _RESOLUTION_NAMES.get(step, f"a multiple of {step} s")
    counted = f"{described} ({len(nanoseconds)} records)" + (", likely a date-only export" if date_only else "")
    if delay.total_seconds() < step:
        raise InputError(source, f"every timestamp is {counted}: rounded times can put {one} in the hour "
                                 f"before it happened; if the source is that coarse, set {delay_setting} to at least "
                                 f"{step}")
    if date_only:  # accepted, but a day's events then count only from the next midnight: worth a look
        log.warning("%s: every timestamp is midnight, likely a date-only export; each counts from its stamp + %s "
                    "(%g s), so a day's %s count from the next midnight on", stream, delay_setting,
                    delay.total_seconds(), many)
        return
    log.info("%s: every timestamp is %s; each counts from its stamp + %s (%g s)", stream, described, delay_setting,
             delay.total_seconds())
