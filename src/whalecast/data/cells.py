"""The column-typing toolkit every stream's cleaning shares: a raw table's cells as numbers, UTC times, text and
labels, and the rows that fail a check, named (an error) or dropped and counted (data.bad_rows: skip).

Every check raises InputError naming the source, the row (see whalecast.data.raw_files) and the problem.
"""

import logging
import zoneinfo
from collections.abc import Callable

import numpy as np
import pandas as pd

from whalecast.data.raw_files import RawTable
from whalecast.errors import InputError

log = logging.getLogger(__name__)

# Epoch numbers are told apart by size: seconds stay below 1e11 until the year 5138, milliseconds reach
# 1e11 in 1973 and microseconds reach 1e14 in 1973, so any date after 1973 is unambiguous.
_EPOCH_UNITS_NS = [(1e11, 10**9), (1e14, 10**6), (1e17, 10**3)]
_EARLIEST, _LATEST = pd.Timestamp("1970-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC")
_LATEST_EPOCH_SECONDS = _LATEST.timestamp()
# Spreadsheets count days from 1899-12-30: 20000..80000 is 1954..2119, and as epoch seconds it would be 1 January 1970.
_EXCEL_EPOCH, _EXCEL_SERIAL_DAYS = pd.Timestamp("1899-12-30"), (20_000, 80_000)
# A zone name after the time ("2024-03-01 13:00:00 Europe/Berlin"), and any zone or offset at all.
_ZONE_NAME = r"^(?P<local>.*\d)\s+(?P<zone>[A-Za-z][A-Za-z_]*(?:/[A-Za-z0-9_+\-]+)*)$"


def require_columns(table: RawTable, required: list[str]) -> None:
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise InputError(table.source, f"missing required column '{missing[0]}' (have: {', '.join(table.columns)})")


def first_label(mask: pd.Series):
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
        first = first_label(bad)
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
