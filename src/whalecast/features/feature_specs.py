"""Feature specs: the features params.yaml declares, each a mapping such as

    - {source: whales, filter: inflow, agg: sum, column: amount_usd, window: 6}
    - {source: prices, agg: std, column: log_return, window: 24, name: price_volatility_last_24_hours}
    - {source: news, agg: weighted_mean, column: sentiment, weight: votes, window: 6}
    - {source: whales, currency: BTC, filter: inflow, agg: sum, column: amount_usd, window: 6}

checked and named here. The source of an event feature is whales or an event source declared in params.yaml
`sources` (news); with `currency` it reads another currency's events (cross-asset), else the row's own currency's.
Semantics: docs/features.md.
"""

import re
from dataclasses import dataclass

import numpy as np

from whalecast import paths
from whalecast.data.event_sources import FILTERS, VALUE_COLUMNS, WEIGHT_COLUMNS
from whalecast.errors import InputError
from whalecast.features import window_engine

# Whale filters on (from_owner_type, to_owner_type). A flow is a transfer across the exchange boundary.
WHALE_FILTERS = ("all", "inflow", "outflow", "exchange_to_exchange", "net_inflow")
WHALE_AGGS = window_engine.AGGS
WHALE_VALUE_COLUMNS = ("amount_usd", "amount")
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
    value_columns = {name: (*VALUE_COLUMNS, *getattr(settings, "values", ()))
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
        if agg in window_engine.VALUE_AGGS:
            _check_choice(fail, "column", column, WHALE_VALUE_COLUMNS)
        else:
            column = None
        if event_filter == "net_inflow" and agg not in window_engine.SIGNED_AGGS:
            raise fail(f"filter net_inflow (inflow minus outflow) only supports agg: {', '.join(window_engine.SIGNED_AGGS)}")
        options = _event_options(raw, agg, fail, WHALE_VALUE_COLUMNS)
        type_part = None if transaction_type == DEFAULT_TRANSACTION_TYPE else transaction_type
        prefix = "whale" if source_name == "whales" else source_name
        default_name = "_".join(part for part in (_currency_part(options), prefix, type_part, event_filter, agg,
                                                  column, *_option_name_parts(options), f"{window}h") if part)
    elif source_name in event_sources:
        if "transaction_type" in raw:
            raise fail("transaction_type applies to whale features only")
        event_filter = raw.get("filter", "all")
        _check_choice(fail, "filter", event_filter, FILTERS)
        _check_choice(fail, "agg", agg, WHALE_AGGS)
        if agg in window_engine.VALUE_AGGS:
            _check_choice(fail, "column", column, event_sources[source_name])
        else:
            column = None
        options = _event_options(raw, agg, fail, WEIGHT_COLUMNS)
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
    readers = {"fill": window_engine.FILLED_AGGS, "half_life": ("decayed_sum",), "weight": ("weighted_mean",)}
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
