"""Every whale feature the specs allow against the naive reference of feature_reference.py: on hand-made events on
every window edge, and on random events (hypothesis)."""

from itertools import product

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from unit.feature_reference import (FLOWS, HOUR, OWNER_TYPES, PROPERTY_SETTINGS, SECOND, START, TYPES_IN_DATA,
                                    WHALE_SPECS, assert_matches_reference, edge_prices, edge_whales, flow_of,
                                    hourly_bars)
from whalecast.features import feature_table


# --- hand-made events on every window edge ---------------------------------------------------------------------

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


@pytest.mark.parametrize("report_delay_seconds", [0, 90, 5 * 3600 + 90])
def test_every_whale_combination_matches_the_reference_on_the_window_edges(report_delay_seconds):
    # Whale specs alone: the warm-up is then 4 rows, so the first row's 5 h window starts exactly at the first
    # bar's open, and events just before and at it must stay out.
    assert_matches_reference(edge_prices(), edge_whales(report_delay_seconds), WHALE_SPECS, report_delay_seconds)


# --- property-based: random events -----------------------------------------------------------------------------

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


report_delays = st.one_of(st.just(0), st.sampled_from([1, 90, 3600, 5 * 3600 + 90]), st.integers(0, 6 * 3600))


@PROPERTY_SETTINGS
@given(data=st.data(), report_delay_seconds=report_delays)
def test_random_whale_events_match_the_reference_for_every_whale_combination(data, report_delay_seconds):
    prices = data.draw(hourly_bars(5, 14), label="prices")
    whales = data.draw(whale_events(len(prices), report_delay_seconds), label="whales")
    # A Whale Alert type the drawn set lacks gives a column of zeros (with a warning), as the reference does.
    assert_matches_reference(prices, whales, WHALE_SPECS, report_delay_seconds)
