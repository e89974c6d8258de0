"""Walk-forward evaluation: every model re-fit on k chronological folds, each tested on the block after it.

The hours after a first training block (`first_train` of the hourly rows) are cut into `folds` contiguous test
blocks of equal length, which together cover the rest of the data and do not overlap. Fold i trains on the
rows before its test block: all of them (`expanding`) or as many as the first block had (`rolling`); the last
`validation` share of those rows is its validation tail, for early stopping. The parts of a fold are cut
exactly as the main split cuts its parts (sequences.split_by_rows: an embargo of seq_len + horizon hours purged
from the end of each earlier part), and each fold fits its own scaler on its own training windows, so nothing
of a test block goes into any fit.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whalecast import scaling, sequences
from whalecast.sequences import Samples

log = logging.getLogger(__name__)

WINDOWS = ("expanding", "rolling")
METRICS = ("roc_auc", "log_loss", "brier", "accuracy", "balanced_accuracy")


@dataclass(frozen=True)
class WalkForwardSettings:
    """params.yaml walk_forward."""

    folds: int
    window: str
    first_train: float
    validation: float

    def __post_init__(self):
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2 (for a spread across folds), got {self.folds}")
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {self.window!r}")
        for name in ("first_train", "validation"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be a fraction between 0 and 1 (exclusive), got {getattr(self, name)}")


def fold_bounds(n_rows: int, settings: WalkForwardSettings, seq_len: int) -> list[dict[str, tuple[int, int]]]:
    """Per fold, the rows [start, stop) in which the windows of its train, validation and test part end."""
    first_test = int(n_rows * settings.first_train)
    edges = first_test + np.arange(settings.folds + 1) * (n_rows - first_test) // settings.folds
    folds = []
    for test_start, test_stop in zip(edges[:-1], edges[1:]):
        train_start = 0 if settings.window == "expanding" else test_start - first_test
        first_validation = test_start - int((test_start - train_start) * settings.validation)
        # A training window reads seq_len rows: in a rolling fold, all of them inside the fold's span.
        folds.append({"train": (train_start + seq_len - 1, first_validation),
                      "validation": (first_validation, int(test_start)), "test": (int(test_start), int(test_stop))})
    return folds


def fold_samples(features: pd.DataFrame, rows: Samples, parts: dict[str, np.ndarray], seq_len: int,
                 settings: scaling.ScalingSettings) -> Samples:
    """The fold's samples: unscaled `features` (the model's columns) scaled by a scaler fit on its training
    windows only; labels, groups and times from `rows`, the main sequence table."""
    training_rows = sequences.rows_of_windows(len(features), parts["train"], seq_len)
    # The sequence stage has warned about features constant over the main training part; not again per fold.
    scaler = scaling.Scaler.fit(features.loc[training_rows], list(features.columns), settings, warn_constant=False)
    return Samples(features=scaler.transform(features), labels=rows.labels, last_move_down=rows.last_move_down,
                   ends=parts, columns=rows.columns, groups=rows.groups, timestamps=rows.timestamps)


def fold_entry(number: int, timestamps: pd.Series, parts: dict[str, np.ndarray], scores: dict[str, dict]) -> dict:
    """One fold in the metrics file: the decision times of its first and last window per part, its sizes and
    every model's metrics."""
    entry = {}
    for name, ends in parts.items():
        entry[f"{name}_start"], entry[f"{name}_end"] = (sequences.utc_hour(timestamps.iloc[ends[index]])
                                                        for index in (0, -1))
        entry[f"n_{name}"] = int(len(ends))
    log.info("fold %d: %s", number, ", ".join(f"{name} {entry[f'n_{name}']} ({sequences.span(timestamps, ends)})"
                                              for name, ends in parts.items()))
    log.info("fold %d roc_auc: %s", number, ", ".join(f"{model} {values['roc_auc']:.4f}"
                                                      for model, values in scores.items()))
    return {**entry, **scores}


def summary(folds: list[dict]) -> dict:
    """Per model, the mean and standard deviation (ddof 1) of each metric across folds."""
    result = {}
    for model in [key for key, value in folds[0].items() if isinstance(value, dict)]:
        result[model] = {}
        for metric in METRICS:
            values = [fold[model][metric] for fold in folds]
            result[model][f"{metric}_mean"] = float(np.mean(values))
            result[model][f"{metric}_std"] = float(np.std(values, ddof=1))
    return result
