"""Every price and news feature the specs allow, the default specs and the spec parser, against the naive reference
of feature_reference.py (which these tests check first against values worked out by hand); random bars by
hypothesis."""

import math

import pandas as pd
import pytest
from hypothesis import given

from conftest import clean_events, clean_market, small_market
from unit.feature_reference import (HOUR, NEWS_SPECS, PRICE_SPECS, PROPERTY_SETTINGS, REFUSED_PRICE_SPECS,
                                    REFUSED_WHALE_SPECS, SECOND, START, WHALE_SPECS, Reference,
                                    assert_matches_reference, default_specs, edge_news, edge_prices, edge_whales,
                                    hourly_bars, price_specs_of)
from whalecast.errors import InputError
from whalecast.features import feature_specs, feature_table


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


# --- property-based: random bars -------------------------------------------------------------------------------

def no_whales():
    return pd.DataFrame(columns=feature_table.WHALE_INPUT_COLUMNS).astype(
        {"timestamp": "datetime64[ns, UTC]", "amount": float, "amount_usd": float})


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
