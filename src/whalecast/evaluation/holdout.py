"""The held-out test part (the evaluate stage): the trained LSTM and the baselines scored on the hours no fit and no
choice has seen, every AUC with its block-bootstrap interval, the LSTM against the baseline chosen on the validation
part, the spread over the LSTM's seeds, and what each feature group adds (permutation importance).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from whalecast.evaluation import importance, scoring
from whalecast.modeling import lstm
from whalecast.modeling.baselines import Baselines, BaselineSettings
from whalecast.modeling.sequences import Samples


@dataclass(frozen=True)
class Holdout:
    document: dict                         # the metrics file
    probabilities: dict[str, np.ndarray]   # P(down) of every model on every test hour
    labels: np.ndarray                     # each test hour's label
    times: pd.Series                       # each test hour's decision time T


def evaluate(samples: Samples, model: keras.Model, other_seeds: Sequence[keras.Model], settings: BaselineSettings,
             weights: np.ndarray, shuffles: importance.ImportanceSettings) -> Holdout:
    """model: the headline LSTM; other_seeds: the same model trained with the other seeds; weights: the bootstrap's
    resamples of the test hours (uncertainty.resample_weights)."""
    labels = samples.labels_of("test")
    baselines = Baselines.fit(samples, settings)
    probabilities = {"lstm": lstm.predict(model, samples, "test"), **baselines.probabilities(samples, "test")}
    times = samples.timestamps.iloc[samples.ends["test"]].reset_index(drop=True)
    document = scoring.metrics_document(labels, probabilities, weights, scoring.best_baseline(samples, baselines),
                                        times)
    document["lstm_seeds"] = scoring.seed_spread(labels, [probabilities["lstm"], *(
        lstm.predict(other, samples, "test") for other in other_seeds)])
    boosting = baselines.last_row_models["gradient_boosting"]
    document["importance"] = {
        "lstm": importance.group_importance(lambda inputs: lstm.predict_windows(model, inputs),
                                            samples.windows("test"), labels, samples.groups, shuffles),
        "gradient_boosting": importance.group_importance(lambda inputs: boosting.predict_proba(inputs)[:, 1],
                                                         samples.features[samples.ends["test"]], labels,
                                                         samples.groups, shuffles),
    }
    scoring.log_headline(document, list(probabilities))
    return Holdout(document, probabilities, labels, times)
