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
from pathlib import Path

import numpy as np
import pandas as pd

from whalecast import paths
from whalecast.errors import InputError
from whalecast.evaluation import scoring
from whalecast.modeling import lstm, scaling, sequences
from whalecast.modeling.baselines import Baselines, BaselineSettings
from whalecast.modeling.sequences import Samples, TargetSettings
from whalecast.settings import at_least, choice, fraction, section

log = logging.getLogger(__name__)

WINDOWS = ("expanding", "rolling")
METRICS = ("roc_auc", "log_loss", "brier", "accuracy", "balanced_accuracy")


@section("walk_forward")
class WalkForwardSettings:
    """params.yaml walk_forward."""

    folds: int = at_least(2)  # a spread across folds needs two
    window: str = choice(*WINDOWS)
    first_train: float = fraction()
    validation: float = fraction()


def fold_bounds(n_rows: int, settings: WalkForwardSettings, seq_len: int) -> list[dict[str, tuple[int, int]]]:
    """Per fold, the rows [start, stop) in which the windows of its train, validation and test part end."""
    first_test = int(n_rows * settings.first_train)
    edges = first_test + np.arange(settings.folds + 1) * (n_rows - first_test) // settings.folds
    folds = []
    for test_start, test_stop in zip(edges[:-1], edges[1:]):
        train_start = 0 if settings.window == "expanding" else test_start - first_test
        first_validation = test_start - int((test_start - train_start) * settings.validation)
        # A training window reads seq_len rows: in a rolling fold, all of them inside the fold's span.
        first_train_end = train_start - sequences.window_offsets(seq_len)[0]
        folds.append({"train": (int(first_train_end), first_validation),
                      "validation": (first_validation, int(test_start)), "test": (int(test_start), int(test_stop))})
    return folds


def fold_samples(features: pd.DataFrame, rows: Samples, parts: dict[str, np.ndarray],
                 settings: scaling.ScalingSettings) -> Samples:
    """The fold's samples: unscaled `features` (the model's columns) scaled by a scaler fit on its training
    windows only; labels, groups, times and the window length from `rows`, the main sequence table."""
    training_rows = sequences.rows_of_windows(len(features), parts["train"], rows.seq_len)
    # The sequence stage has warned about features constant over the main training part; not again per fold.
    scaler = scaling.Scaler.fit(features.loc[training_rows], list(features.columns), settings, warn_constant=False)
    return Samples(features=scaler.transform(features), labels=rows.labels, last_move_down=rows.last_move_down,
                   ends=parts, columns=rows.columns, groups=rows.groups, timestamps=rows.timestamps,
                   seq_len=rows.seq_len)


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


@dataclass(frozen=True)
class WalkForward:
    document: dict          # the metrics file: per model the mean and std across folds, then every fold
    per_fold: pd.DataFrame  # the AUC of every model in every fold, for the plot


def run(features: pd.DataFrame, rows: Samples, target: TargetSettings, settings: WalkForwardSettings,
        scaling_settings: scaling.ScalingSettings, model_settings: lstm.ModelSettings,
        baseline_settings: BaselineSettings, features_source: Path, sequences_source: Path) -> WalkForward:
    """The walk_forward stage: every fold cut, scaled, fit and scored. `features` is the unscaled feature table (each
    fold fits its own scaler), `rows` the sequence table, whose labels and columns it takes (so a feature group
    switched off stays off)."""
    if not features["timestamp"].equals(rows.timestamps):
        raise InputError(features_source, "its rows are not those of the sequence table: run dvc repro")
    labels = pd.Series(rows.labels)
    labelled = sequences.usable_window_ends(rows.timestamps, labels, rows.seq_len)
    folds = []
    for number, bounds in enumerate(fold_bounds(len(features), settings, rows.seq_len), start=1):
        try:
            parts = sequences.split_by_rows(rows.timestamps, labelled, bounds, rows.seq_len + target.horizon_hours)
        except ValueError as error:
            raise InputError(paths.PARAMS, f"walk_forward: fold {number}: {error}") from None
        sequences.check_both_classes(labels, parts, sequences_source, fold=f"fold {number} ")
        samples = fold_samples(features[rows.columns], rows, parts, scaling_settings)
        model = lstm.train(samples, model_settings, model_settings.seed, name=f"fold {number}")
        probabilities = {"lstm": lstm.predict(model, samples, "test"),
                         **Baselines.fit(samples, baseline_settings).probabilities(samples, "test")}
        test_labels = samples.labels_of("test")
        scores = {name: {metric: value for metric, value in scoring.classification_metrics(test_labels, p).items()
                         if metric in METRICS} for name, p in probabilities.items()}
        folds.append(fold_entry(number, rows.timestamps, parts, scores))
    means = summary(folds)
    per_fold = pd.DataFrame([{"fold": n, "test_start": fold["test_start"], **{m: fold[m]["roc_auc"] for m in means}}
                             for n, fold in enumerate(folds, start=1)])
    return WalkForward({**means, **{f"fold_{n}": fold for n, fold in enumerate(folds, start=1)}}, per_fold)
