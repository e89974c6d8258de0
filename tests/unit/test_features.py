"""The feature table against slow, obviously-correct loops over the raw events, and causality."""

import math
import platform
import statistics
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, clean_events, clean_market, run, small_market
from whalecast import settings
from whalecast.data.delays import ReportDelay
from whalecast.features import feature_groups, feature_specs, feature_table
from whalecast.errors import InputError

HOUR = pd.Timedelta(hours=1)
NAMED = [
    "sum_of_whale_inflows_last_6_hours",
    "max_whale_outflow_last_3_hours",
    "number_of_whale_transactions_last_12_hours",
    "price_volatility_last_24_hours",
]


def default_specs():
    repo_params = settings.read(REPO / "params.yaml")
    return feature_specs.parse_specs(repo_params["features"], event_sources=list(repo_params["sources"]))


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
    table = feature_table.build_feature_table(prices, whales, default_specs())
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
    table = feature_table.build_feature_table(prices, only_edges, default_specs()).set_index("timestamp")
    without_edges = feature_table.build_feature_table(prices, whales, default_specs()).set_index("timestamp")
    added = table["sum_of_whale_inflows_last_6_hours"] - without_edges["sum_of_whale_inflows_last_6_hours"]
    # The $7M inflow at T counts in rows T .. T+5h; the $9M one at T-6h in rows T-6h .. T-1h.
    hours_after = ((added.index - edge_row) / HOUR).astype(int)
    expected = np.select([(hours_after >= 0) & (hours_after <= 5), (hours_after >= -6) & (hours_after <= -1)],
                         [7e6, 9e6], 0.0)
    np.testing.assert_allclose(added.to_numpy(), expected, rtol=0, atol=1e-6)
    assert table.loc[edge_row, "max_whale_outflow_last_3_hours"] < 9e7
    assert table.loc[edge_row - HOUR, "max_whale_outflow_last_3_hours"] == 9e7


def cut(prices, whales, events, cutoff):
    """What was known at cutoff: bars that had closed, transfers and news items stamped at or before it."""
    return (prices[prices["timestamp"] + HOUR <= cutoff], whales[whales["timestamp"] <= cutoff],
            events[events["timestamp"] <= cutoff])


@pytest.mark.parametrize("cutoff_hours", [60.0, 137.0, 137.5, 210.25])
def test_rows_up_to_a_cutoff_do_not_depend_on_later_data(cutoff_hours):
    market = small_market(hours=300)
    (prices, whales), events = clean_market(market), clean_events(market)
    specs = default_specs()
    assert {spec.source for spec in specs} == {"prices", "whales", "news"} and len(events) > 200
    delays = {"news": pd.Timedelta(0)}
    full = feature_table.build_feature_table(prices, whales, specs, events_table=events, event_delays=delays)
    cutoff = prices["timestamp"].iloc[0] + pd.Timedelta(hours=cutoff_hours)
    known_prices, known_whales, known_events = cut(prices, whales, events, cutoff)
    partial = feature_table.build_feature_table(known_prices, known_whales, specs, events_table=known_events,
                                           event_delays=delays)
    known = full[full["timestamp"] <= cutoff].reset_index(drop=True)
    assert len(partial) == len(known) > 0
    pd.testing.assert_frame_equal(partial, known, check_exact=True)


def test_a_currency_without_whale_events_has_all_whale_features_zero():
    prices, whales = clean_market(small_market(hours=100))
    specs = default_specs()
    table = feature_table.build_feature_table(prices, whales.iloc[:0], specs)
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
    specs = feature_specs.parse_specs([
        {"source": "whales", "filter": "net_inflow", "agg": "sum", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "inflow", "agg": "mean", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "exchange_to_exchange", "agg": "count", "window": 1},
    ])
    row = feature_table.build_feature_table(prices, whales, specs).set_index("timestamp").loc[t]
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
    specs = feature_specs.parse_specs([
        {"source": "whales", "filter": "all", "agg": "count", "window": 1},
        {"source": "whales", "filter": "inflow", "agg": "sum", "column": "amount_usd", "window": 1},
        {"source": "whales", "filter": "all", "agg": "sum", "column": "amount_usd", "window": 1, "transaction_type": "Mint"},
        {"source": "whales", "filter": "all", "agg": "count", "window": 1, "transaction_type": "any"},
    ])
    assert [spec.name for spec in specs] == ["whale_all_count_1h", "whale_inflow_sum_amount_usd_1h",
                                             "whale_mint_all_sum_amount_usd_1h", "whale_any_all_count_1h"]
    row = feature_table.build_feature_table(prices, whales, specs).set_index("timestamp").loc[t]
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
        feature_specs.parse_specs([spec])
    assert str(raised.value).startswith("params.yaml: features[0]:")


def test_the_table_records_the_group_of_every_feature_default_its_source():
    specs = feature_specs.parse_specs([
        {"source": "prices", "agg": "sum", "column": "log_return", "window": 3},
        {"source": "whales", "filter": "inflow", "agg": "count", "window": 2},
        {"source": "whales", "filter": "outflow", "agg": "count", "window": 2, "group": "flows"},
        {"source": "prices", "agg": "std", "column": "log_return", "window": 4, "group": "flows"},
    ])
    prices, whales = clean_market(small_market(hours=50))
    table = feature_table.build_feature_table(prices, whales, specs)
    assert feature_groups.read(table, "features.parquet") == {
        "prices": ["log_return_sum_3h"], "whales": ["whale_inflow_count_2h"],
        "flows": ["whale_outflow_count_2h", "log_return_std_4h"]}


def test_duplicate_feature_names_are_rejected():
    spec = {"source": "prices", "agg": "sum", "column": "log_return", "window": 3}
    with pytest.raises(InputError, match="log_return_sum_3h.*twice"):
        feature_specs.parse_specs([spec, spec])


def test_too_few_hours_for_the_longest_window():
    prices, whales = clean_market(small_market(hours=24))
    with pytest.raises(InputError, match="24 hourly bars, but the longest feature lookback needs 25"):
        feature_table.build_feature_table(prices, whales, default_specs())


def test_a_report_delay_moves_a_transfer_to_the_first_row_at_which_it_was_known():
    prices, whales = clean_market(small_market(hours=80))
    t = prices["timestamp"].iloc[40] + HOUR
    late = add_transfers(whales.iloc[:0], [(t - pd.Timedelta(seconds=30), "unknown", "exchange", 1e6)])
    specs = feature_specs.parse_specs([{"source": "whales", "filter": "inflow", "agg": "count", "window": 1}])

    def rows_counting_it(delay_seconds):
        table = feature_table.build_feature_table(prices, late, specs, report_delay=pd.Timedelta(seconds=delay_seconds))
        return table.loc[table.iloc[:, 1] == 1, "timestamp"].tolist()

    assert rows_counting_it(0) == [t]
    assert rows_counting_it(30) == [t]  # known exactly at T
    assert rows_counting_it(31) == [t + HOUR]


@pytest.mark.parametrize("cutoff_hours", [100.0, 100.5, 100.75])
def test_with_delays_rows_depend_only_on_events_known_by_then(cutoff_hours):
    market = small_market(hours=200)
    (prices, whales), events = clean_market(market), clean_events(market)
    whale_delay, news_delay = pd.Timedelta(minutes=20), {"news": pd.Timedelta(minutes=45)}
    specs = default_specs()
    full = feature_table.build_feature_table(prices, whales, specs, report_delay=whale_delay, events_table=events,
                                        event_delays=news_delay)
    cutoff = prices["timestamp"].iloc[0] + pd.Timedelta(hours=cutoff_hours)
    known_prices = prices[prices["timestamp"] + HOUR <= cutoff]
    known_whales = whales[whales["timestamp"] + whale_delay <= cutoff]
    known_events = events[events["timestamp"] + news_delay["news"] <= cutoff]
    partial = feature_table.build_feature_table(known_prices, known_whales, specs, report_delay=whale_delay,
                                           events_table=known_events, event_delays=news_delay)
    pd.testing.assert_frame_equal(partial, full[full["timestamp"] <= cutoff].reset_index(drop=True), check_exact=True)
    # The delay matters: without it, the last row would already count items the cut-off does not know.
    undelayed = feature_table.build_feature_table(prices, whales, specs, report_delay=whale_delay, events_table=events,
                                             event_delays={"news": pd.Timedelta(0)})
    news_columns = [spec.name for spec in specs if spec.source == "news"]
    assert not undelayed[news_columns].equals(full[news_columns])




# --- edges, in-process (mutation testing counts only tests that call the package in this process) -----------

START = pd.Timestamp("2024-01-01", tz="UTC")
MINUTE = pd.Timedelta(minutes=1)


def hand_made_bars(closes, filled=()):
    """Hourly bars opening at START: high/low 1% around the close, volume 1, 2, 3, ..."""
    close = np.array(closes, dtype=float)
    return pd.DataFrame({"timestamp": START + HOUR * np.arange(len(close)), "open": close, "high": close * 1.01,
                         "low": close * 0.99, "close": close, "volume": np.arange(1.0, len(close) + 1),
                         "filled": [index in filled for index in range(len(close))]})


def hand_made_transfers(rows):
    """Transfers given as (timestamp, from_owner_type, to_owner_type, amount_usd), in the featurize input layout."""
    whales = pd.DataFrame(rows, columns=["timestamp", "from_owner_type", "to_owner_type", "amount_usd"])
    whales["amount"] = whales["amount_usd"] / 1000
    whales["transaction_type"] = "transfer"
    return whales[feature_table.WHALE_INPUT_COLUMNS]


def messages(caplog, logger="whalecast.features.feature_table"):
    return [record.getMessage() for record in caplog.records if record.name == logger]


def test_whale_windows_that_empty_return_to_exactly_zero_and_the_mean_of_no_transfer_is_zero(caplog):
    prices = hand_made_bars([100, 101, 102, 101, 100, 99, 98, 97], filled={3})
    whales = hand_made_transfers([
        (START + 30 * MINUTE, "unknown", "exchange", 1_000_000.1),       # row T = 01:00
        (START + 70 * MINUTE, "unknown", "exchange", 2_000_000.2),       # row 02:00
        (START + 80 * MINUTE, "exchange", "unknown", 500_000.0),         # row 02:00
        (START + 2 * HOUR, "exchange", "exchange", 3_000_000.0),         # exactly at 02:00: row 02:00
        (START - HOUR, "unknown", "exchange", 9e6),                      # before the first bar: ignored
        (START - 2 * HOUR, "unknown", "exchange", 9e6),                  # before the first bar: ignored
    ])
    specs = feature_specs.parse_specs([
        {"source": "whales", "filter": "inflow", "agg": "mean", "column": "amount_usd", "window": 2},
        {"source": "whales", "filter": "inflow", "agg": "sum", "column": "amount_usd", "window": 2},
        {"source": "whales", "filter": "all", "agg": "count", "window": 2},
        {"source": "whales", "filter": "outflow", "agg": "max", "column": "amount_usd", "window": 2},
        {"source": "whales", "filter": "net_inflow", "agg": "sum", "column": "amount", "window": 2},
    ])
    with caplog.at_level("INFO", logger="whalecast"):
        table = feature_table.build_feature_table(prices, whales, specs)
    assert table["timestamp"].tolist() == list(START + HOUR * np.arange(2, 9))  # one warm-up row dropped
    values = table.drop(columns="timestamp").to_numpy()
    assert values[0].tolist() == pytest.approx([1_500_000.15, 3_000_000.3, 4, 500_000.0, 2_500.0003], rel=1e-12)
    assert values[1].tolist() == pytest.approx([2_000_000.2, 2_000_000.2, 3, 500_000.0, 1_500.0002], rel=1e-12)
    assert (values[2:] == 0.0).all()  # exactly 0: no float dust once every transfer has left the window
    assert messages(caplog) == [
        "features: 7 rows x 5 features, 1 warm-up rows dropped (longest lookback 2 h), 1 filled (missing) bars in "
        "the input, 4 whale records in range, 2 outside the price range ignored",
        "features: whale transfers span 2023-12-31 22:00 .. 2024-01-01 02:00; 6 of 7 rows lie outside that span",
    ]


def test_a_price_window_over_equal_values_has_a_standard_deviation_of_exactly_zero():
    prices = hand_made_bars([100, 103, 100, 100, 100, 100, 100])  # a spike, then flat
    specs = feature_specs.parse_specs([{"source": "prices", "agg": "std", "column": "log_return", "window": 2},
                                  {"source": "prices", "agg": "max", "column": "high_low_range", "window": 1},
                                  {"source": "prices", "agg": "min", "column": "log_volume_change", "window": 1}])
    table = feature_table.build_feature_table(prices, hand_made_transfers([]), specs)
    spike = math.log(1.03)
    # returns +spike, -spike, 0, 0, ...: windows of two returns
    assert table["log_return_std_2h"].tolist()[:2] == pytest.approx([math.sqrt(2) * spike, spike / math.sqrt(2)])
    assert table["log_return_std_2h"].tolist()[2:] == [0.0, 0.0, 0.0]
    assert table["high_low_range_max_1h"].tolist() == pytest.approx([math.log(1.01 / 0.99)] * 5, rel=1e-12)
    # volume 1, 2, 3, ...: log(1 + v) - log(v) at the rows 2 .. 6 (volume 3 .. 7)
    assert table["log_volume_change_min_1h"].tolist() == pytest.approx(
        [math.log1p(v) - math.log1p(v - 1) for v in (3, 4, 5, 6, 7)], rel=1e-12)


def test_without_any_whale_transfer_the_features_say_so(caplog):
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 1}])
    with caplog.at_level("INFO", logger="whalecast"):
        table = feature_table.build_feature_table(hand_made_bars([100, 101]), hand_made_transfers([]), specs)
    assert table["whale_all_count_1h"].tolist() == [0.0, 0.0]
    assert messages(caplog)[1:] == ["features: no whale transfers at all: "
                                    "every whale feature has its empty-window value"]
    assert [record.levelname for record in caplog.records if record.name == "whalecast.features.feature_table"] == ["INFO", "WARNING"]


@pytest.mark.parametrize("bar_hours", [
    [0, 1, 2, 4, 5],   # one hour missing
    [0, 3],            # a gap of two bars, in a table of two
    [0, 2, 1, 3],      # out of order
    [0, 1, 1, 2],      # an hour twice
])
def test_bars_off_the_hourly_grid_are_refused(bar_hours):
    prices = hand_made_bars([100.0] * len(bar_hours))
    prices["timestamp"] = START + HOUR * np.array(bar_hours)
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 1}])
    with pytest.raises(InputError) as raised:
        feature_table.build_feature_table(prices, hand_made_transfers([]), specs)
    assert str(raised.value) == "prices: bars are not a complete, sorted hourly grid (re-run ingest)"


def test_one_bar_more_than_the_longest_lookback_gives_one_row():
    specs = feature_specs.parse_specs([{"source": "prices", "agg": "sum", "column": "log_return", "window": 3}])
    table = feature_table.build_feature_table(hand_made_bars([100, 101, 102, 103]), hand_made_transfers([]), specs)
    assert table["timestamp"].tolist() == [START + 4 * HOUR]
    assert table["log_return_sum_3h"].tolist() == pytest.approx([math.log(103 / 100)], rel=1e-12)
    with pytest.raises(InputError) as raised:
        feature_table.build_feature_table(hand_made_bars([100, 101, 102]), hand_made_transfers([]), specs,
                                     prices_source="data/interim/prices/BTC.parquet")
    assert str(raised.value) == ("data/interim/prices/BTC.parquet: 3 hourly bars, but the longest feature lookback "
                                 "needs 4")


@pytest.mark.parametrize("raw, expected", [
    ({"source": "whales", "agg": "count", "window": 1},
     feature_specs.FeatureSpec("whales", "count", 1, None, "all", "whale_all_count_1h", "transfer", "whales")),
    ({"source": "whales", "filter": "net_inflow", "agg": "sum", "column": "amount", "window": 24,
      "transaction_type": "  Mint ", "group": " flows "},
     feature_specs.FeatureSpec("whales", "sum", 24, "amount", "net_inflow", "whale_mint_net_inflow_sum_amount_24h", "mint",
                          "flows")),
    ({"source": "whales", "filter": "exchange_to_exchange", "agg": "max", "column": "amount_usd", "window": 2,
      "name": "largest"},
     feature_specs.FeatureSpec("whales", "max", 2, "amount_usd", "exchange_to_exchange", "largest", "transfer", "whales")),
    ({"source": "prices", "agg": "std", "column": "log_return", "window": 2, "name": ""},
     feature_specs.FeatureSpec("prices", "std", 2, "log_return", None, "log_return_std_2h", None, "prices")),
    ({"source": "prices", "agg": "min", "column": "filled", "window": 1},
     feature_specs.FeatureSpec("prices", "min", 1, "filled", None, "filled_min_1h", None, "prices")),
])
def test_a_spec_is_read_with_its_defaults(raw, expected):
    assert feature_specs.parse_specs([raw]) == [expected]


@pytest.mark.parametrize("raw_specs", [{"source": "prices"}, [], None, "features"])
def test_the_features_must_be_a_non_empty_list(raw_specs):
    with pytest.raises(InputError) as raised:
        feature_specs.parse_specs(raw_specs)
    assert str(raised.value) == "params.yaml: features must be a non-empty list of feature specs"


PRICE_SPEC = {"source": "prices", "agg": "sum", "column": "log_return", "window": 3}


@pytest.mark.parametrize("raw, problem", [
    ("log_return", "a feature spec must be a mapping"),
    ({**PRICE_SPEC, "lag": 2, "offset": 1}, f"unknown key 'lag' (allowed: {', '.join(sorted(feature_specs.SPEC_KEYS))})"),
    ({**PRICE_SPEC, "window": True}, "window must be a whole number of hours >= 1, got True"),
    ({**PRICE_SPEC, "window": 0}, "window must be a whole number of hours >= 1, got 0"),
    ({**PRICE_SPEC, "window": 2.0}, "window must be a whole number of hours >= 1, got 2.0"),
    ({**PRICE_SPEC, "filter": "inflow"}, "filter applies to whale features only"),
    ({**PRICE_SPEC, "column": "close"},
     "column must be one of log_return, log_volume_change, high_low_range, filled, got 'close'"),
    ({**PRICE_SPEC, "agg": "count"}, "agg must be one of sum, mean, std, min, max, got 'count'"),
    ({**PRICE_SPEC, "name": 5}, "name must be text, got 5"),
    ({**PRICE_SPEC, "group": 7}, "group must be a name such as prices or whales, got 7"),
    ({"source": "whales", "agg": "sum", "column": "usd", "window": 3},
     "column must be one of amount_usd, amount, got 'usd'"),
    ({"source": "whales", "agg": "median", "column": "amount", "window": 3},
     f"agg must be one of {', '.join(feature_specs.WHALE_AGGS)}, got 'median'"),
    ({"source": "whales", "filter": "in", "agg": "count", "window": 3},
     "filter must be one of all, inflow, outflow, exchange_to_exchange, net_inflow, got 'in'"),
    ({"source": "whales", "agg": "count", "window": 3, "transaction_type": 3},
     "transaction_type must be a Whale Alert type such as transfer, mint or burn, or any; got 3"),
    ({"source": "whales", "agg": "count", "window": 3, "transaction_type": "  "},
     "transaction_type must be a Whale Alert type such as transfer, mint or burn, or any; got ' '"),  # one line
    ({"agg": "sum", "window": 3},
     "source must be 'whales', 'prices' or another source declared under `sources`, got None"),
    ({**PRICE_SPEC, "agg": "std", "window": 1}, "agg std needs a window of at least 2 hours"),
])
def test_a_bad_spec_is_named_with_its_key_and_value(raw, problem):
    with pytest.raises(InputError) as raised:
        feature_specs.parse_specs([PRICE_SPEC, raw])
    assert str(raised.value) == f"params.yaml: features[1]: {problem}"


def test_net_inflow_is_refused_for_an_aggregation_that_does_not_sum_signed_flows():
    with pytest.raises(InputError, match=r"^params.yaml: features\[1\]: filter net_inflow \(inflow minus outflow\) "
                                         r"only supports agg: sum"):
        feature_specs.parse_specs([PRICE_SPEC, {"source": "whales", "filter": "net_inflow", "agg": "count", "window": 3}])


def test_a_feature_named_timestamp_is_refused_naming_its_index():
    with pytest.raises(InputError) as raised:
        feature_specs.parse_specs([PRICE_SPEC, {**PRICE_SPEC, "window": 2, "name": "timestamp"}], source="params-test.yaml")
    assert str(raised.value) == "params-test.yaml: features[1]: the name 'timestamp' is the row key"


def test_a_name_declared_twice_is_named_once():
    with pytest.raises(InputError) as raised:
        feature_specs.parse_specs([PRICE_SPEC, {**PRICE_SPEC, "window": 4, "name": "log_return_sum_3h"}, PRICE_SPEC])
    assert str(raised.value) == "params.yaml: feature name 'log_return_sum_3h' is declared twice"


@pytest.mark.parametrize("value, delay", [
    (0, pd.Timedelta(0)), (0.5, pd.Timedelta(milliseconds=500)), (60, pd.Timedelta(minutes=1)),
    (2_592_000, pd.Timedelta(days=30)),
])
def test_report_delays_from_zero_to_thirty_days_are_accepted(value, delay):
    assert settings.load(ReportDelay, {"whale_report_delay_seconds": value}).delay == delay


@pytest.mark.parametrize("value, problem", [
    (2_592_001, "must be in 0..2592000 (30 days), got 2592001"), (-1, "must be in 0..2592000 (30 days), got -1"),
    (-0.5, "must be in 0..2592000 (30 days), got -0.5"), (True, "must be float, got True"),
    ("60", "must be float, got '60'"), (None, "must be float, got None")])
def test_a_report_delay_outside_thirty_days_or_not_a_number_is_refused_showing_the_value(value, problem):
    with pytest.raises(InputError) as raised:
        settings.load(ReportDelay, {"whale_report_delay_seconds": value})
    assert str(raised.value) == f"params.yaml: whale_report_delay_seconds {problem}"


def test_a_missing_report_delay_is_named():
    with pytest.raises(InputError) as raised:
        settings.load(ReportDelay, {})
    assert str(raised.value) == "params.yaml: whale_report_delay_seconds is missing"


def test_a_transaction_type_whale_alert_does_not_report_is_refused_listing_the_types_in_the_data():
    whales = hand_made_transfers([(START + 10 * MINUTE, "unknown", "exchange", 1e6),
                                  (START + 20 * MINUTE, "unknown", "exchange", 2e6),
                                  (START + 30 * MINUTE, "unknown", "unknown", 3e6)])
    whales["transaction_type"] = ["transfer", "burn", "transfer"]
    specs = feature_specs.parse_specs([PRICE_SPEC, {"source": "whales", "agg": "count", "window": 1},
                                  {"source": "whales", "agg": "count", "window": 1, "transaction_type": "burns"}])
    with pytest.raises(InputError) as raised:
        feature_table.build_feature_table(hand_made_bars([100, 101, 102, 103]), whales, specs)
    assert str(raised.value) == ("params.yaml: feature whale_burns_all_count_1h: transaction_type 'burns' matches no "
                                 "whale record and is no Whale Alert type (types in the data: transfer 2, burn 1)")


def test_a_whale_alert_type_absent_from_the_data_is_a_warning_and_a_column_of_zeros(caplog):
    whales = hand_made_transfers([(START + 10 * MINUTE, "unknown", "exchange", 1e6)])
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 1, "transaction_type": "unlock"},
                                  {"source": "whales", "agg": "count", "window": 1}])
    with caplog.at_level("WARNING", logger="whalecast"):
        table = feature_table.build_feature_table(hand_made_bars([100, 101]), whales, specs)
    assert table["whale_unlock_all_count_1h"].tolist() == [0.0, 0.0]
    assert table["whale_all_count_1h"].tolist() == [1.0, 0.0]
    assert messages(caplog) == ["features: feature whale_unlock_all_count_1h: no whale record is a unlock, so the "
                                "column is 0 (types in the data: transfer 1)"]


def test_a_rolling_standard_deviation_over_equal_values_is_exactly_zero():
    """pandas' online variance leaves about 3e-10 here once the moves have left the window; equal values are 0."""
    closes = [100.0, 104.08, 107.25, 107.14, 107.14, 107.14, 107.14, 107.14]
    specs = feature_specs.parse_specs([{"source": "prices", "agg": "std", "column": "log_return", "window": 3}])
    table = feature_table.build_feature_table(hand_made_bars(closes), hand_made_transfers([]), specs)
    returns = np.diff(np.log(closes))
    assert table["log_return_std_3h"].tolist()[:3] == pytest.approx(
        [statistics.stdev(returns[start:start + 3]) for start in range(3)], rel=1e-12)
    assert table["log_return_std_3h"].tolist()[3:] == [0.0, 0.0]


def test_rows_at_the_first_and_last_transfer_are_inside_the_whale_span(caplog):
    whales = hand_made_transfers([(START + 3 * HOUR, "unknown", "exchange", 1e6),
                                  (START + 6 * HOUR, "unknown", "exchange", 1e6)])
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 1}])
    with caplog.at_level("INFO", logger="whalecast"):
        table = feature_table.build_feature_table(hand_made_bars([100.0] * 8), whales, specs)
    assert table["timestamp"].tolist() == list(START + HOUR * np.arange(1, 9))
    # rows 01:00, 02:00, 07:00 and 08:00 lie outside 03:00 .. 06:00; 03:00 and 06:00 are inside
    assert messages(caplog)[-1] == ("features: whale transfers span 2024-01-01 03:00 .. 2024-01-01 06:00; 4 of 8 rows "
                                    "lie outside that span")


@pytest.mark.parametrize("raw, expected", [
    ({"source": "whales", "filter": "net_inflow", "agg": "decayed_sum", "column": "amount", "window": 3,
      "half_life": 1.5},
     feature_specs.FeatureSpec("whales", "decayed_sum", 3, "amount", "net_inflow",
                          "whale_net_inflow_decayed_sum_amount_half_life_1.5h_3h", "transfer", "whales", 0.0, 1.5,
                          None)),
    ({"source": "whales", "agg": "weighted_mean", "column": "amount", "weight": "amount_usd", "window": 3, "fill": -1},
     feature_specs.FeatureSpec("whales", "weighted_mean", 3, "amount", "all",
                          "whale_all_weighted_mean_amount_by_amount_usd_3h", "transfer", "whales", -1.0, None,
                          "amount_usd")),
    ({"source": "whales", "agg": "min", "column": "amount", "window": 3, "fill": 2},
     feature_specs.FeatureSpec("whales", "min", 3, "amount", "all", "whale_all_min_amount_3h", "transfer", "whales", 2.0)),
    ({"source": "whales", "agg": "hours_since", "window": 3, "column": "amount"},
     feature_specs.FeatureSpec("whales", "hours_since", 3, None, "all", "whale_all_hours_since_3h", "transfer", "whales")),
])
def test_the_options_of_an_event_aggregation_are_read_into_the_spec_and_its_name(raw, expected):
    [spec] = feature_specs.parse_specs([raw])
    assert spec == expected
    assert isinstance(spec.fill, float) and (spec.half_life is None or isinstance(spec.half_life, float))


EVENT_SPEC = {"source": "whales", "column": "amount", "window": 3}


@pytest.mark.parametrize("raw, problem", [
    ({**EVENT_SPEC, "agg": "count", "fill": 1}, "fill applies to agg mean, max, min, weighted_mean only, not count"),
    ({**EVENT_SPEC, "agg": "sum", "half_life": 2}, "half_life applies to agg decayed_sum only, not sum"),
    ({**EVENT_SPEC, "agg": "mean", "weight": "amount_usd"}, "weight applies to agg weighted_mean only, not mean"),
    ({**EVENT_SPEC, "agg": "decayed_sum"}, "half_life must be a positive number, got None"),
    ({**EVENT_SPEC, "agg": "decayed_sum", "half_life": 0}, "half_life must be a positive number, got 0"),
    ({**EVENT_SPEC, "agg": "decayed_sum", "half_life": True}, "half_life must be a positive number, got True"),
    ({**EVENT_SPEC, "agg": "decayed_sum", "half_life": math.inf}, "half_life must be a positive number, got inf"),
    ({**EVENT_SPEC, "agg": "decayed_sum", "half_life": "2"}, "half_life must be a positive number, got '2'"),
    ({**EVENT_SPEC, "agg": "weighted_mean"}, "weight must be one of amount_usd, amount, got None"),
    ({**EVENT_SPEC, "agg": "weighted_mean", "weight": "votes"},
     "weight must be one of amount_usd, amount, got 'votes'"),
    ({**EVENT_SPEC, "agg": "mean", "fill": "none"}, "fill must be a number, got 'none'"),
    ({**EVENT_SPEC, "agg": "mean", "fill": math.nan}, "fill must be a number, got nan"),
    ({**PRICE_SPEC, "fill": 0}, "fill applies to event features (whales) only"),
    ({**PRICE_SPEC, "half_life": 1}, "half_life applies to event features (whales) only"),
    ({**PRICE_SPEC, "weight": "amount"}, "weight applies to event features (whales) only"),
])
def test_an_event_option_where_its_aggregation_does_not_read_it_or_of_the_wrong_kind_is_named(raw, problem):
    with pytest.raises(InputError) as raised:
        feature_specs.parse_specs([PRICE_SPEC, raw])
    assert str(raised.value) == f"params.yaml: features[1]: {problem}"


def test_news_specs_and_items_leave_every_other_column_as_it_was():
    # Switching news on adds columns and changes nothing else, bit for bit (its streams are separate, and with
    # news_effect 0 the market is the same).
    market = small_market(hours=200)
    (prices, whales), events = clean_market(market), clean_events(market)
    specs = default_specs()
    others = [spec for spec in specs if spec.source != "news"]
    with_news = feature_table.build_feature_table(prices, whales, specs, events_table=events)
    without = feature_table.build_feature_table(prices, whales, others)
    assert len(others) < len(specs)
    pd.testing.assert_frame_equal(with_news[without.columns], without, check_exact=True)
    quiet_market = small_market(hours=200, news_per_day=0, market_wide_news_per_day=0)
    pd.testing.assert_frame_equal(feature_table.build_feature_table(*clean_market(quiet_market), others), without,
                                  check_exact=True)


# A decayed sum of random events over 24-hour windows, as bytes (hex); argv: none.
DECAYED_SUM_BYTES = """
import numpy as np
from whalecast.features import window_engine
rng = np.random.default_rng(7)
hours, count = 2000, 6000
buckets = window_engine.EventBuckets(np.sort(rng.integers(0, hours * window_engine.HOUR_NS, count)), window_engine.HOUR_NS, hours)
values = buckets.select(rng.normal(0.0, 0.5, count))
selection = window_engine.Selection(buckets, np.ones(buckets.in_range_count))
print(window_engine.aggregate(selection, "decayed_sum", 24, values, "sentiment", half_life_hours=3.0).tobytes().hex())
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="OpenBLAS's x86-64 kernel names")
def test_a_decayed_sum_does_not_depend_on_the_blas_kernel(monkeypatch):
    """The BLAS picks its dot-product kernel by the CPU (an AVX-512 one where it can), and kernels add in different
    orders. OPENBLAS_CORETYPE, which whalecast never sets, stands in for another CPU here: Prescott's SSE3 kernel
    runs on every x86-64 machine. (Run in the project, where the mutation run's copy of the package finds its
    configuration.)"""
    sums = {}
    for core in ("", "Prescott"):
        monkeypatch.setenv("OPENBLAS_CORETYPE", core)
        sums[core] = run([sys.executable, "-c", DECAYED_SUM_BYTES], REPO).stdout
    assert sums[""] == sums["Prescott"]
