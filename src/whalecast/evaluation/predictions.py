"""The test part's predictions of every model, with the prices to recompute any metric or backtest from.

data/predictions/{CUR}.parquet, one row per test decision time T: `timestamp` (T, UTC), `close` (close(T), the
last price known at T), `next_close` (close(T + 1h), where the position decided at T is closed), `label`, and
`p_down_{model}` (each model's probability that the price goes down over the horizon).
"""

import numpy as np
import pandas as pd

from whalecast import storage
from whalecast.hourly import HOUR
from whalecast.modeling.sequences import closes

PROBABILITY_PREFIX = "p_down_"


def table(timestamps: pd.Series, prices: pd.DataFrame, labels: np.ndarray,
          probabilities: dict[str, np.ndarray]) -> pd.DataFrame:
    """prices: hourly bars (open time `timestamp`, `close`)."""
    close_at = closes(prices)
    frame = pd.DataFrame({"timestamp": timestamps.to_numpy(),
                          "close": close_at.reindex(timestamps).to_numpy(),
                          "next_close": close_at.reindex(timestamps + HOUR).to_numpy(),
                          "label": labels.astype(np.int8)})
    for model, probability_down in probabilities.items():
        frame[PROBABILITY_PREFIX + model] = probability_down
    return frame


def read(path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The table and each model's P(down), by model name."""
    frame = storage.read_parquet(path)
    models = [column.removeprefix(PROBABILITY_PREFIX) for column in frame if column.startswith(PROBABILITY_PREFIX)]
    return frame, {model: frame[PROBABILITY_PREFIX + model].to_numpy() for model in models}
