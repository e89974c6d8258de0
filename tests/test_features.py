"""The feature table against slow, obviously-correct loops over the raw events, and causality."""

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, clean_market, small_market
from whalecast import feature_groups, features, params
from whalecast.errors import InputError

HOUR = pd.Timedelta(hours=1)
NAMED = [
    "sum_of_whale_inflows_last_6_hours",
    "max_whale_outflow_last_3_hours",
    "number_of_whale_transactions_last_12_hours",
    "price_volatility_last_24_hours",
]


def default_specs():
    return features.parse_specs(params.load(REPO / "params.yaml")["features"])


def add_transfers(whales, rows):
    """Append transfers given as (timestamp, from_owner_type, to_owner_type, amount_usd)."""
    extra = pd.DataFrame(rows, columns=["timestamp", "from_owner_type", "to_owner_type", "amount_usd"])
    extra["amount"] = extra["amount_usd"] / 1000
    extra["transaction_type"] = "transfer"
    combined = pd.concat([whales.astype({"from_owner_type": str, "to_owner_type": str}), extra], ignore_index=True)
    return combined.sort_values("timestamp", kind="stable").reset_index(drop=True)


def brute_force(row_time, prices, whales):
    """The four named features at decision time row_time, one event and one bar at a time."""
    inflow_sum, outflow_max, count = 0.0, 0.0, 0
    for event in whales.itertuples():
        age = row_time - event.timestamp
        to_exchange = event.to_owner_type == "exchange"
        from_exchange = event.from_owner_type == "exchange"
        if pd.Timedelta(0) <= age < 6 * HOUR and to_exchange and not from_exchange:
            inflow_sum += event.amount_usd
        if pd.Timedelta(0) <= age < 3 * HOUR and from_exchange and not to_exchange:
            outflow_max = max(outflow_max, event.amount_usd)
        if pd.Timedelta(0) <= age < 12 * HOUR:
            count += 1
    closes = [bar.close for bar in prices.itertuples() if row_time - 24 * HOUR <= bar.timestamp + HOUR <= row_time]
    returns = [math.log(later / earlier) for earlier, later in zip(closes, closes[1:])]
    return inflow_sum, outflow_max, count, statistics.stdev(returns)


@pytest.fixture(scope="module")
def market_with_edges():
    prices, whales = clean_market(small_market(hours=300))
    edge_row = prices["timestamp"].iloc[150] + HOUR  # a decision time well inside the data
    second = pd.Timedelta(seconds=1)
    on_the_hour = [  # transfers on and one second either side of every fifth decision time
        (row_time + offset, source, target, 600_000.0 + 1_000 * index)
        for index, row_time in enumerate(prices["timestamp"].iloc[::5] + HOUR)
        for offset, source, target in ((-second, "exchange", "unknown"), (0 * second, "unknown", "exchange"),
                                       (second, "exchange", "exchange"))
    ]
    with_edges = add_transfers(whales, on_the_hour + [
        (edge_row, "unknown", "exchange", 7_000_000.0),              # exactly at T: in
        (edge_row - 6 * HOUR, "unknown", "exchange", 9_000_000.0),   # exactly at T - 6 h: out of the 6 h window
        (edge_row - 3 * HOUR, "exchange", "unknown", 90_000_000.0),  # exactly at T - 3 h: out of the 3 h window
        (edge_row - 12 * HOUR, "exchange", "exchange", 1_000_000.0), # exactly at T - 12 h: out of the 12 h window
    ])
    return prices, whales, with_edges, edge_row


def test_named_features_equal_a_loop_over_raw_events(market_with_edges):
    prices, _, whales, _ = market_with_edges
    table = features.build_feature_table(prices, whales, default_specs())
    assert len(table) > 200
    for row in table.itertuples():
        expected = brute_force(row.timestamp, prices, whales)
        actual = tuple(getattr(row, name) for name in NAMED)
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12), row.timestamp


def test_window_edges_are_open_at_the_start_and_closed_at_the_end(market_with_edges):
    prices, whales, with_edges, edge_row = market_with_edges
    only_edges = add_transfers(whales, [
        (edge_row, "unknown", "exchange", 7_000_000.0), (edge_row - 6 * HOUR, "unknown", "exchange", 9_000_000.0),
        (edge_row - 3 * HOUR, "exchange", "unknown", 90_000_000.0),
    ])
    table = features.build_feature_table(prices, only_edges, default_specs()).set_index("timestamp")
    without_edges = features.build_feature_table(prices, whales, default_specs()).set_index("timestamp")
    added = table["sum_of_whale_inflows_last_6_hours"] - without_edges["sum_of_whale_inflows_last_6_hours"]
    # The $7M inflow at T counts in rows T .. T+5h; the $9M one at T-6h in rows T-6h .. T-1h.
    hours_after = ((added.index - edge_row) / HOUR).astype(int)
    expected = np.select([(hours_after >= 0) & (hours_after <= 5), (hours_after >= -6) & (hours_after <= -1)],
                         [7e6, 9e6], 0.0)
    np.testing.assert_allclose(added.to_numpy(), expected, rtol=0, atol=1e-6)
    assert table.loc[edge_row, "max_whale_outflow_last_3_hours"] < 9e7
    assert table.loc[edge_row - HOUR, "max_whale_outflow_last_3_hours"] == 9e7


def cut(prices, whales, cutoff):
    """What was known at cutoff: bars that had closed, transfers stamped at or before it."""
    return prices[prices["timestamp"] + HOUR <= cutoff], whales[whales["timestamp"] <= cutoff]


@pytest.mark.parametrize("cutoff_hours", [60.0, 137.0, 137.5, 210.25])
def test_rows_up_to_a_cutoff_do_not_depend_on_later_data(cutoff_hours):
    prices, whales = clean_market(small_market(hours=300))
    specs = default_specs()
    full = features.build_feature_table(prices, whales, specs)
    cutoff = prices["timestamp"].iloc[0] + pd.Timedelta(hours=cutoff_hours)
    partial = features.build_feature_table(*cut(prices, whales, cutoff), specs)
    known = full[full["timestamp"] <= cutoff].reset_index(drop=True)
    assert len(partial) == len(known) > 0
    pd.testing.assert_frame_equal(partial, known, check_exact=True)


def test_a_currency_without_whale_events_has_all_whale_features_zero():
    prices, whales = clean_market(small_market(hours=100))
    specs = default_specs()
    table = features.build_feature_table(prices, whales.iloc[:0], specs)
    whale_columns = [spec.name for spec in specs if spec.source == "whales"]
    assert len(whale_columns) >= 10
    assert (table[whale_columns] == 0).all().all()
    assert table.drop(columns="timestamp").notna().all().all()


def test_mean_and_net_inflow_aggregations():
    prices, whales = clean_market(small_market(hours=80))
    t = prices["timestamp"].iloc[40] + HOUR
    whales = add_transfers(whales.iloc[:0], [
        (t - pd.Timedelta(minutes=30), "unknown", "exchange", 2e6),
        (t - pd.Timedelta(minutes=10), "exchange", "unknown", 5e6),
        (t, "unknown", "exchange", 4e6),
    ])
    specs = features.parse_specs([
        {"source": "whales", "filter": "net_inflow", "agg": "sum", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "inflow", "agg": "mean", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "exchange_to_exchange", "agg": "count", "window": 1},
    ])
    row = features.build_feature_table(prices, whales, specs).set_index("timestamp").loc[t]
    assert row.tolist() == [1e6, 3e6, 0]


def test_mints_and_burns_count_only_where_a_spec_selects_them():
    prices, whales = clean_market(small_market(hours=80))
    t = prices["timestamp"].iloc[40] + HOUR
    whales = add_transfers(whales.iloc[:0], [
        (t - pd.Timedelta(minutes=50), "unknown", "exchange", 2e6),
        (t - pd.Timedelta(minutes=40), "unknown", "exchange", 7e6),
        (t - pd.Timedelta(minutes=30), "unknown", "unknown", 9e6),
    ])
    whales["transaction_type"] = ["transfer", "mint", "burn"]
    specs = features.parse_specs([
        {"source": "whales", "filter": "all", "agg": "count", "window": 1},
        {"source": "whales", "filter": "inflow", "agg": "sum", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "all", "agg": "sum", "column": "amount_usd", "window": 1, "transaction_type": "Mint"},
        {"source": "whales", "filter": "all", "agg": "count", "window": 1, "transaction_type": "any"},
    ])
    assert [spec.name for spec in specs] == ["whale_all_count_1h", "whale_inflow_sum_amount_usd_1h",
                                             "whale_mint_all_sum_amount_usd_1h", "whale_any_all_count_1h"]
    row = features.build_feature_table(prices, whales, specs).set_index("timestamp").loc[t]
    assert row.tolist() == [1, 2e6, 7e6, 3]


@pytest.mark.parametrize("spec, problem", [
    ({"source": "prices", "agg": "sum", "column": "log_return", "window": 3, "transaction_type": "mint"},
     "transaction_type applies to whale features only"),
    ({"source": "whales", "agg": "count", "window": 3, "transaction_type": ""}, "transaction_type must be"),
    ({"source": "whales", "filter": "inflow", "agg": "sum", "column": "amount_usd", "window": 0}, "window"),
    ({"source": "whales", "filter": "sideways", "agg": "sum", "column": "amount_usd", "window": 3}, "filter"),
    ({"source": "whales", "filter": "inflow", "agg": "median", "column": "amount_usd", "window": 3}, "agg"),
    ({"source": "prices", "agg": "sum", "column": "close", "window": 3}, "column"),
    ({"source": "news", "agg": "sum", "window": 3}, "source"),
    ({"source": "prices", "agg": "std", "column": "log_return", "window": 1}, "at least 2"),
    ({"source": "whales", "filter": "net_inflow", "agg": "max", "column": "amount_usd", "window": 3}, "net_inflow"),
    ({"source": "prices", "agg": "sum", "column": "log_return", "window": 3, "lag": 2}, "unknown key 'lag'"),
    ({"source": "prices", "agg": "sum", "column": "log_return", "window": 3, "group": " "}, "group must be a name"),
])
def test_bad_feature_specs_are_named(spec, problem):
    with pytest.raises(InputError, match=problem) as raised:
        features.parse_specs([spec])
    assert str(raised.value).startswith("params.yaml: features[0]:")


def test_the_table_records_the_group_of_every_feature_default_its_source():
    specs = features.parse_specs([
        {"source": "prices", "agg": "sum", "column": "log_return", "window": 3},
        {"source": "whales", "filter": "inflow", "agg": "count", "window": 2},
        {"source": "whales", "filter": "outflow", "agg": "count", "window": 2, "group": "flows"},
        {"source": "prices", "agg": "std", "column": "log_return", "window": 4, "group": "flows"},
    ])
    prices, whales = clean_market(small_market(hours=50))
    table = features.build_feature_table(prices, whales, specs)
    assert feature_groups.read(table, "features.parquet") == {
        "prices": ["log_return_sum_3h"], "whales": ["whale_inflow_count_2h"],
        "flows": ["whale_outflow_count_2h", "log_return_std_4h"]}


def test_duplicate_feature_names_are_rejected():
    spec = {"source": "prices", "agg": "sum", "column": "log_return", "window": 3}
    with pytest.raises(InputError, match="log_return_sum_3h.*twice"):
        features.parse_specs([spec, spec])


def test_too_few_hours_for_the_longest_window():
    prices, whales = clean_market(small_market(hours=24))
    with pytest.raises(InputError, match="24 hourly bars, but the longest feature lookback needs 25"):
        features.build_feature_table(prices, whales, default_specs())


def test_a_report_delay_moves_a_transfer_to_the_first_row_at_which_it_was_known():
    prices, whales = clean_market(small_market(hours=80))
    t = prices["timestamp"].iloc[40] + HOUR
    late = add_transfers(whales.iloc[:0], [(t - pd.Timedelta(seconds=30), "unknown", "exchange", 1e6)])
    specs = features.parse_specs([{"source": "whales", "filter": "inflow", "agg": "count", "window": 1}])

    def rows_counting_it(delay_seconds):
        table = features.build_feature_table(prices, late, specs, report_delay=pd.Timedelta(seconds=delay_seconds))
        return table.loc[table.iloc[:, 1] == 1, "timestamp"].tolist()

    assert rows_counting_it(0) == [t]
    assert rows_counting_it(30) == [t]  # known exactly at T
    assert rows_counting_it(31) == [t + HOUR]


@pytest.mark.parametrize("cutoff_hours", [100.0, 100.5])
def test_with_a_delay_rows_depend_only_on_transfers_known_by_then(cutoff_hours):
    prices, whales = clean_market(small_market(hours=200))
    delay = pd.Timedelta(minutes=20)
    specs = default_specs()
    full = features.build_feature_table(prices, whales, specs, report_delay=delay)
    cutoff = prices["timestamp"].iloc[0] + pd.Timedelta(hours=cutoff_hours)
    known_prices, _ = cut(prices, whales, cutoff)
    known_whales = whales[whales["timestamp"] + delay <= cutoff]
    partial = features.build_feature_table(known_prices, known_whales, specs, report_delay=delay)
    pd.testing.assert_frame_equal(partial, full[full["timestamp"] <= cutoff].reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("value", [-1, "60", True, None])
def test_a_bad_report_delay_is_named(value):
    with pytest.raises(InputError, match="params.yaml: whale_report_delay_seconds must be a number of seconds in 0..2592000"):
        features.parse_report_delay(value)
