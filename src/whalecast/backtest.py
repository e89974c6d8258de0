"""A fee-aware backtest of the test part's predictions: would the signal have paid after trading costs?

Rules. At each test decision time T the position for the next hour comes from the model's P(down) at T:
short (-1) when P(down) >= upper, else long (+1) when P(down) <= lower, else flat (0); with long_only a short
becomes flat. It is held from close(T) to close(T + 1h), and that hour returns
    position x (close(T + 1h) / close(T) - 1) - fee_bps / 10,000 x |position - previous position|,
the position before the first test hour being flat (so the first entry pays a fee; the last position is not
closed). Buy-and-hold is long every hour. Returns compound hour by hour.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from whalecast import uncertainty

HOURS_PER_YEAR = 8760
BASIS_POINT = 1e-4
BUY_AND_HOLD = "buy_and_hold"


@dataclass(frozen=True)
class BacktestSettings:
    """params.yaml backtest."""

    upper: float
    lower: float
    long_only: bool
    fee_bps: float

    def __post_init__(self):
        if not 0 <= self.lower <= self.upper <= 1:
            raise ValueError(f"needs 0 <= lower <= upper <= 1 (P(down) thresholds), got lower {self.lower} "
                             f"and upper {self.upper}")
        if self.fee_bps < 0:
            raise ValueError(f"fee_bps must be >= 0, got {self.fee_bps}")


def positions(probability_down: np.ndarray, settings: BacktestSettings) -> np.ndarray:
    position = np.where(probability_down >= settings.upper, -1.0, np.where(probability_down <= settings.lower, 1.0, 0.0))
    return np.maximum(position, 0.0) if settings.long_only else position


def hourly_returns(position: np.ndarray, asset_return: np.ndarray, fee_bps: float) -> tuple[np.ndarray, np.ndarray]:
    """Each hour's return before and after the fee on the change of position."""
    gross = position * asset_return
    return gross, gross - fee_bps * BASIS_POINT * position_changes(position)


def position_changes(position: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(position, prepend=0.0))


def annualised_sharpe(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Hourly mean over standard deviation, x sqrt(8760); 0 for a strategy that never moves."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(std > 0, mean / std * np.sqrt(HOURS_PER_YEAR), 0.0)


def strategy_metrics(position: np.ndarray, asset_return: np.ndarray, fee_bps: float, weights: np.ndarray) -> dict:
    """What a strategy earned on the test hours; the Sharpe ratio with its block-bootstrap interval.

    hit_rate and break_even_fee_bps are null for a strategy that never holds a position.
    """
    gross, net = hourly_returns(position, asset_return, fee_bps)
    equity = np.cumprod(1 + net)
    in_market = position != 0
    turnover = float(position_changes(position).sum())
    low, high = uncertainty.interval(annualised_sharpe(*uncertainty.resampled_mean_and_std(net, weights)),
                                     "annualised_sharpe")
    return {
        "total_return": float(equity[-1] - 1),
        "total_return_before_fees": float(np.prod(1 + gross) - 1),
        "annualised_sharpe": float(annualised_sharpe(np.mean(net), np.std(net, ddof=1))),
        "annualised_sharpe_ci_low": low,
        "annualised_sharpe_ci_high": high,
        "max_drawdown": float(np.max(1 - equity / np.maximum.accumulate(np.r_[1.0, equity])[1:])),
        "turnover": turnover,
        "hit_rate": float(np.mean(gross[in_market] > 0)) if in_market.any() else None,
        "exposure": float(np.mean(in_market)),
        "n_trades": int(np.count_nonzero(position_changes(position))),
        # The fee per side at which the summed hourly returns after fees are zero.
        "break_even_fee_bps": float(gross.sum() / turnover / BASIS_POINT) if turnover else None,
    }


def run(frame: pd.DataFrame, probabilities: dict[str, np.ndarray], settings: BacktestSettings,
        weights: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """Metrics per strategy (each model, then buy-and-hold) and their daily equity curves.

    frame: the predictions table (close and next_close per test decision time).
    """
    asset_return = (frame["next_close"] / frame["close"] - 1).to_numpy()
    strategies = {model: positions(probability_down, settings) for model, probability_down in probabilities.items()}
    strategies[BUY_AND_HOLD] = np.ones(len(frame))
    document, equity = {}, {}
    for name, position in strategies.items():
        document[name] = strategy_metrics(position, asset_return, settings.fee_bps, weights)
        equity[name] = np.cumprod(1 + hourly_returns(position, asset_return, settings.fee_bps)[1])
    return document, daily_equity(frame["timestamp"], equity)


def daily_equity(decision_times: pd.Series, equity: dict[str, np.ndarray]) -> pd.DataFrame:
    """Equity (1 at the start) at the last close of each UTC day; `day` counts days since the first decision."""
    closes = pd.Series(decision_times).reset_index(drop=True) + pd.Timedelta(hours=1)  # the hour's return is known
    table = pd.DataFrame({"timestamp": closes, **equity})
    daily = table.groupby(closes.dt.floor("D"), sort=True).tail(1)
    days = (daily["timestamp"] - decision_times.iloc[0]) / pd.Timedelta(days=1)
    return pd.concat([days.round(4).rename("day"), daily], axis=1).reset_index(drop=True)
