"""Hourly rolling summaries of events that arrive at irregular times: whale transfers, news items, ...

An event counts at decision time T from the moment it became known, its timestamp t plus the source's
publication delay d. A window of w hours at T covers the events with T - w h < t + d <= T. Each event is put
in the hour bucket (T - 1 h, T] it becomes known in once; every window is then an online rolling summary of
consecutive buckets, so the cost is O(events + hours * window) at most and no Python loop runs per event.

Empty windows: count, sum and decayed_sum are 0; mean, max, min and weighted_mean take the spec's fill value;
hours_since is the window length (no event in the last w hours reads as "w hours or more").
"""

import numpy as np
import pandas as pd

from whalecast.hourly import HOUR

HOUR_NS = HOUR.value
AGGS = ("count", "sum", "mean", "max", "min", "hours_since", "decayed_sum", "weighted_mean")
# The aggregations that read a value column; count and hours_since only need the times.
VALUE_AGGS = ("sum", "mean", "max", "min", "decayed_sum", "weighted_mean")
# The aggregations that add signed values (a selection weight of -1 subtracts an event, e.g. net inflow).
SIGNED_AGGS = ("sum", "decayed_sum")
# The aggregations whose empty window takes the spec's fill value.
FILLED_AGGS = ("mean", "max", "min", "weighted_mean")


class EventBuckets:
    """Events grouped into the hour buckets (T - 1 h, T] of consecutive decision times T."""

    def __init__(self, known_at_ns: np.ndarray, first_decision_ns: int, hours: int):
        bucket = -((first_decision_ns - known_at_ns) // HOUR_NS)  # ceil: an event known exactly at T is in T's bucket
        self.in_range = (bucket >= 0) & (bucket < hours)
        self.in_range_count = int(self.in_range.sum())
        self.out_of_range_count = int(len(bucket) - self.in_range_count)
        self.hours = hours
        self.bucket = bucket[self.in_range]
        self.known_at_ns = known_at_ns[self.in_range]
        self.decision_ns = first_decision_ns + np.arange(hours, dtype=np.int64) * HOUR_NS

    def select(self, values) -> np.ndarray:
        """The part of a per-event array (or Series) that falls in the buckets."""
        return np.asarray(values)[self.in_range]

    def total(self, weighted_values: np.ndarray) -> np.ndarray:
        return np.bincount(self.bucket, weights=weighted_values, minlength=self.hours)

    def count(self, selected: np.ndarray) -> np.ndarray:
        return self.total(selected.astype(float))

    def extreme(self, values: np.ndarray, selected: np.ndarray, how: str) -> np.ndarray:
        """Per-bucket max or min of the selected events; NaN in a bucket without one."""
        result = np.full(self.hours, np.nan)
        # fmax / fmin skip the NaN of a bucket not yet written (pandas' rolling windows read +-inf as NaN too).
        (np.fmax if how == "max" else np.fmin).at(result, self.bucket[selected], values[selected])
        return result

    def hours_since_latest(self, selected: np.ndarray) -> np.ndarray:
        """At each decision time, hours since the newest selected event known by then; inf before the first."""
        newest_ns = np.full(self.hours, np.iinfo(np.int64).min)
        np.maximum.at(newest_ns, self.bucket[selected], self.known_at_ns[selected])
        newest_ns = np.maximum.accumulate(newest_ns)
        since = (self.decision_ns - newest_ns) / HOUR_NS
        return np.where(newest_ns == np.iinfo(np.int64).min, np.inf, since)

    def decayed(self, weighted_values: np.ndarray, half_life_hours: float) -> np.ndarray:
        """Per bucket, the events' values decayed to the bucket's decision time."""
        age_hours = (self.decision_ns[self.bucket] - self.known_at_ns) / HOUR_NS
        return self.total(weighted_values * 0.5 ** (age_hours / half_life_hours))


class Selection:
    """The events a weight selects (non-zero), signed for sums (e.g. +1 inflow, -1 outflow), with per-bucket
    counts and value sums computed once: the specs of one selection and value column share them."""

    def __init__(self, buckets: EventBuckets, weight: np.ndarray):
        self.buckets, self.weight = buckets, weight
        self.selected = weight != 0
        self._counts: np.ndarray | None = None
        self._sums: dict[str, np.ndarray] = {}

    def counts(self) -> np.ndarray:
        if self._counts is None:
            self._counts = self.buckets.count(self.selected)
        return self._counts

    def sums(self, column: str, values: np.ndarray) -> np.ndarray:
        """Per bucket, the signed sum of the events' values of `column`."""
        if column not in self._sums:
            self._sums[column] = self.buckets.total(self.weight * values)
        return self._sums[column]


def aggregate(selection: Selection, agg: str, window: int, values: np.ndarray | None = None, column: str = "",
              fill: float = 0.0, half_life_hours: float | None = None, weights: np.ndarray | None = None
              ) -> np.ndarray:
    """agg over each window of `window` buckets; NaN until the first full window.

    values (of `column`) and weights are per in-range event; weights are weighted_mean's weights (e.g. votes).
    """
    buckets, weight, selected = selection.buckets, selection.weight, selection.selected
    counts = rolling(selection.counts(), window, "sum")
    if agg == "count":
        return counts
    empty = counts == 0
    if agg == "hours_since":
        # An event in the window is less than `window` hours old; none in it reads as `window`.
        return np.where(np.isnan(counts), np.nan, np.minimum(buckets.hours_since_latest(selected), window))
    if agg in ("max", "min"):
        extreme = pd.Series(buckets.extreme(values, selected, agg)).rolling(window, min_periods=1).agg(agg)
        return np.where(np.isnan(counts), np.nan, np.where(empty, fill, extreme.to_numpy()))
    if agg == "decayed_sum":
        decay = 0.5 ** (np.arange(window) / half_life_hours)
        per_bucket = buckets.decayed(weight * values, half_life_hours)
        # Lag by lag, not np.convolve: that sums with the BLAS dot product, whose kernel (so its order of adding,
        # and rounding) the BLAS picks by the CPU. Elementwise products and sums round alike on every machine.
        decayed = np.zeros(buckets.hours)
        for lag, factor in enumerate(decay):
            decayed[lag:] += factor * per_bucket[:buckets.hours - lag]
        return _nan_warmup(decayed, window)
    # A running sum leaves float dust where all events have left the window; counts are exact.
    if agg == "weighted_mean":
        # Events of weight 0 (an item nobody voted on) count as absent: a window of only those takes the fill.
        weighted_events = rolling(buckets.count(selected & (weights != 0)), window, "sum")
        weight_sums = np.where(weighted_events == 0, 0.0, rolling(buckets.total(selected * weights), window, "sum"))
        weighted = rolling(buckets.total(selected * weights * values), window, "sum")
        return np.divide(weighted, weight_sums, out=np.full(buckets.hours, float(fill)), where=weight_sums != 0)
    sums = np.where(empty, 0.0, rolling(selection.sums(column, values), window, "sum"))
    if agg == "sum":
        return sums
    return np.divide(sums, counts, out=np.full(buckets.hours, float(fill)), where=~empty)  # mean


def _nan_warmup(values: np.ndarray, window: int) -> np.ndarray:
    values[:window - 1] = np.nan
    return values


def rolling(values: np.ndarray, window: int, agg: str) -> np.ndarray:
    """agg over each run of `window` consecutive hourly values; NaN until the first full window.

    pandas' rolling windows are online (compensated running sums, Welford variance, monotonic-deque
    max), so the cost is O(hours) whatever the window length.
    """
    windows = pd.Series(values).rolling(window, min_periods=window)
    if agg != "std":
        return getattr(windows, agg)().to_numpy()
    # The online variance keeps rounding from values that have left the window (about 1e-7 after a spike,
    # over flat filled bars); a window of equal values has a standard deviation of exactly 0.
    return windows.std(ddof=1).mask(windows.max() == windows.min(), 0.0).to_numpy()
