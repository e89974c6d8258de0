"""The sample market: deterministic, with the stylised facts of crypto, and a whale effect only when planted."""

import numpy as np
import pandas as pd
import pytest

from conftest import small_market
from whalecast.data import sample_market


def test_same_seed_same_market_and_other_seed_other_market():
    first, again, other = small_market(seed=5), small_market(seed=5), small_market(seed=6)
    pd.testing.assert_frame_equal(first.prices, again.prices)
    pd.testing.assert_frame_equal(first.whales, again.whales)
    assert not np.allclose(first.prices["close"], other.prices["close"])


@pytest.fixture(scope="module")
def year():
    return small_market(hours=24 * 365, seed=3)


def test_returns_are_fat_tailed_and_volatility_clusters(year):
    returns = np.log(year.prices["close"]).diff().dropna()
    assert returns.kurt() > 3  # excess kurtosis; a normal distribution has 0
    assert returns.abs().autocorr(1) > 0.1
    assert abs(returns.autocorr(1)) < 0.1  # ... while returns themselves are close to uncorrelated


def test_volume_rises_with_volatility(year):
    prices = year.prices
    absolute_returns = np.log(prices["close"] / prices["open"]).abs()
    assert np.corrcoef(np.log(prices["volume"]), absolute_returns)[0, 1] > 0.3


def test_bars_are_consistent_hourly_ohlc(year):
    prices = year.prices
    assert (prices["timestamp"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert (prices["high"] >= prices[["open", "close"]].max(axis=1)).all()
    assert (prices["low"] <= prices[["open", "close"]].min(axis=1)).all()
    assert (prices["open"].iloc[1:].to_numpy() == prices["close"].iloc[:-1].to_numpy()).all()


def test_whale_transfers_look_like_whale_alert(year):
    whales = year.whales
    assert whales["amount_usd"].min() >= sample_market.MIN_TRANSFER_USD
    assert whales["amount_usd"].max() > 50 * whales["amount_usd"].median()  # heavy tail
    seconds = whales["timestamp"].dt.second + 60 * whales["timestamp"].dt.minute
    assert (seconds != 0).mean() > 0.99  # second resolution, not on a grid
    assert set(whales["from_owner_type"]) == set(whales["to_owner_type"]) == {"exchange", "unknown"}
    assert set(whales["symbol"]) == {"btc"} and whales["hash"].str.len().eq(64).all()
    per_hour = whales["timestamp"].dt.floor("h").value_counts().reindex(year.prices["timestamp"], fill_value=0)
    assert per_hour.var() > 1.2 * per_hour.mean()  # arrivals cluster (a constant-rate Poisson has var == mean)


def next_hour_return_vs_net_inflow(market):
    """Rank correlation of the bar's return with the net exchange inflow count of the 6 h before it opened."""
    whales, prices = market.whales, market.prices
    direction = np.select([whales["to_owner_type"].eq("exchange") & whales["from_owner_type"].ne("exchange"),
                           whales["from_owner_type"].eq("exchange") & whales["to_owner_type"].ne("exchange")], [1, -1], 0)
    hourly = pd.Series(direction, index=whales["timestamp"].dt.floor("h")).groupby(level=0).sum()
    hourly = hourly.reindex(prices["timestamp"], fill_value=0)
    before_open = hourly.rolling(6).sum().shift(1).to_numpy()
    bar_return = np.log(prices["close"] / prices["open"]).to_numpy()
    usable = ~np.isnan(before_open)
    return pd.Series(before_open[usable]).corr(pd.Series(bar_return[usable]), method="spearman")


def test_planted_whale_effect_is_there_only_when_asked_for():
    planted = next_hour_return_vs_net_inflow(small_market(hours=24 * 365, seed=4, whale_effect=0.15))
    absent = next_hour_return_vs_net_inflow(small_market(hours=24 * 365, seed=4, whale_effect=0.0))
    assert planted < -0.05
    assert abs(absent) < 0.03
