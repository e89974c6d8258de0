"""Every feature the specs allow, against an independent, deliberately naive reference.

feature_table.build_feature_table puts each whale transfer into an hour bucket once and then runs online
rolling windows over hourly values (fast, and easy to get subtly wrong at an edge). The reference below
is written straight from the definition in docs/features.md ("semantics") instead: for every decision
time T it loops over every event and every bar, compares timestamps directly and aggregates with exact
arithmetic (math.fsum, statistics.stdev). No buckets, no pandas rolling.

- A feature row T is the close time of an hourly bar (its open time + 1 h).
- A whale window of w hours at T covers events with T - w h < timestamp + report_delay <= T; a news window
  likewise with the news source's delay.
- A price window of w hours at T holds the w bars that closed in (T - w h, T].
- Empty whale windows give 0 for count, sum and decayed_sum, the spec's fill for mean, max, min and weighted
  mean, the window length for hours_since; rows whose longest window reaches before the data are dropped.

The specs are generated from the module's own option lists (WHALE_FILTERS, WHALE_AGGS, ...), so a new
option is compared automatically; the reference has no entry for an option it does not know, and fails
loudly (KeyError) until someone writes down what the option means.
"""

import math
import statistics
from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import REPO, clean_events, clean_market, news_settings, small_market
from whalecast import settings
from whalecast.data import event_sources, news_items, price_bars, whale_transfers
from whalecast.features import feature_specs, feature_table
from whalecast.errors import InputError
from whalecast.data.raw_files import RawTable

HOUR = pd.Timedelta(hours=1)
SECOND = pd.Timedelta(seconds=1)
START = pd.Timestamp("2024-03-01 00:00", tz="UTC")

# Why a tolerance at all: production sums in a different order (a per-hour bincount, then a compensated
# running sum that adds each hour as it enters the window and subtracts it as it leaves), computes log returns
# as log(close) - log(previous close) and variances with an online (Welford) update; the reference sums
# exactly (math.fsum, statistics.stdev) and takes log(close / previous close). The rounding error of the
# production side is a few ulps of the magnitudes its running accumulators have held (values that have left
# the window included), not of the result: hypothesis found a $1e-78 transfer that reads 0 once a $5e5 one has
# passed through the window. So the absolute part of the tolerance is ABS_TOLERANCE times that magnitude
# (Reference: `scale`), which is 0 for counts, maxima, minima and empty windows: those must match exactly.
# std is compared as a variance (squared), where that rounding lives: near 0 the square root magnifies it
# (pandas' rolling std of a window of equal values after a large one has left reads ~1e-7; production maps
# windows of equal values to exactly 0, see test_std_is_exactly_0_over_flat_filled_bars_after_a_volume_spike,
# but nearly equal values keep that error).
REL_TOLERANCE = 1e-9
ABS_TOLERANCE = 1e-9
# Below 2.2e-308 floats are subnormal and every product rounds to a multiple of 4.9e-324: the decayed sum
# multiplies twice where the reference multiplies once (hypothesis found a 2e-311 transfer decaying to 5e-324
# against the reference's 0). A few such steps, far below any count's or price's resolution.
SUBNORMAL_SLACK = 4 * np.finfo(float).smallest_subnormal

WHALE_WINDOWS = (1, 2, 5)
PRICE_WINDOWS = (1, 3, 7)
# None: the spec leaves transaction_type out, which means "transfer".
TRANSACTION_TYPES = (None, "any", "mint")
# The options of the aggregations that read one: a fill that is not the default 0, a half-life shorter than
# the windows, so that the decay shows.
EVENT_OPTIONS = {"mean": {"fill": -1.5}, "max": {"fill": -1.5}, "min": {"fill": -1.5}, "weighted_mean": {"fill": -1.5},
                 "decayed_sum": {"half_life": 1.5}}
TYPES_IN_DATA = ("transfer", "mint", "burn")
OWNER_TYPES = ("exchange", "unknown", "wallet")


# --- the specs: every combination the parser allows ---------------------------------------------------------


def whale_spec_combinations():
    """(accepted, refused) raw whale specs: filter x agg x column x transaction_type x window, with the options
    each aggregation reads (a fill other than the default 0, a half-life, the other column as the weight)."""
    accepted, refused = [], []
    for event_filter, agg, transaction_type, window in product(
            feature_specs.WHALE_FILTERS, feature_specs.WHALE_AGGS, TRANSACTION_TYPES, WHALE_WINDOWS):
        for column in [None] if agg in ("count", "hours_since") else feature_specs.WHALE_VALUE_COLUMNS:
            raw = {"source": "whales", "filter": event_filter, "agg": agg, "window": window}
            if column is not None:
                raw["column"] = column
            if transaction_type is not None:
                raw["transaction_type"] = transaction_type
            raw.update(EVENT_OPTIONS.get(agg, {}))
            if agg == "weighted_mean":
                raw["weight"] = next(other for other in feature_specs.WHALE_VALUE_COLUMNS if other != column)
            # docs/features.md: net_inflow (inflow minus outflow) is `sum` and `decayed_sum` only
            (refused if event_filter == "net_inflow" and agg not in ("sum", "decayed_sum") else accepted).append(raw)
    return accepted, refused


def news_spec_combinations():
    """Raw news specs: filter x agg x column x window, with the options each aggregation reads."""
    accepted = []
    for event_filter, agg, window in product(event_sources.FILTERS, feature_specs.WHALE_AGGS, WHALE_WINDOWS):
        for column in [None] if agg in ("count", "hours_since") else event_sources.VALUE_COLUMNS:
            raw = {"source": "news", "filter": event_filter, "agg": agg, "window": window, **EVENT_OPTIONS.get(agg, {})}
            if column is not None:
                raw["column"] = column
            if agg == "weighted_mean":
                raw["weight"] = "votes"
            accepted.append(raw)
    return accepted


def price_spec_combinations():
    """(accepted, refused) raw price specs: agg x column x window; std needs 2 bars, so 1 becomes 2 for it."""
    accepted, refused = [], []
    for agg, column, window in product(feature_specs.PRICE_AGGS, feature_specs.PRICE_SERIES_LAG, PRICE_WINDOWS):
        raw = {"source": "prices", "agg": agg, "column": column, "window": window}
        if agg == "std" and window < 2:  # docs/features.md: std (ddof 1) needs a window >= 2
            refused.append(raw)
            raw = {**raw, "window": 2}
        accepted.append(raw)
    return accepted, refused


WHALE_SPECS, REFUSED_WHALE_SPECS = whale_spec_combinations()
NEWS_SPECS = news_spec_combinations()
PRICE_SPECS, REFUSED_PRICE_SPECS = price_spec_combinations()


def price_specs_of(column):
    return [raw for raw in PRICE_SPECS if raw["column"] == column]


def default_specs():
    return settings.read(REPO / "params.yaml")["features"]


# --- the reference -----------------------------------------------------------------------------------------


def is_inflow(event):
    return event["to_owner_type"] == "exchange" and event["from_owner_type"] != "exchange"


def is_outflow(event):
    return event["from_owner_type"] == "exchange" and event["to_owner_type"] != "exchange"


# How much an event counts under each filter: 1 in, 0 out, -1 subtracted (net_inflow's outflows).
WHALE_FILTER_SIGN = {
    "all": lambda event: 1,
    "inflow": lambda event: int(is_inflow(event)),
    "outflow": lambda event: int(is_outflow(event)),
    "exchange_to_exchange": lambda event: int(event["from_owner_type"] == "exchange"
                                              and event["to_owner_type"] == "exchange"),
    "net_inflow": lambda event: int(is_inflow(event)) - int(is_outflow(event)),
}
NEWS_FILTER_SIGN = {
    "all": lambda item: 1,
    "tagged": lambda item: int(item["tagged"]),
    "market_wide": lambda item: int(not item["tagged"]),
}
# Over the (signed) values of the selected events in the window, each event known `age` hours before T and
# with its weight; `raw` is the spec (its fill, half_life, window).
WHALE_AGGREGATIONS = {
    "sum": lambda values, ages, weights, raw: math.fsum(values),
    "count": lambda values, ages, weights, raw: len(values),
    "max": lambda values, ages, weights, raw: max(values, default=raw.get("fill", 0.0)),
    "min": lambda values, ages, weights, raw: min(values, default=raw.get("fill", 0.0)),
    "mean": lambda values, ages, weights, raw: (math.fsum(values) / len(values) if values
                                                 else raw.get("fill", 0.0)),
    "hours_since": lambda values, ages, weights, raw: min(ages, default=raw["window"]),
    "decayed_sum": lambda values, ages, weights, raw: math.fsum(
        value * 0.5 ** (age / raw["half_life"]) for value, age in zip(values, ages)),
    "weighted_mean": lambda values, ages, weights, raw: (
        math.fsum(value * weight for value, weight in zip(values, weights)) / math.fsum(weights)
        if math.fsum(weights) != 0 else raw.get("fill", 0.0)),
}
# Each hourly series from a bar and the bar before it (None: the series needs that earlier bar).
PRICE_SERIES = {
    "log_return": lambda bar, before: None if before is None else math.log(bar["close"] / before["close"]),
    "log_volume_change": lambda bar, before: (
        None if before is None else math.log1p(bar["volume"]) - math.log1p(before["volume"])),
    "high_low_range": lambda bar, before: math.log(bar["high"] / bar["low"]),
    "filled": lambda bar, before: float(bar["filled"]),
}
# Production takes log returns as log(close) - log(previous close): a few ulps of those logs off the
# reference's log(close / previous close). The other series it computes by the reference's formula.
PRICE_SERIES_ROUNDING = {
    "log_return": lambda bar, before: abs(math.log(bar["close"])) + abs(math.log(before["close"])),
    "log_volume_change": lambda bar, before: 0.0,
    "high_low_range": lambda bar, before: 0.0,
    "filled": lambda bar, before: 0.0,
}
PRICE_AGGREGATIONS = {
    "sum": math.fsum,
    "mean": lambda values: math.fsum(values) / len(values),
    "std": statistics.stdev,  # ddof 1, computed exactly
    "min": min,
    "max": max,
}
# Aggregations by a running accumulator (the others pick one of the window's values).
ACCUMULATED = {"sum", "mean", "std"}


class Reference:
    """The features at decision time T by loops over every event and bar: slow, and obviously right."""

    def __init__(self, prices: pd.DataFrame, whales: pd.DataFrame, report_delay_seconds=0, items=None,
                 news_delay_seconds=0):
        self.bars = prices.to_dict("records")
        self.bar_opening_at = {bar["timestamp"]: bar for bar in self.bars}
        self.first_open = min(bar["timestamp"] for bar in self.bars)
        delay, news_delay = pd.Timedelta(seconds=report_delay_seconds), pd.Timedelta(seconds=news_delay_seconds)
        self.events = {
            "whales": [{**event, "known": event["timestamp"] + delay} for event in whales.to_dict("records")],
            "news": [] if items is None else [{**item, "known": item["timestamp"] + news_delay}
                                              for item in items.to_dict("records")],
        }
        self._in_window = {}  # (source, T, w) -> events known in (T - w h, T]: the same loop for many specs
        self._series, self._held = {}, {}

    def decision_times(self):
        return [bar["timestamp"] + HOUR for bar in self.bars]

    def events_known_in_window(self, source, decision_time, window):
        key = (source, decision_time, window)
        if key not in self._in_window:
            start = decision_time - window * HOUR
            self._in_window[key] = [event for event in self.events[source] if start < event["known"] <= decision_time]
        return self._in_window[key]

    def feature(self, raw, decision_time):
        """(value, scale) of one raw spec at T, or None where its window reaches before the first bar."""
        if raw["source"] == "prices":
            return self.price_feature(raw, decision_time)
        return self.event_feature(raw, decision_time)

    def event_feature(self, raw, decision_time):
        window, agg, source = raw["window"], raw["agg"], raw["source"]
        if decision_time - window * HOUR < self.first_open:
            return None  # warm-up: part of the window lies before the data
        sign_of = (WHALE_FILTER_SIGN if source == "whales" else NEWS_FILTER_SIGN)[raw.get("filter", "all")]
        wanted_type = raw.get("transaction_type", "transfer").strip().lower() if source == "whales" else "any"
        values, ages, weights = [], [], []
        for event in self.events_known_in_window(source, decision_time, window):
            if wanted_type != "any" and event["transaction_type"] != wanted_type:
                continue
            sign = sign_of(event)
            if sign != 0:
                values.append(sign * event[raw["column"]] if "column" in raw else sign)
                ages.append((decision_time - event["known"]) / HOUR)
                weights.append(event[raw["weight"]] if "weight" in raw else 1.0)
        value = WHALE_AGGREGATIONS[agg](values, ages, weights, raw)
        if agg in ("count", "max", "min", "hours_since") or not values or not any(weights):
            return value, 0.0  # exact: a count, one of the events' values or ages, or an empty window's value
        if agg == "decayed_sum":  # summed in the window only, each term a few ulps off the reference's
            return value, math.fsum(abs(term) for term in values)
        # A running sum has held every earlier value, not only this window's: at most all events' so far.
        held = self.held(source, raw["column"], decision_time)
        if agg == "weighted_mean":  # two running sums, of weight x value and of weights, then their ratio
            weight_sum = math.fsum(weights)
            return value, self.held(source, raw["weight"], decision_time) * (held + abs(value)) / weight_sum
        return value, held if agg == "sum" else held / len(values)

    def held(self, source, column, decision_time):
        """The total size of all events of the source known after the first bar opened and by T."""
        key = (source, column, decision_time)
        if key not in self._held:
            since_start = self.events_known_in_window(source, decision_time,
                                                      (decision_time - self.first_open) // HOUR)
            self._held[key] = math.fsum(abs(event[column]) for event in since_start)
        return self._held[key]

    def price_feature(self, raw, decision_time):
        window, column, agg = raw["window"], raw["column"], raw["agg"]
        start = decision_time - window * HOUR
        window_rows = [(value, rounding) for closes, value, rounding in self.series(column)
                       if start < closes <= decision_time]
        values = [value for value, _ in window_rows]
        if len(values) < window or None in values:
            return None  # warm-up: a bar of the window, or the bar one of them needs, is not in the data
        value = PRICE_AGGREGATIONS[agg](values)
        if agg not in ACCUMULATED:
            return value, max(rounding for _, rounding in window_rows)
        # The online accumulators have held every value since the start, not only this window's.
        return value, max(abs(value) + rounding for closes, value, rounding in self.series(column)
                          if closes <= decision_time and value is not None)

    def series(self, column):
        """[(close time, value, rounding)] of one hourly series, bar by bar (computed once per column)."""
        if column not in self._series:
            rows = []
            for bar in self.bars:
                before = self.bar_opening_at.get(bar["timestamp"] - HOUR)
                value = PRICE_SERIES[column](bar, before)
                rounding = None if value is None else PRICE_SERIES_ROUNDING[column](bar, before)
                rows.append((bar["timestamp"] + HOUR, value, rounding))
            self._series[column] = rows
        return self._series[column]

    def table(self, raw_specs, names):
        """Decision times where every spec has a complete window, values and scales as {name: [...]}."""
        times, values, scales = [], {name: [] for name in names}, {name: [] for name in names}
        for decision_time in self.decision_times():
            row = [self.feature(raw, decision_time) for raw in raw_specs]
            if any(cell is None for cell in row):
                continue
            times.append(decision_time)
            for name, (value, scale) in zip(names, row):
                values[name].append(value)
                scales[name].append(scale)
        return times, values, scales


def assert_matches_reference(prices, whales, raw_specs, report_delay_seconds=0, items=None, news_delay_seconds=0):
    """build_feature_table on raw_specs equals the reference, row for row and column for column."""
    specs = feature_specs.parse_specs(raw_specs, event_sources=["news"])
    names = [spec.name for spec in specs]
    actual = feature_table.build_feature_table(prices, whales, specs,
                                          report_delay=pd.Timedelta(seconds=report_delay_seconds),
                                          events_table=items,
                                          event_delays={"news": pd.Timedelta(seconds=news_delay_seconds)})
    times, expected, scales = Reference(prices, whales, report_delay_seconds, items,
                                        news_delay_seconds).table(raw_specs, names)
    assert times, "no complete row: the data is too short for the test to say anything"
    assert actual["timestamp"].tolist() == times
    assert actual.columns.tolist() == ["timestamp", *names]
    mismatches = []
    table = actual[names].to_numpy(dtype=float)  # once: each column taken alone copies the table's attrs
    for index, (raw, name) in enumerate(zip(raw_specs, names)):
        got, want = table[:, index], np.array(expected[name], dtype=float)
        scale = np.array(scales[name], dtype=float)
        if raw["agg"] == "std":
            got, want, scale = got**2, want**2, scale**2
        allowed = REL_TOLERANCE * np.abs(want) + ABS_TOLERANCE * scale + SUBNORMAL_SLACK
        for row in np.flatnonzero(~(np.abs(got - want) <= allowed)):  # NaN counts as a mismatch
            mismatches.append(f"{name} at {times[row]}: got {got[row]!r}, reference {want[row]!r}")
    assert not mismatches, f"{len(mismatches)} values differ, e.g.\n" + "\n".join(mismatches[:8])


# --- hand-made data with events on every window edge ------------------------------------------------------

EDGE_HOURS = 48
# Decision times (whole hours after START) with events on them and one second either side. Every whole hour
# is both some row's T and some other row's T - w h, so these are the edges of every window: both ends.
EDGE_EVENT_HOURS = (0, 1, 2, 3, 5, 8, 9, 13, 14, 20, 26, 27, 31, 40, 47, 48)
# Owner pairs by the flow they make; 16 slots (one per edge hour) cover every flow x type and every pair.
FLOWS = {
    "inflow": [("unknown", "exchange"), ("wallet", "exchange")],
    "outflow": [("exchange", "unknown"), ("exchange", "wallet")],
    "exchange_to_exchange": [("exchange", "exchange")],
    "neither": [("unknown", "unknown"), ("unknown", "wallet"), ("wallet", "unknown"), ("wallet", "wallet")],
}
MISSING_HOURS = (6, 7, 11, 30)  # bars an exchange did not deliver: ingest fills them flat, volume 0


def flow_of(source, target):
    return next(flow for flow, pairs in FLOWS.items() if (source, target) in pairs)


def edge_prices():
    """EDGE_HOURS hourly bars through ingest, some hours missing, one real bar with zero volume."""
    rng = np.random.default_rng(5)
    rows, close = [], 2_000.0
    for hour in range(EDGE_HOURS):
        open_ = close * math.exp(rng.normal(0, 0.002))  # not the previous close: open and close differ
        close = open_ * math.exp(rng.normal(0, 0.01))
        high = max(open_, close) * math.exp(rng.uniform(0, 0.01))
        low = min(open_, close) * math.exp(-rng.uniform(0, 0.01))
        volume = 0.0 if hour == 17 else float(rng.uniform(10, 5_000))
        if hour not in MISSING_HOURS:
            rows.append({"timestamp": (START + hour * HOUR).isoformat(), "open": open_, "high": high, "low": low,
                         "close": close, "volume": volume})
    prices = price_bars.clean_prices(RawTable(pd.DataFrame(rows), "edge prices"), max_gap_hours=72)
    assert prices["filled"].sum() == len(MISSING_HOURS) and (prices["volume"] == 0).sum() == len(MISSING_HOURS) + 1
    return prices


def edge_whales(report_delay_seconds):
    """Events known exactly on whole hours and one second either side, mixed owners and types, through ingest."""
    delay = pd.Timedelta(seconds=report_delay_seconds)
    rows = []
    for index, (hour, offset) in enumerate(product(EDGE_EVENT_HOURS, (-1, 0, 1))):
        slot = (index // 3 + 5 * (offset + 1)) % len(EDGE_EVENT_HOURS)  # rotated, so each offset gets its own mix
        pairs = FLOWS[list(FLOWS)[slot % len(FLOWS)]]
        source, target = pairs[(slot // len(FLOWS)) % len(pairs)]
        rows.append({
            "timestamp": (START + hour * HOUR + offset * SECOND - delay).isoformat(), "symbol": "btc",
            # distinct sizes, and amount not proportional to amount_usd, so a mixed-up column shows
            "amount_usd": 1_000_000.0 + 37_000.0 * index, "amount": 10.0 + (index * 7) % 13,
            "from_owner_type": source, "to_owner_type": target,
            "transaction_type": TYPES_IN_DATA[(slot // len(FLOWS)) % len(TYPES_IN_DATA)],
        })
    rows += [  # known before the first bar opened, and after the last row: in no window at all
        {"timestamp": (START - 3 * HOUR - delay).isoformat(), "symbol": "BTC", "amount_usd": 5e6, "amount": 99.0,
         "from_owner_type": "unknown", "to_owner_type": "exchange", "transaction_type": "transfer"},
        {"timestamp": (START + (EDGE_HOURS + 2) * HOUR - delay).isoformat(), "symbol": "BTC", "amount_usd": 6e6,
         "amount": 98.0, "from_owner_type": "exchange", "to_owner_type": "unknown", "transaction_type": "transfer"},
    ]
    whales = whale_transfers.clean_whales(RawTable(pd.DataFrame(rows), "edge whales"), "BTC")
    return whales[feature_table.WHALE_INPUT_COLUMNS]


def edge_news(news_delay_seconds):
    """News items known exactly on whole hours and one second either side, tagged BTC or market-wide, with and
    without votes, through ingest's cleaning."""
    delay = pd.Timedelta(seconds=news_delay_seconds)
    rows = []
    for index, (hour, offset) in enumerate(product(EDGE_EVENT_HOURS, (-1, 0, 1))):
        positive, negative = (index * 5) % 4, (index * 3) % 3  # some items without any vote
        rows.append({
            "timestamp": (START + hour * HOUR + offset * SECOND - delay).isoformat(), "title": f"headline {index}",
            "currencies": "BTC" if (index + offset) % 2 else "", "sentiment": str(round(math.sin(index * 1.7), 4)),
            "positive": str(positive), "negative": str(negative), "id": str(index), "publisher": "edge"})
    rows += [  # known before the first bar opened, and after the last row: in no window at all
        {"timestamp": (START - 3 * HOUR - delay).isoformat(), "title": "early", "currencies": "BTC",
         "sentiment": "0.9", "positive": "4", "negative": "0", "id": "early", "publisher": "edge"},
        {"timestamp": (START + (EDGE_HOURS + 2) * HOUR - delay).isoformat(), "title": "late", "currencies": "",
         "sentiment": "-0.9", "positive": "0", "negative": "4", "id": "late", "publisher": "edge"},
    ]
    return news_items.clean_news(RawTable(pd.DataFrame(rows), "edge news"), "BTC", "news", news_settings())


def test_edge_data_has_every_flow_type_and_owner_pair_on_and_beside_the_hour():
    # The edge tests below are only as good as this data: each flow of each transaction type, and each owner
    # pair, sits on a whole hour (an edge) and one second either side of one.
    whales = edge_whales(0)
    offset = (whales["timestamp"] - whales["timestamp"].dt.floor("h") + SECOND) % HOUR - SECOND
    for seconds in (-1, 0, 1):
        beside = whales[offset == seconds * SECOND]
        pairs = list(zip(beside["from_owner_type"].astype(str), beside["to_owner_type"].astype(str)))
        assert set(pairs) == {pair for flow_pairs in FLOWS.values() for pair in flow_pairs}, seconds
        assert {(flow_of(*pair), kind) for pair, kind in zip(pairs, beside["transaction_type"])} == set(
            product(FLOWS, TYPES_IN_DATA)), seconds


def test_the_reference_agrees_with_values_worked_out_by_hand():
    # Guards the reference itself: three events and three bars, the answers worked out on paper.
    prices = pd.DataFrame({
        "timestamp": pd.to_datetime([START, START + HOUR, START + 2 * HOUR]), "open": [100.0, 100.0, 110.0],
        "high": [101.0, 112.0, 121.0], "low": [99.0, 100.0, 110.0], "close": [100.0, 110.0, 121.0],
        "volume": [0.0, 1.0, 3.0], "filled": [False, False, False]})
    whales = pd.DataFrame({
        "timestamp": [START + 2 * HOUR, START + 3 * HOUR - SECOND, START + 3 * HOUR],
        "amount": [1.0, 2.0, 4.0], "amount_usd": [10.0, 20.0, 40.0],
        "from_owner_type": ["unknown", "exchange", "wallet"], "to_owner_type": ["exchange", "unknown", "exchange"],
        "transaction_type": ["transfer", "transfer", "mint"]})
    reference = Reference(prices, whales)
    at = START + 3 * HOUR  # the close of the third bar

    def value(**raw):
        return reference.feature(raw, at)[0]

    # window 1 h at T: (T - 1 h, T]: the transfer exactly at T - 1 h is out, the one a second before T is in
    assert value(source="whales", agg="count", window=1) == 1
    assert value(source="whales", filter="net_inflow", agg="sum", column="amount_usd", window=2) == 10.0 - 20.0
    assert value(source="whales", agg="mean", column="amount", window=2) == 1.5
    assert value(source="whales", agg="max", column="amount_usd", window=1, transaction_type="mint") == 40.0
    assert value(source="whales", filter="inflow", agg="max", column="amount_usd", window=1) == 0.0
    assert value(source="whales", filter="inflow", agg="min", column="amount", window=1, fill=-1.0) == -1.0
    assert value(source="whales", agg="min", column="amount", window=2, fill=-1.0) == 1.0
    # hours since the newest event known in the window, the window length when there is none
    assert value(source="whales", agg="hours_since", window=2) == 1 / 3600
    assert value(source="whales", agg="hours_since", window=2, transaction_type="mint") == 0.0
    assert value(source="whales", filter="inflow", agg="hours_since", window=1) == 1.0
    # half-life 1 h: the transfer an hour old counts half, the one a second old nearly fully
    assert value(source="whales", agg="decayed_sum", column="amount", window=2, half_life=1.0) == pytest.approx(
        0.5 * 1.0 + 2 ** (-1 / 3600) * 2.0, rel=1e-15)
    assert value(source="whales", agg="weighted_mean", column="amount", weight="amount_usd", window=2) == (
        pytest.approx((1.0 * 10.0 + 2.0 * 20.0) / 30.0, rel=1e-15))
    assert value(source="prices", agg="sum", column="log_return", window=2) == pytest.approx(math.log(1.21))
    assert value(source="prices", agg="std", column="log_return", window=2) == pytest.approx(0.0, abs=1e-15)
    assert value(source="prices", agg="sum", column="log_volume_change", window=1) == math.log(4) - math.log(2)
    assert value(source="prices", agg="max", column="high_low_range", window=3) == math.log(1.12)
    assert reference.feature({"source": "prices", "agg": "sum", "column": "log_return", "window": 3}, at) is None
    assert reference.feature({"source": "whales", "agg": "count", "window": 4}, at) is None


@pytest.mark.parametrize("spec", REFUSED_WHALE_SPECS + REFUSED_PRICE_SPECS, ids=str)
def test_the_parser_refuses_what_the_readme_rules_out(spec):
    problem = "net_inflow.*only supports agg: sum" if spec["source"] == "whales" else "std needs a window of at least 2"
    with pytest.raises(InputError, match=problem):
        feature_specs.parse_specs([spec])


def test_the_parser_accepts_every_other_combination_with_its_fields():
    specs = feature_specs.parse_specs(WHALE_SPECS + PRICE_SPECS)
    assert len({spec.name for spec in specs}) == len(WHALE_SPECS) + len(PRICE_SPECS)
    for raw, spec in zip(WHALE_SPECS + PRICE_SPECS, specs):
        assert (spec.source, spec.agg, spec.window, spec.column) == (raw["source"], raw["agg"], raw["window"],
                                                                      raw.get("column"))
        if raw["source"] == "whales":
            assert (spec.filter, spec.transaction_type) == (raw["filter"], raw.get("transaction_type", "transfer"))


@pytest.mark.parametrize("report_delay_seconds", [0, 90, 5 * 3600 + 90])
def test_every_whale_combination_matches_the_reference_on_the_window_edges(report_delay_seconds):
    # Whale specs alone: the warm-up is then 4 rows, so the first row's 5 h window starts exactly at the first
    # bar's open, and events just before and at it must stay out.
    assert_matches_reference(edge_prices(), edge_whales(report_delay_seconds), WHALE_SPECS, report_delay_seconds)


@pytest.mark.parametrize("column", feature_specs.PRICE_SERIES_LAG)
def test_every_price_combination_matches_the_reference_with_filled_bars(column):
    # One column at a time, so the warm-up is that column's own: its first row is the first whose longest
    # window has the bars it needs (and, for a change, the bar before them).
    assert_matches_reference(edge_prices(), edge_whales(0), price_specs_of(column))


def test_whale_and_price_combinations_together_match_the_reference():
    # The price windows set the warm-up here (7 bars + the bar before), and every column must still line up.
    assert_matches_reference(edge_prices(), edge_whales(90), WHALE_SPECS + PRICE_SPECS, 90)


@pytest.mark.parametrize("news_delay_seconds", [0, 90, 5 * 3600 + 90])
def test_every_news_combination_matches_the_reference_on_the_window_edges(news_delay_seconds):
    items = edge_news(news_delay_seconds)
    assert set(items["tagged"]) == {True, False} and (items["votes"] == 0).any() and (items["votes"] > 0).any()
    assert_matches_reference(edge_prices(), edge_whales(0), NEWS_SPECS, 0, items, news_delay_seconds)


@pytest.mark.parametrize("report_delay_seconds, news_delay_seconds", [(0, 0), (90, 5 * 3600 + 90), (5 * 3600 + 90, 90)])
def test_the_default_specs_match_the_reference_on_the_window_edges(report_delay_seconds, news_delay_seconds):
    assert_matches_reference(edge_prices(), edge_whales(report_delay_seconds), default_specs(), report_delay_seconds,
                             edge_news(news_delay_seconds), news_delay_seconds)


@pytest.mark.parametrize("report_delay_seconds, news_delay_seconds", [(0, 0), (1_200, 600)])
def test_the_default_specs_match_the_reference_on_the_sample_market(report_delay_seconds, news_delay_seconds):
    market = small_market(hours=120, seed=3)
    prices, whales = clean_market(market)
    whales = whales[feature_table.WHALE_INPUT_COLUMNS]
    items = clean_events(market)
    assert len(whales) > 200 and len(items) > 100
    assert {raw["source"] for raw in default_specs()} == {"prices", "whales", "news"}
    assert_matches_reference(prices, whales, default_specs(), report_delay_seconds, items, news_delay_seconds)


# --- property-based: random bars, random events --------------------------------------------------------------

PROPERTY_SETTINGS = hypothesis_settings(deadline=None, derandomize=True, database=None, max_examples=100,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def hourly_bars(draw, min_hours, max_hours):
    """A complete hourly grid as ingest writes it: random moves, open away from the previous close, some
    hours missing (flat at the previous close, zero volume, filled)."""
    hours = draw(st.integers(min_hours, max_hours))
    close = draw(st.floats(0.01, 1e5))
    rows = []
    for hour in range(hours):
        timestamp = START + hour * HOUR
        if hour > 0 and draw(st.integers(0, 4)) == 0:
            rows.append((timestamp, close, close, close, close, 0.0, True))
            continue
        open_ = close * math.exp(draw(st.floats(-0.05, 0.05)))
        close = close * math.exp(draw(st.floats(-0.2, 0.2)))
        high = max(open_, close) * math.exp(draw(st.floats(0, 0.05)))
        low = min(open_, close) * math.exp(-draw(st.floats(0, 0.05)))
        # 0, or at least a satoshi: the variance of numbers below ~1e-154 underflows in any float64 code,
        # which the exact reference does not model.
        volume = draw(st.one_of(st.just(0.0), st.floats(1e-8, 1e7)))
        rows.append((timestamp, open_, high, low, close, volume, False))
    prices = pd.DataFrame(rows, columns=["timestamp", "open", "high", "low", "close", "volume", "filled"])
    prices["timestamp"] = prices["timestamp"].astype("datetime64[ns, UTC]")
    return prices


@st.composite
def whale_events(draw, hours, report_delay_seconds):
    """Transfers in any order, known within and around the bars; many exactly on or a second off an hour."""
    first, last = -3 * 3600, (hours + 2) * 3600  # seconds after START at which they become known
    on_an_edge = st.builds(lambda hour, offset: hour * 3600 + offset, st.integers(first // 3600, last // 3600),
                           st.sampled_from([-1, 0, 1]))
    event = st.tuples(
        st.one_of(st.integers(first, last), on_an_edge), st.sampled_from(OWNER_TYPES), st.sampled_from(OWNER_TYPES),
        st.sampled_from(TYPES_IN_DATA), st.floats(0, 1e10), st.floats(0, 1e6))
    rows = draw(st.lists(event, min_size=6, max_size=40))
    whales = pd.DataFrame(rows, columns=["known", "from_owner_type", "to_owner_type", "transaction_type",
                                         "amount_usd", "amount"])
    whales["timestamp"] = (START + pd.to_timedelta(whales["known"] - report_delay_seconds, unit="s")).astype(
        "datetime64[ns, UTC]")
    # As ingest writes them: owner types categorical, types as text.
    for column in ("from_owner_type", "to_owner_type"):
        whales[column] = whales[column].astype("category")
    whales["transaction_type"] = whales["transaction_type"].astype("string")
    return whales[feature_table.WHALE_INPUT_COLUMNS]


def no_whales():
    return pd.DataFrame(columns=feature_table.WHALE_INPUT_COLUMNS).astype(
        {"timestamp": "datetime64[ns, UTC]", "amount": float, "amount_usd": float})


report_delays = st.one_of(st.just(0), st.sampled_from([1, 90, 3600, 5 * 3600 + 90]), st.integers(0, 6 * 3600))


@PROPERTY_SETTINGS
@given(data=st.data(), report_delay_seconds=report_delays)
def test_random_whale_events_match_the_reference_for_every_whale_combination(data, report_delay_seconds):
    prices = data.draw(hourly_bars(5, 14), label="prices")
    whales = data.draw(whale_events(len(prices), report_delay_seconds), label="whales")
    # A Whale Alert type the drawn set lacks gives a column of zeros (with a warning), as the reference does.
    assert_matches_reference(prices, whales, WHALE_SPECS, report_delay_seconds)


@PROPERTY_SETTINGS
@given(prices=hourly_bars(8, 30))
def test_random_bars_match_the_reference_for_every_price_combination(prices):
    for column in feature_specs.PRICE_SERIES_LAG:  # one table per column: each with its own warm-up
        assert_matches_reference(prices, no_whales(), price_specs_of(column))


def test_std_is_exactly_0_over_flat_filled_bars_after_a_volume_spike():
    # Hours 1 and 3-7 are missing (filled flat, volume 0), so log_volume_change is 0 from hour 4 on: the 3 h
    # windows ending at 07:00 and 08:00 hold only zeros, and their standard deviation is 0 by definition.
    # Found by hypothesis: pandas 3.1.1's rolling std gives 1.05e-7 for both, which production corrects.
    volume = [2_753_121.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0]
    prices = pd.DataFrame({"timestamp": pd.date_range(START, periods=len(volume), freq="h"), "open": 1.0,
                           "high": 1.0, "low": 1.0, "close": 1.0, "volume": volume,
                           "filled": [False, True, False, True, True, True, True, True]})
    specs = feature_specs.parse_specs([{"source": "prices", "agg": "std", "column": "log_volume_change", "window": 3}])
    table = feature_table.build_feature_table(prices, no_whales(), specs)
    assert table["log_volume_change_std_3h"].tolist()[-2:] == [0.0, 0.0]
