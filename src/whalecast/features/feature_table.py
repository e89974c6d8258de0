"""The hourly feature table: for each decision time T, rolling summaries of what was known at T.

Row T is the close time of an hourly bar (its open time + 1 h). A window of w hours at T covers events with
T - w h < timestamp <= T, and the w hourly bars that closed in that span. Nothing stamped after T can change row
T. The work is O(events + hours): each event is put in the hour bucket (T - 1 h, T] it belongs to once
(whalecast.features.window_engine), then every window is an online rolling sum, maximum or variance over
consecutive hourly values. No Python loop runs per hour or per event.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whalecast import paths, settings, storage
from whalecast.data import event_sources
from whalecast.data.delays import ReportDelay
from whalecast.errors import InputError
from whalecast.features import feature_groups, window_engine
from whalecast.features.feature_specs import ANY_TRANSACTION_TYPE, WHALE_ALERT_TYPES, FeatureSpec, parse_specs

log = logging.getLogger(__name__)

WHALE_INPUT_COLUMNS = ["timestamp", "amount", "amount_usd", "from_owner_type", "to_owner_type", "transaction_type"]


def build_feature_table(prices: pd.DataFrame, whales: pd.DataFrame, specs: list[FeatureSpec],
                        prices_source="prices", report_delay=pd.Timedelta(0), events_table: pd.DataFrame | None = None,
                        event_delays: dict[str, pd.Timedelta] | None = None,
                        other_currencies: dict[str, "EventTables"] | None = None) -> pd.DataFrame:
    """One row per decision time T with a complete lookback, one column per spec.

    prices: hourly bars on a complete grid (as ingest writes them); whales: transfers with
    WHALE_INPUT_COLUMNS, in any order. A transfer counts from its timestamp + report_delay on: the time
    it became known, when the data's timestamps are block times. events_table: the items of the declared
    sources (event_sources.EVENT_COLUMNS), each counting from its timestamp + its source's delay (event_delays).
    other_currencies: the whales and items of the currencies that cross-asset specs read.
    """
    bar_open_ns = prices["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    hours = len(bar_open_ns)
    if hours > 1 and np.any(np.diff(bar_open_ns) != window_engine.HOUR_NS):
        raise InputError(prices_source, "bars are not a complete, sorted hourly grid (re-run ingest)")
    warmup = max(spec.first_complete_row for spec in specs)
    if hours <= warmup:
        raise InputError(
            prices_source, f"{hours} hourly bars, but the longest feature lookback needs {warmup + 1}"
        )
    own = EventTables(whales, event_sources.empty_events() if events_table is None else events_table)
    tables = {None: own, **(other_currencies or {})}
    for currency, currency_tables in tables.items():
        _check_transaction_types([spec for spec in specs if spec.currency == currency], currency_tables.whales)
    decision_ns = bar_open_ns + window_engine.HOUR_NS
    delays = {"whales": report_delay, **(event_delays or {})}
    # A spec of transfers has a transaction_type: of a declared source, its items are whale records.
    transfer_sources = {spec.source for spec in specs if spec.transaction_type is not None and spec.source != "whales"}
    buckets = {}  # (source, currency) -> the events of that stream in hour buckets, built once

    def buckets_of(source: str, currency: str | None):
        if (source, currency) not in buckets:
            # Known at timestamp + delay: bucketing against decision times moved back by the delay is the same.
            first_decision_ns = decision_ns[0] - delays.get(source, pd.Timedelta(0)).value
            if source == "whales":
                table = tables[currency].whales
            else:
                table = tables[currency].events[tables[currency].events["source"] == source]
            buckets[source, currency] = EventStream(table, first_decision_ns, hours,
                                                    transfers=source == "whales" or source in transfer_sources)
        return buckets[source, currency]

    own_whales = buckets_of("whales", None)
    series = _price_series(prices)
    columns = {}
    for spec in specs:
        if spec.source == "prices":
            columns[spec.name] = window_engine.rolling(series[spec.column], spec.window, spec.agg)
        else:
            columns[spec.name] = buckets_of(spec.source, spec.currency).rolling(spec)
    table = pd.DataFrame(columns).iloc[warmup:].reset_index(drop=True)
    table.insert(0, "timestamp", pd.to_datetime(decision_ns[warmup:], utc=True))
    feature_groups.record(table, feature_groups.of_specs(specs))
    log.info(
        "features: %d rows x %d features, %d warm-up rows dropped (longest lookback %d h), "
        "%d filled (missing) bars in the input, %d whale records in range, %d outside the price range ignored",
        len(table), len(specs), warmup, warmup + 1, int(prices["filled"].sum()),
        own_whales.in_range_count, own_whales.out_of_range_count,
    )
    _log_coverage("whale transfers", "whale", whales["timestamp"], table["timestamp"])
    for (source, currency), stream in buckets.items():
        if (source, currency) != ("whales", None):
            what = f"{source} items" if source != "whales" else "whale transfers"
            what = f"{currency} {what}" if currency else what
            log.info("features: %s: %d in range, %d outside the price range ignored", what, stream.in_range_count,
                     stream.out_of_range_count)
            _log_coverage(what, source, stream.times, table["timestamp"])
    return table


@dataclass(frozen=True)
class EventTables:
    """One currency's event tables: whale transfers and the items of the declared event_sources."""

    whales: pd.DataFrame
    events: pd.DataFrame


def ingested_event_tables(currency: str, where: str) -> EventTables:
    """A currency's whales and events as ingest wrote them; `where` names what asked for them, should they be
    missing."""
    for path in (paths.whales(currency), paths.events(currency)):
        if not path.exists():
            raise InputError(path, f"not found: {where} reads {currency}'s events, which ingest makes only for the "
                                   f"currencies in params.yaml `currencies`")
    return EventTables(storage.read_parquet(paths.whales(currency), columns=WHALE_INPUT_COLUMNS),
                       storage.read_parquet(paths.events(currency)))


def table_for(currency: str, params: dict, prices: pd.DataFrame, tables_of, prices_source="prices"
              ) -> pd.DataFrame:
    """The feature table of a currency as params.yaml declares it. tables_of(currency, what asks) gives a
    currency's EventTables: the featurize stage reads what ingest wrote, whalecast-predict computes them."""
    declared = event_sources.parse(settings.value(params, "sources"))
    specs = parse_specs(settings.value(params, "features"), event_sources=declared)
    report_delay = settings.load(ReportDelay, params).delay
    own = tables_of(currency, f"featurize {currency}")
    others = {spec.currency: own if spec.currency == currency else tables_of(spec.currency, f"feature {spec.name}")
              for spec in specs if spec.currency}
    return build_feature_table(prices, own.whales, specs, prices_source, report_delay, own.events,
                               {name: source.delay for name, source in declared.items()}, others)


def _check_transaction_types(specs: list[FeatureSpec], whales: pd.DataFrame) -> None:
    """A type no record has gives an all-zero column: an error for a type Whale Alert does not report (a typo
    such as `transfers`), a warning for one this currency lacks (one features list serves every currency)."""
    present = whales["transaction_type"].value_counts()
    in_data = ", ".join(f"{name} {count}" for name, count in present.items())
    for spec in specs:
        if spec.source != "whales" or not len(present) or spec.transaction_type in (*present.index, ANY_TRANSACTION_TYPE):
            continue
        if spec.transaction_type not in WHALE_ALERT_TYPES:
            raise InputError(paths.PARAMS, f"feature {spec.name}: transaction_type '{spec.transaction_type}' matches no "
                                           f"whale record and is no Whale Alert type (types in the data: {in_data})")
        log.warning("features: feature %s: no whale record is a %s, so the column is 0 (types in the data: %s)",
                    spec.name, spec.transaction_type, in_data)


def _log_coverage(what: str, feature_kind: str, times: pd.Series, row_times: pd.Series) -> None:
    """Rows before the first or after the last event read 'no events', which may mean 'no data'."""
    if times.empty:
        log.warning("features: no %s at all: every %s feature has its empty-window value", what, feature_kind)
        return
    first, last = times.min(), times.max()
    uncovered = int(((row_times < first) | (row_times > last)).sum())
    log.info("features: %s span %s .. %s; %d of %d rows lie outside that span", what,
             f"{first:%Y-%m-%d %H:%M}", f"{last:%Y-%m-%d %H:%M}", uncovered, len(row_times))


class EventStream:
    """A stream's events in hour buckets (whalecast.events): whale transfers, selected by owner types and
    transaction type, or the items of a declared source, selected as tagged with the currency or market-wide."""

    def __init__(self, table: pd.DataFrame, first_decision_ns: int, hours: int, transfers: bool):
        self.table, self.times = table, table["timestamp"]
        known_at_ns = table["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        self.events = window_engine.EventBuckets(known_at_ns, first_decision_ns, hours)
        self.in_range_count, self.out_of_range_count = self.events.in_range_count, self.events.out_of_range_count
        if transfers:
            from_exchange = self.events.select(table["from_owner_type"] == "exchange")
            to_exchange = self.events.select(table["to_owner_type"] == "exchange")
            inflow, outflow = (to_exchange & ~from_exchange).astype(float), (from_exchange & ~to_exchange).astype(float)
            self.filters = {"all": np.ones(self.in_range_count), "inflow": inflow, "outflow": outflow,
                            "exchange_to_exchange": (from_exchange & to_exchange).astype(float),
                            "net_inflow": inflow - outflow}
            type_codes, self.type_names = pd.factorize(table["transaction_type"])  # integer codes compare fast
            self.type_codes = self.events.select(type_codes)
        else:
            tagged = self.events.select(table["tagged"]).astype(bool)
            self.filters = {"all": np.ones(self.in_range_count), "tagged": tagged.astype(float),
                            "market_wide": (~tagged).astype(float)}
        self.selections: dict[tuple, window_engine.Selection] = {}
        self.columns: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        if column not in self.columns:
            self.columns[column] = self.events.select(self.table[column]).astype(float)
        return self.columns[column]

    def selection(self, spec: FeatureSpec) -> window_engine.Selection:
        key = (spec.filter, spec.transaction_type)
        if key not in self.selections:
            weight = self.filters[spec.filter]
            if spec.transaction_type not in (None, ANY_TRANSACTION_TYPE):
                known = spec.transaction_type in self.type_names
                weight = weight * (self.type_codes == (self.type_names.get_loc(spec.transaction_type) if known else -2))
            self.selections[key] = window_engine.Selection(self.events, weight)
        return self.selections[key]

    def rolling(self, spec: FeatureSpec) -> np.ndarray:
        values = self.values(spec.column) if spec.column else None
        weights = self.values(spec.weight) if spec.weight else None
        return window_engine.aggregate(self.selection(spec), spec.agg, spec.window, values, spec.column or "", spec.fill,
                                spec.half_life, weights)


def _price_series(prices: pd.DataFrame) -> dict[str, np.ndarray]:
    """Hourly series known at each bar's close; NaN where an earlier bar is needed but absent."""
    close = prices["close"].to_numpy(dtype=float)
    log_volume = np.log1p(prices["volume"].to_numpy(dtype=float))
    first_nan = np.array([np.nan])
    return {
        "log_return": np.concatenate([first_nan, np.diff(np.log(close))]),
        "log_volume_change": np.concatenate([first_nan, np.diff(log_volume)]),
        "high_low_range": np.log(prices["high"].to_numpy(dtype=float) / prices["low"].to_numpy(dtype=float)),
        "filled": prices["filled"].to_numpy(dtype=float),  # 1 for a missing hour that ingest filled flat
    }
