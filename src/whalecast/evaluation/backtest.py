"""A fee-aware backtest of the test part's predictions: would the signal have paid after trading costs?

Rules. At each test decision time T the position for the next hour comes from the model's P(down) at T:
short (-1) when P(down) >= upper, else long (+1) when P(down) <= lower, else flat (0); with long_only a short
becomes flat. It is held from close(T) to close(T + 1h), and that hour returns
    position x (close(T + 1h) / close(T) - 1) - fee_bps / 10,000 x |position - previous position|,
the position before the first test hour being flat (so the first entry pays a fee; the last position is not
closed). Buy-and-hold is long every hour. Returns compound hour by hour.

The rows are the test decision times, i.e. the hours with a label. With horizon_hours = 1 a missing row is an
hour whose next close falls on a bar that ingest filled (no trade): its recorded return is 0, so skipping it is
holding the position through it. (With a longer horizon a row can lack a label while its next hour traded;
such hours, rare and counted in the sequence log, are not booked.)
"""

import logging

import numpy as np
import pandas as pd
from scipy import optimize

from whalecast.evaluation import uncertainty
from whalecast.settings import at_least, section, share

log = logging.getLogger(__name__)

HOURS_PER_YEAR = 8760
BASIS_POINT = 1e-4
BUY_AND_HOLD = "buy_and_hold"


@section("backtest")
class BacktestSettings:
    """params.yaml backtest."""

    upper: float = share()  # P(down) thresholds
    lower: float = share()
    long_only: bool
    fee_bps: float = at_least(0)

    def __post_init__(self):
        if self.lower > self.upper:
            raise ValueError(f"needs lower <= upper (P(down) thresholds), got lower {self.lower} and upper "
                             f"{self.upper}")


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


def break_even_fee_bps(position: np.ndarray, asset_return: np.ndarray) -> float | None:
    """The fee per side at which the compounded return after fees is zero (negative: the strategy loses even
    before fees); None without trades."""
    gross, changes = position * asset_return, position_changes(position)
    if not changes.any():
        return None

    def log_growth(fee):  # falls as the fee rises
        return np.sum(np.log1p(gross - fee * changes))

    # Fees up to the one that would take an hour's factor to zero; below, as far as it takes to cross zero.
    highest = np.min((1 + gross[changes > 0]) / changes[changes > 0]) * (1 - 1e-12)
    lowest = -1.0
    while log_growth(lowest) < 0:
        lowest *= 2
    return float(optimize.brentq(log_growth, lowest, highest, xtol=1e-12) / BASIS_POINT)


def strategy_metrics(position: np.ndarray, asset_return: np.ndarray, fee_bps: float, weights: np.ndarray) -> dict:
    """What a strategy earned on the test hours; the Sharpe ratio with its block-bootstrap interval.

    hit_rate and break_even_fee_bps are null for a strategy that never holds a position.
    """
    gross, net = hourly_returns(position, asset_return, fee_bps)
    equity = np.cumprod(1 + net)
    in_market, changes = position != 0, position_changes(position)
    low, high = uncertainty.interval(annualised_sharpe(*uncertainty.resampled_mean_and_std(net, weights)),
                                     "annualised_sharpe")
    return {
        "total_return": float(equity[-1] - 1),
        "total_return_before_fees": float(np.prod(1 + gross) - 1),
        "annualised_sharpe": float(annualised_sharpe(np.mean(net), np.std(net, ddof=1))),
        "annualised_sharpe_ci_low": low,
        "annualised_sharpe_ci_high": high,
        "max_drawdown": float(np.max(1 - equity / np.maximum.accumulate(np.r_[1.0, equity])[1:])),
        "turnover": float(changes.sum()),
        "hit_rate": float(np.mean(gross[in_market] > 0)) if in_market.any() else None,
        "exposure": float(np.mean(in_market)),
        "n_trades": int(np.count_nonzero(changes)),
        "break_even_fee_bps": break_even_fee_bps(position, asset_return),
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
    return document, daily_equity(frame["timestamp"].reset_index(drop=True), equity)


def daily_equity(decision_times: pd.Series, equity: dict[str, np.ndarray]) -> pd.DataFrame:
    """Equity at the first decision time (1) and at the last close of each UTC day after it; `day` counts days
    since the first decision."""
    closes = decision_times + pd.Timedelta(hours=1)  # when the hour's return is known
    table = pd.DataFrame({"timestamp": closes, **equity})
    start = pd.DataFrame({"timestamp": decision_times.iloc[:1], **{name: [1.0] for name in equity}})
    daily = pd.concat([start, table.groupby(closes.dt.floor("D"), sort=True).tail(1)], ignore_index=True)
    days = (daily["timestamp"] - decision_times.iloc[0]) / pd.Timedelta(days=1)
    return pd.concat([days.round(4).rename("day"), daily], axis=1)


def log_outcomes(document: dict) -> None:
    for name, result in document.items():
        log.info("%-19s total return %+.2f%% (%+.2f%% before fees), Sharpe %+.2f [%+.2f, %+.2f], %d trades",
                 name, 100 * result["total_return"], 100 * result["total_return_before_fees"],
                 result["annualised_sharpe"], result["annualised_sharpe_ci_low"], result["annualised_sharpe_ci_high"],
                 result["n_trades"])
