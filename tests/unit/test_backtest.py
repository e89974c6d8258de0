"""The backtest rules on hand-computed examples: positions, fees, compounding and every reported measure."""

import math

import numpy as np
import pandas as pd
import pytest

from whalecast.evaluation import backtest, uncertainty

RULES = backtest.BacktestSettings(upper=0.55, lower=0.45, long_only=False, fee_bps=10)
START = pd.Timestamp("2024-03-01 22:00", tz="UTC")


def predictions_frame(closes, next_closes):
    times = START + pd.to_timedelta(np.arange(len(closes)), unit="h")
    return pd.DataFrame({"timestamp": times, "close": closes, "next_close": next_closes})


def test_positions_follow_the_thresholds_inclusively():
    p_down = np.array([0.9, 0.55, 0.5499, 0.45, 0.4501, 0.1])
    np.testing.assert_array_equal(backtest.positions(p_down, RULES), [-1, -1, 0, 1, 0, 1])
    long_only = backtest.BacktestSettings(upper=0.55, lower=0.45, long_only=True, fee_bps=10)
    np.testing.assert_array_equal(backtest.positions(p_down, long_only), [0, 0, 0, 1, 0, 1])
    always_in = backtest.BacktestSettings(upper=0.5, lower=0.5, long_only=False, fee_bps=0)
    np.testing.assert_array_equal(backtest.positions(np.array([0.5, 0.49]), always_in), [-1, 1])


def test_a_hand_computed_strategy():
    # Decisions at T0..T3: short, long, flat, long; the price goes 100 -> 101 -> 99 -> 99 -> 100.
    closes, next_closes = np.array([100, 101, 99, 99.0]), np.array([101, 99, 99, 100.0])
    position = backtest.positions(np.array([0.6, 0.4, 0.5, 0.3]), RULES)
    asset = next_closes / closes - 1
    fee = 0.001
    net = [-0.01 - fee, -(2 / 101) - 2 * fee, 0.0 - fee, (1 / 99) - fee]  # fees on changes of 1, 2, 1, 1
    equity = np.cumprod([1 + r for r in net])
    weights = np.ones((1, 4), dtype=np.int32)
    result = backtest.strategy_metrics(position, asset, RULES.fee_bps, weights)
    assert result["total_return"] == pytest.approx(equity[-1] - 1)
    assert result["total_return_before_fees"] == pytest.approx((1 - 0.01) * (1 - 2 / 101) * (1 + 1 / 99) - 1)
    assert result["annualised_sharpe"] == pytest.approx(np.mean(net) / np.std(net, ddof=1) * math.sqrt(8760))
    assert result["max_drawdown"] == pytest.approx(1 - min(equity))  # the start, 1, is the peak
    assert (result["turnover"], result["n_trades"], result["exposure"]) == (5.0, 4, 0.75)
    assert result["hit_rate"] == pytest.approx(1 / 3)  # of the three hours in a position, only the last gained
    assert result["break_even_fee_bps"] < 0  # it loses even before fees


@pytest.mark.parametrize("foresight", [20, 0])
def test_at_the_break_even_fee_the_compounded_return_after_fees_is_zero(foresight):
    random = np.random.default_rng(3)
    asset = random.normal(0, 0.01, 500)
    position = backtest.positions(0.5 - asset * foresight + random.normal(0, 0.1, 500), RULES)  # peeks at the future
    fee = backtest.break_even_fee_bps(position, asset)
    assert (fee > 0) == (np.prod(1 + position * asset) > 1)  # positive exactly when it gains before fees
    _, net = backtest.hourly_returns(position, asset, fee)
    assert np.prod(1 + net) == pytest.approx(1, abs=1e-9)
    _, net = backtest.hourly_returns(position, asset, fee + 1)
    assert np.prod(1 + net) < 1


def test_buy_and_hold_breaks_even_at_its_gain_before_fees():
    asset = np.full(10, 0.01)  # +10.5% in ten hours, one entry
    assert backtest.break_even_fee_bps(np.ones(10), asset) == pytest.approx((1.01 ** 10 - 1) / 1.01 ** 9 * 1e4)


def test_a_strategy_that_never_trades():
    result = backtest.strategy_metrics(np.zeros(50), np.full(50, 0.01), 10, np.ones((3, 50), dtype=np.int32))
    assert result["total_return"] == 0 and result["annualised_sharpe"] == 0 and result["max_drawdown"] == 0
    assert result["hit_rate"] is None and result["break_even_fee_bps"] is None and result["n_trades"] == 0


def test_run_adds_buy_and_hold_and_daily_equity():
    hours = 72
    closes = 100 * np.cumprod(np.r_[1, np.full(hours, 1.001)])
    frame = predictions_frame(closes[:-1], closes[1:])
    p_down = np.where(np.arange(hours) % 2 == 0, 0.3, 0.5)  # long every other hour, flat between
    weights = uncertainty.resample_weights(hours, uncertainty.BootstrapSettings(seed=1, resamples=1000, block_days=1))
    document, equity = backtest.run(frame, {"model": p_down}, RULES, weights)
    assert list(document) == ["model", "buy_and_hold"]
    held = document["buy_and_hold"]
    assert held["n_trades"] == 1 and held["exposure"] == 1
    # The entry fee comes off the first hour's return; the position is never closed.
    assert held["total_return"] == pytest.approx((1 + 0.001 - 0.001) * 1.001 ** 71 - 1)
    assert document["model"]["n_trades"] == 72 and document["model"]["exposure"] == 0.5
    # Equity 1 at the first decision, then at the last close of each UTC day: decisions from 22:00 on day 1.
    assert equity["timestamp"].dt.strftime("%m-%d %H:%M").tolist() == ["03-01 22:00", "03-01 23:00", "03-02 23:00",
                                                                        "03-03 23:00", "03-04 22:00"]
    assert equity["day"].tolist() == pytest.approx([0, 1 / 24, 1 + 1 / 24, 2 + 1 / 24, 3], abs=1e-4)
    assert (equity.iloc[0, 2:] == 1).all()
    assert equity["buy_and_hold"].iloc[-1] == pytest.approx(1 + held["total_return"])
    assert list(equity.columns) == ["day", "timestamp", "model", "buy_and_hold"]


@pytest.mark.parametrize("settings,message", [
    (dict(upper=0.4, lower=0.6, long_only=False, fee_bps=10), r"needs lower <= upper \(P\(down\) thresholds\), got "
                                                              r"lower 0.6 and upper 0.4"),
    (dict(upper=1.2, lower=0.4, long_only=False, fee_bps=10), r"upper must be a share in 0..1, got 1.2"),
    (dict(upper=0.6, lower=-0.1, long_only=False, fee_bps=10), r"lower must be a share in 0..1, got -0.1"),
    (dict(upper=0.6, lower=0.4, long_only=False, fee_bps=-1), "fee_bps must be at least 0, got -1"),
])
def test_settings_are_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        backtest.BacktestSettings(**settings)
