"""From the hourly feature table to the model's inputs: labels, scaled rows and window ends, split in time with an
embargo (the sequence stage), read back as Samples by the model stages.

Row T of the feature table is the close time of an hourly bar. Its label is y(T) = 1 when
close(T + h) < close(T) * (1 - min_move): "the price goes down over the next h hours". A sample is the
window of the seq_len consecutive hourly rows ending at T (window_offsets: the one statement of that rule); the
table keeps every row once and marks in `part` which rows end a training, validation or test window, so nothing
grows with seq_len. The table records its seq_len and feature groups, so the stages that read it need neither
again from params.yaml.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from whalecast import paths, storage
from whalecast.errors import InputError
from whalecast.features import feature_groups
from whalecast.hourly import HOUR
from whalecast.modeling.scaling import Scaler, ScalingSettings
from whalecast.settings import at_least, fraction, section, within

log = logging.getLogger(__name__)

PARTS = ("train", "validation", "test")
LABEL, LAST_MOVE_DOWN, PART = "label", "last_move_down", "part"
NOT_FEATURES = (LABEL, LAST_MOVE_DOWN, PART)  # the sequence table's own columns: no feature may take these names
SEQ_LEN_ATTRIBUTE = "seq_len"  # in the sequence table's attrs (kept in its parquet file)


@section(None)
class WindowSettings:
    """params.yaml seq_len: the hours of feature rows the models read to predict the next move."""

    seq_len: int = at_least(1)


@section("target")
class TargetSettings:
    """params.yaml target."""

    horizon_hours: int = at_least(1)
    min_move: float = within(0, 1, why=" (a fraction of the price)", high_excluded=True)


@section("split")
class SplitSettings:
    """params.yaml split: fractions of the hourly rows, in time order."""

    train: float = fraction()
    validation: float = fraction()
    test: float = fraction()

    def __post_init__(self):
        total = self.train + self.validation + self.test
        if abs(total - 1) > 1e-9:
            raise ValueError(f"train + validation + test must sum to 1, got {total:g}")


def window_offsets(seq_len: int) -> np.ndarray:
    """The window rule: the rows of the window ending at row T are T + these offsets, -seq_len + 1, ..., 0."""
    return np.arange(-seq_len + 1, 1, dtype=np.int64)


def label_rows(row_times: pd.Series, prices: pd.DataFrame, target: TargetSettings) -> pd.DataFrame:
    """Label and the previous h-hour move of every row; label is missing where close(T + h) is unknown.

    prices has one row per hourly bar (open time `timestamp`, `close`, `filled`); the bar opening at T - 1h
    closes at T. A filled bar has no trade, so a label whose close(T + h) falls on one is unknown too.
    """
    close_at = closes(prices)
    filled_at = pd.Series(prices["filled"].to_numpy(), index=close_at.index)
    horizon = target.horizon_hours * HOUR
    now = close_at.reindex(row_times).to_numpy()
    later = close_at.reindex(row_times + horizon).to_numpy()
    earlier = close_at.reindex(row_times - horizon).to_numpy()
    later_is_real = ~filled_at.reindex(row_times + horizon).fillna(True).to_numpy(bool)
    threshold = 1 - target.min_move
    label = pd.array(np.where(later < now * threshold, 1, 0), dtype="Int8")
    label[~(later_is_real & ~np.isnan(later))] = pd.NA
    unknown_future = int((~np.isnan(later) & ~later_is_real).sum())
    log.info("label: close(T+%dh) < close(T) * (1 - %g); %d rows at the end have no close(T+h) yet, "
             "%d more fall on a filled (no-trade) bar; all %d are unlabelled",
             target.horizon_hours, target.min_move, int(np.isnan(later).sum()), unknown_future, int(label.isna().sum()))
    return pd.DataFrame({LABEL: label, LAST_MOVE_DOWN: now < earlier * threshold})


def closes(prices: pd.DataFrame) -> pd.Series:
    """close(T) by decision time T: the bar that opens at T - 1h closes at T."""
    return pd.Series(prices["close"].to_numpy(), index=prices["timestamp"] + HOUR)


def usable_window_ends(row_times: pd.Series, labels: pd.Series, seq_len: int) -> np.ndarray:
    """Rows that end a full window of seq_len consecutive hours and have a label."""
    hours = ((row_times - row_times.iloc[0]) // HOUR).to_numpy()
    first_offset = window_offsets(seq_len)[0]
    ends = np.arange(-first_offset, len(hours))
    contiguous = hours[ends] - hours[ends + first_offset] == -first_offset
    labelled = labels.notna().to_numpy()[ends]
    log.info("%d rows end a labelled window of %d consecutive hours (%d windows span a gap, %d rows are "
             "warm-up)", int((contiguous & labelled).sum()), seq_len, int((~contiguous).sum()),
             min(seq_len - 1, len(hours)))
    return ends[contiguous & labelled]


def split_in_time(row_times: pd.Series, ends: np.ndarray, split: SplitSettings, embargo_hours: int,
                  ) -> dict[str, np.ndarray]:
    """Window ends of train, validation and test, in time order, with >= embargo_hours between parts.

    The fractions cut the hourly rows, so the test part is the same whatever seq_len an experiment tries and
    `dvc metrics diff` compares like with like.
    """
    first_validation = int(len(row_times) * split.train)
    first_test = first_validation + int(len(row_times) * split.validation)
    bounds = {"train": (0, first_validation), "validation": (first_validation, first_test),
              "test": (first_test, len(row_times))}
    parts = split_by_rows(row_times, ends, bounds, embargo_hours)
    log.info("split in time: %s; %d windows purged for the %d-hour embargoes",
             ", ".join(f"{name} {len(part)} ({span(row_times, part)})" for name, part in parts.items()),
             len(ends) - sum(map(len, parts.values())), embargo_hours)
    return parts


def split_by_rows(row_times: pd.Series, ends: np.ndarray, bounds: dict[str, tuple[int, int]], embargo_hours: int,
                  ) -> dict[str, np.ndarray]:
    """The window ends in each part's rows [start, stop), parts in time order, the embargo purged.

    The embargo is taken from the end of the earlier part (purging): with embargo = seq_len + h, its last
    label, close(T + h), is older than the first row of any window of the next part, so no window and no
    label crosses a boundary. The main split and every walk-forward fold cut their parts this way.
    """
    hours = ((row_times - row_times.iloc[0]) // HOUR).to_numpy()
    candidates = {name: ends[(ends >= start) & (ends < stop)] for name, (start, stop) in bounds.items()}
    names = list(bounds)
    parts = {}
    for name, next_name in zip(names, (*names[1:], None)):
        part = candidates[name]
        if next_name is not None and len(candidates[next_name]):
            part = part[hours[part] <= hours[candidates[next_name][0]] - embargo_hours]
        if len(part) == 0:
            raise ValueError(f"the {name} part is empty after an embargo of {embargo_hours} hours "
                             f"({len(ends)} usable windows in all): use more data or change the fractions")
        parts[name] = part
    return parts


def utc_hour(time: pd.Timestamp) -> str:
    """A decision time as the metrics files write it, e.g. 2024-07-20T19:00Z."""
    return f"{time:%Y-%m-%dT%H:%MZ}"


def span(row_times: pd.Series, part: np.ndarray) -> str:
    return f"{row_times.iloc[part[0]]:%Y-%m-%d %H:%M} to {row_times.iloc[part[-1]]:%Y-%m-%d %H:%M}"


def check_both_classes(labels: pd.Series, parts: dict[str, np.ndarray], source, fold: str = "") -> None:
    for name, part in parts.items():
        counts = np.bincount(labels.to_numpy()[part].astype(int), minlength=2)
        if counts.min() == 0:
            raise InputError(source, f"the {fold}{name} part has only one class ({counts[0]} up/flat, "
                                     f"{counts[1]} down): a classifier cannot be fit or scored on it "
                                     f"(see also target.min_move and target.horizon_hours)")


def rows_of_windows(n_rows: int, ends: np.ndarray, seq_len: int) -> np.ndarray:
    """Mask of the rows inside at least one of the windows ending at `ends`."""
    starts_minus_ends = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(starts_minus_ends, ends + window_offsets(seq_len)[0], 1)
    np.add.at(starts_minus_ends, ends + 1, -1)
    return np.cumsum(starts_minus_ends[:-1]) > 0


def part_column(n_rows: int, parts: dict[str, np.ndarray]) -> pd.Categorical:
    """Per row: the part whose window ends there, or missing (warm-up, embargo, no label)."""
    codes = np.full(n_rows, -1)
    for code, name in enumerate(PARTS):
        codes[parts[name]] = code
    return pd.Categorical.from_codes(codes, categories=list(PARTS))


@dataclass(frozen=True)
class Samples:
    """The sequence table as arrays: rows of scaled features, the window ends of each part, and the window length
    they were cut for."""

    features: np.ndarray         # (rows, features) float32
    labels: np.ndarray           # (rows,) float32, NaN where unknown
    last_move_down: np.ndarray   # (rows,) bool
    ends: dict[str, np.ndarray]  # part -> row indices where its windows end
    columns: list[str]           # the feature names, in the order of `features`' columns
    groups: dict[str, np.ndarray]  # feature group -> its column indices in `features`
    timestamps: pd.Series        # (rows,) decision times T, UTC
    seq_len: int                 # the hours of rows each window holds

    @classmethod
    def read(cls, source: Path) -> "Samples":
        """A sequence table as the sequence stage wrote it."""
        table = storage.read_parquet(source)
        seq_len = table.attrs.get(SEQ_LEN_ATTRIBUTE)
        if not isinstance(seq_len, int):
            raise InputError(source, "no seq_len recorded in the file: run the sequence stage again (dvc repro)")
        feature_columns = [name for name in table.columns if name not in ("timestamp", *NOT_FEATURES)]
        part = table[PART]
        column_index = {name: index for index, name in enumerate(feature_columns)}
        groups = {group: np.array([column_index[name] for name in columns])
                  for group, columns in feature_groups.read(table, source).items()}
        return cls(features=table[feature_columns].to_numpy(np.float32),
                   labels=table[LABEL].astype("float32").to_numpy(np.float32, na_value=np.nan),
                   last_move_down=table[LAST_MOVE_DOWN].to_numpy(bool),
                   ends={name: np.flatnonzero((part == name).to_numpy()) for name in PARTS},
                   columns=feature_columns, groups=groups, timestamps=table["timestamp"], seq_len=seq_len)

    def labels_of(self, part: str) -> np.ndarray:
        return self.labels[self.ends[part]].astype(int)

    def window_rows(self, part: str) -> np.ndarray:
        """(windows, seq_len) row indices of a part's windows, in time order."""
        return self.ends[part][:, None] + window_offsets(self.seq_len)

    def windows(self, part: str) -> np.ndarray:
        """The windows of a part as one (windows, seq_len, features) array, e.g. to permute feature groups."""
        return self.features[self.window_rows(part)]


def check_feature_table(table: pd.DataFrame, source) -> None:
    """A feature table the sequence stage can read: a timestamp, no name the sequence table keeps for itself, no
    missing value."""
    if "timestamp" not in table or len(table) == 0:
        raise InputError(source, "needs a timestamp column and at least one row")
    taken = [name for name in NOT_FEATURES if name in table]
    if taken:
        raise InputError(source, f"a feature is named '{taken[0]}', a name the sequence table keeps for itself: "
                                 f"rename it in params.yaml features")
    nan_columns = table.columns[table.isna().any()]
    if len(nan_columns):
        first = table.loc[table[nan_columns[0]].isna(), "timestamp"].iloc[0]
        raise InputError(source, f"column {nan_columns[0]} has missing values (first at {first:%Y-%m-%d %H:%M} UTC); "
                                 f"featurize must not leave NaNs")


def model_columns(table: pd.DataFrame, switches, source) -> tuple[dict[str, list[str]], list[str]]:
    """The feature groups params.yaml feature_groups switches on, and their columns in the table's order: the
    model's inputs, as the sequence stage and whalecast-predict both select them."""
    enabled = feature_groups.select(feature_groups.read(table, source), switches, source)
    return enabled, feature_groups.columns(table.columns, enabled)


@dataclass(frozen=True)
class SequenceTable:
    table: pd.DataFrame  # row-aligned with the feature table: timestamp, scaled features, label, last_move_down, part
    scaler: Scaler       # fit on the rows of training windows only


def sequence_table(features: pd.DataFrame, prices: pd.DataFrame, window: WindowSettings, target: TargetSettings,
                   split: SplitSettings, scaling: ScalingSettings, switches, features_source,
                   prices_source) -> SequenceTable:
    """The sequence stage: label every row, cut the window ends into the embargoed parts, fit the scaler on the rows
    of training windows and scale every row. The sources name the two tables in messages."""
    check_feature_table(features, features_source)
    enabled, columns = model_columns(features, switches, features_source)
    seq_len = window.seq_len
    training_hours = int(len(features) * split.train)
    if seq_len > training_hours:
        raise InputError(paths.PARAMS, f"seq_len={seq_len} is longer than the training part "
                                       f"({training_hours} of {len(features)} hours)")
    labels = label_rows(features["timestamp"], prices, target)
    ends = usable_window_ends(features["timestamp"], labels[LABEL], seq_len)
    try:
        parts = split_in_time(features["timestamp"], ends, split, seq_len + target.horizon_hours)
    except ValueError as error:
        raise InputError(paths.PARAMS, f"split: {error}") from None
    check_both_classes(labels[LABEL], parts, prices_source)
    training_rows = rows_of_windows(len(features), parts["train"], seq_len)
    scaler = Scaler.fit(features.loc[training_rows], columns, scaling)
    table = pd.concat([features[["timestamp"]], pd.DataFrame(scaler.transform(features), columns=columns), labels],
                      axis=1)
    table[PART] = part_column(len(features), parts)
    feature_groups.record(table, enabled)
    table.attrs[SEQ_LEN_ATTRIBUTE] = seq_len
    return SequenceTable(table, scaler)
