"""The hourly feature table: for each decision time T, rolling summaries of what was known at T.

Row T is the close time of an hourly bar (its open time + 1 h). A window of w hours at T covers events with
T - w h < timestamp <= T, and the w hourly bars that closed in that span. Nothing stamped after T can change
row T. Features are declared in params.yaml as specs, e.g.

    - {source: whales, filter: inflow, agg: sum, column: amount_usd, window: 6}
    - {source: prices, agg: std, column: log_return, window: 24, name: price_volatility_last_24_hours}
    - {source: news, agg: weighted_mean, column: sentiment, weight: votes, window: 6}
    - {source: whales, currency: BTC, filter: inflow, agg: sum, column: amount_usd, window: 6}

The source of an event feature is whales or an event source declared in params.yaml `sources` (news); with
`currency` it reads another currency's events (cross-asset), else the row's own currency's.

The work is O(events + hours): each transfer is put in the hour bucket (T - 1 h, T] it belongs to once,
then every window is an online rolling sum, maximum or variance over consecutive hourly values.
No Python loop runs per hour or per event.
"""

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whalecast import events, feature_groups, params, paths, sources
from whalecast.errors import InputError

log = logging.getLogger(__name__)

HOUR_NS = events.HOUR_NS

# Whale filters on (from_owner_type, to_owner_type). A flow is a transfer across the exchange boundary.
WHALE_FILTERS = ("all", "inflow", "outflow", "exchange_to_exchange", "net_inflow")
WHALE_AGGS = events.AGGS
WHALE_VALUE_COLUMNS = ("amount_usd", "amount")
WHALE_INPUT_COLUMNS = ["timestamp", "amount", "amount_usd", "from_owner_type", "to_owner_type", "transaction_type"]

# Hourly series derived from the bars; lag = how many earlier bars one value needs.
PRICE_SERIES_LAG = {"log_return": 1, "log_volume_change": 1, "high_low_range": 0, "filled": 0}
PRICE_AGGS = ("sum", "mean", "std", "min", "max")

SPEC_KEYS = {"source", "filter", "agg", "column", "window", "name", "transaction_type", "group", "fill", "half_life",
             "weight", "currency"}
# Options of the event features (whale and declared sources), not of price features.
EVENT_KEYS = ("fill", "half_life", "weight", "currency")
# Whale Alert reports mints, burns, locks and unlocks beside transfers; features count transfers unless a
# spec names another transaction_type (or "any").
DEFAULT_TRANSACTION_TYPE, ANY_TRANSACTION_TYPE = "transfer", "any"
WHALE_ALERT_TYPES = ("transfer", "mint", "burn", "lock", "unlock", "freeze", "unfreeze")


@dataclass(frozen=True)
class FeatureSpec:
    source: str  # "prices", "whales" or a source declared in params.yaml `sources`
    agg: str
    window: int  # hours
    column: str | None = None
    filter: str | None = None  # whales only
    name: str = ""
    transaction_type: str | None = None  # whales only: "transfer", another Whale Alert type, or "any"
    group: str = ""  # the feature group an experiment switches on or off (params feature_groups)
    fill: float = 0.0  # events: the value of an empty window for mean, max, min and weighted_mean
    half_life: float | None = None  # events, decayed_sum: hours in which an event's weight halves
    weight: str | None = None  # events, weighted_mean: the column the values are weighted by
    currency: str | None = None  # events: another currency's events (cross-asset); None: the row's own

    @property
    def first_complete_row(self) -> int:
        """Index of the first hourly row whose whole window lies inside the data."""
        lag = PRICE_SERIES_LAG[self.column] if self.source == "prices" else 0
        return self.window - 1 + lag


def parse_specs(raw_specs, source=paths.PARAMS, event_sources=()) -> list[FeatureSpec]:
    """The feature specs; event_sources: the sources declared in params.yaml `sources` (their names, or a mapping of
    name to settings, whose `values` are more columns a spec may aggregate)."""
    if not isinstance(raw_specs, list) or not raw_specs:
        raise InputError(source, "features must be a non-empty list of feature specs")
    declared = event_sources if isinstance(event_sources, dict) else dict.fromkeys(event_sources)
    value_columns = {name: (*sources.VALUE_COLUMNS, *getattr(settings, "values", ()))
                     for name, settings in declared.items()}
    transfer_sources = {name for name, settings in declared.items() if getattr(settings, "holds_transfers", False)}
    specs = [_parse_spec(raw, f"features[{index}]", source, value_columns, transfer_sources)
             for index, raw in enumerate(raw_specs)]
    names = [spec.name for spec in specs]
    if "timestamp" in names:
        raise InputError(source, f"features[{names.index('timestamp')}]: the name 'timestamp' is the row key")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(source, f"feature name '{repeated[0]}' is declared twice")
    return specs


def _parse_spec(raw, where: str, source, event_sources: dict[str, tuple[str, ...]],
                transfer_sources: set[str]) -> FeatureSpec:
    def fail(problem):
        return InputError(source, f"{where}: {problem}")

    if not isinstance(raw, dict):
        raise fail("a feature spec must be a mapping")
    unknown = set(raw) - SPEC_KEYS
    if unknown:
        raise fail(f"unknown key '{sorted(unknown)[0]}' (allowed: {', '.join(sorted(SPEC_KEYS))})")
    window = raw.get("window")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise fail(f"window must be a whole number of hours >= 1, got {window!r}")
    agg, column, source_name = raw.get("agg"), raw.get("column"), raw.get("source")
    transaction_type = None
    # Transfers: the built-in whales, or a declared source of whale_alert files (transaction_type is set for both).
    if source_name == "whales" or source_name in transfer_sources:
        transaction_type = raw.get("transaction_type", DEFAULT_TRANSACTION_TYPE)
        if not isinstance(transaction_type, str) or not transaction_type.strip():
            raise fail(f"transaction_type must be a Whale Alert type such as transfer, mint or burn, or any; "
                       f"got {transaction_type!r}")
        transaction_type = transaction_type.strip().lower()
        event_filter = raw.get("filter", "all")
        _check_choice(fail, "filter", event_filter, WHALE_FILTERS)
        _check_choice(fail, "agg", agg, WHALE_AGGS)
        if agg in events.VALUE_AGGS:
            _check_choice(fail, "column", column, WHALE_VALUE_COLUMNS)
        else:
            column = None
        if event_filter == "net_inflow" and agg not in events.SIGNED_AGGS:
            raise fail(f"filter net_inflow (inflow minus outflow) only supports agg: {', '.join(events.SIGNED_AGGS)}")
        options = _event_options(raw, agg, fail, WHALE_VALUE_COLUMNS)
        type_part = None if transaction_type == DEFAULT_TRANSACTION_TYPE else transaction_type
        prefix = "whale" if source_name == "whales" else source_name
        default_name = "_".join(part for part in (_currency_part(options), prefix, type_part, event_filter, agg,
                                                  column, *_option_name_parts(options), f"{window}h") if part)
    elif source_name in event_sources:
        if "transaction_type" in raw:
            raise fail("transaction_type applies to whale features only")
        event_filter = raw.get("filter", "all")
        _check_choice(fail, "filter", event_filter, sources.FILTERS)
        _check_choice(fail, "agg", agg, WHALE_AGGS)
        if agg in events.VALUE_AGGS:
            _check_choice(fail, "column", column, event_sources[source_name])
        else:
            column = None
        options = _event_options(raw, agg, fail, sources.WEIGHT_COLUMNS)
        default_name = "_".join(part for part in (_currency_part(options), source_name, event_filter, agg, column,
                                                  *_option_name_parts(options), f"{window}h") if part)
    elif source_name == "prices":
        for whale_key in ("filter", "transaction_type"):
            if whale_key in raw:
                raise fail(f"{whale_key} applies to whale features only")
        for event_key in EVENT_KEYS:
            if event_key in raw:
                raise fail(f"{event_key} applies to event features ({', '.join(('whales', *event_sources))}) only")
        options = {}
        event_filter = None
        _check_choice(fail, "agg", agg, PRICE_AGGS)
        _check_choice(fail, "column", column, tuple(PRICE_SERIES_LAG))
        if agg == "std" and window < 2:
            raise fail("agg std needs a window of at least 2 hours")
        default_name = f"{column}_{agg}_{window}h"
    else:
        declared = "".join(f", '{name}'" for name in event_sources)
        raise fail(f"source must be 'whales', 'prices'{declared} or another source declared under `sources`, "
                   f"got {source_name!r}")
    name = raw.get("name") or default_name
    if not isinstance(name, str):
        raise fail(f"name must be text, got {name!r}")
    group = raw.get("group", source_name)
    if not isinstance(group, str) or not group.strip():
        raise fail(f"group must be a name such as prices or whales, got {group!r}")
    return FeatureSpec(source_name, agg, window, column, event_filter, name, transaction_type, group.strip(),
                       **options)


def _event_options(raw, agg: str, fail, weight_columns) -> dict:
    """fill, half_life and weight of an event spec, each allowed only where its aggregation reads it."""
    readers = {"fill": events.FILLED_AGGS, "half_life": ("decayed_sum",), "weight": ("weighted_mean",)}
    for key, aggs in readers.items():
        if key in raw and agg not in aggs:
            raise fail(f"{key} applies to agg {', '.join(aggs)} only, not {agg}")
    options = {}
    if "fill" in raw:
        options["fill"] = _number(fail, "fill", raw["fill"])
    if agg == "decayed_sum":
        options["half_life"] = _number(fail, "half_life", raw.get("half_life"), positive=True)
    if agg == "weighted_mean":
        options["weight"] = raw.get("weight")
        _check_choice(fail, "weight", options["weight"], weight_columns)
    if "currency" in raw:
        currency = raw["currency"]
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z0-9]+", currency):
            raise fail(f"currency must be a currency code such as BTC, got {currency!r}")
        options["currency"] = currency.upper()
    return options


def _number(fail, key, value, positive=False) -> float:
    is_number = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    if not is_number or (positive and value <= 0):
        raise fail(f"{key} must be a {'positive ' if positive else ''}number, got {value!r}")
    return float(value)


def _currency_part(options: dict) -> str | None:
    """A cross-asset feature's name starts with the currency it reads, e.g. btc_whale_inflow_sum_amount_usd_6h."""
    return options["currency"].lower() if "currency" in options else None


def _option_name_parts(options: dict) -> list[str]:
    """The parts of a default name that tell two specs apart by their options (fill does not change the name)."""
    parts = []
    if "half_life" in options:
        parts.append(f"half_life_{options['half_life']:g}h")
    if "weight" in options:
        parts.append(f"by_{options['weight']}")
    return parts


def _check_choice(fail, key, value, allowed) -> None:
    if value not in allowed:
        raise fail(f"{key} must be one of {', '.join(allowed)}, got {value!r}")


def parse_report_delay(value, source=paths.PARAMS) -> pd.Timedelta:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not 0 <= value <= sources.MAX_DELAY_SECONDS:
        shown = f"{value:g}" if is_number else repr(value)
        raise InputError(source, f"whale_report_delay_seconds must be a number of seconds in "
                                 f"0..{sources.MAX_DELAY_SECONDS} (30 days), got {shown}")
    return pd.Timedelta(seconds=value)


def build_feature_table(prices: pd.DataFrame, whales: pd.DataFrame, specs: list[FeatureSpec],
                        prices_source="prices", report_delay=pd.Timedelta(0), events_table: pd.DataFrame | None = None,
                        event_delays: dict[str, pd.Timedelta] | None = None,
                        other_currencies: dict[str, "EventTables"] | None = None) -> pd.DataFrame:
    """One row per decision time T with a complete lookback, one column per spec.

    prices: hourly bars on a complete grid (as ingest writes them); whales: transfers with
    WHALE_INPUT_COLUMNS, in any order. A transfer counts from its timestamp + report_delay on: the time
    it became known, when the data's timestamps are block times. events_table: the items of the declared
    sources (sources.EVENT_COLUMNS), each counting from its timestamp + its source's delay (event_delays).
    other_currencies: the whales and items of the currencies that cross-asset specs read.
    """
    bar_open_ns = prices["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    hours = len(bar_open_ns)
    if hours > 1 and np.any(np.diff(bar_open_ns) != HOUR_NS):
        raise InputError(prices_source, "bars are not a complete, sorted hourly grid (re-run ingest)")
    warmup = max(spec.first_complete_row for spec in specs)
    if hours <= warmup:
        raise InputError(
            prices_source, f"{hours} hourly bars, but the longest feature lookback needs {warmup + 1}"
        )
    own = EventTables(whales, sources.empty_events() if events_table is None else events_table)
    tables = {None: own, **(other_currencies or {})}
    for currency, currency_tables in tables.items():
        _check_transaction_types([spec for spec in specs if spec.currency == currency], currency_tables.whales)
    decision_ns = bar_open_ns + HOUR_NS
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
            columns[spec.name] = events.rolling(series[spec.column], spec.window, spec.agg)
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
    """One currency's event tables: whale transfers and the items of the declared sources."""

    whales: pd.DataFrame
    events: pd.DataFrame


def table_for(currency: str, all_params: dict, prices: pd.DataFrame, tables_of, prices_source="prices"
              ) -> pd.DataFrame:
    """The feature table of a currency as params.yaml declares it. tables_of(currency, what asks) gives a
    currency's EventTables: the featurize stage reads what ingest wrote, whalecast-predict computes them."""
    declared = sources.parse(params.section(all_params, "sources"))
    specs = parse_specs(params.section(all_params, "features"), event_sources=declared)
    report_delay = parse_report_delay(params.section(all_params, "whale_report_delay_seconds"))
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
        self.events = events.EventBuckets(known_at_ns, first_decision_ns, hours)
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
        self.selections: dict[tuple, events.Selection] = {}
        self.columns: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        if column not in self.columns:
            self.columns[column] = self.events.select(self.table[column]).astype(float)
        return self.columns[column]

    def selection(self, spec: FeatureSpec) -> events.Selection:
        key = (spec.filter, spec.transaction_type)
        if key not in self.selections:
            weight = self.filters[spec.filter]
            if spec.transaction_type not in (None, ANY_TRANSACTION_TYPE):
                known = spec.transaction_type in self.type_names
                weight = weight * (self.type_codes == (self.type_names.get_loc(spec.transaction_type) if known else -2))
            self.selections[key] = events.Selection(self.events, weight)
        return self.selections[key]

    def rolling(self, spec: FeatureSpec) -> np.ndarray:
        values = self.values(spec.column) if spec.column else None
        weights = self.values(spec.weight) if spec.weight else None
        return events.aggregate(self.selection(spec), spec.agg, spec.window, values, spec.column or "", spec.fill,
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
