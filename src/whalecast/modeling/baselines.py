"""The baselines every LSTM number is shown next to, fit on the training part of a sequence table:
- majority_class: the training base rate as the probability for every hour (AUC 0.5 by construction);
- last_move_repeats: down next if the last h-hour move was down (a 0/1 rule, so its log loss is harsh);
- logistic_regression and gradient_boosting (scikit-learn's HistGradientBoostingClassifier): the features
  of the last hour of the window only, the approach before the LSTM.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from whalecast.modeling.sequences import Samples
from whalecast.settings import at_least, positive, section


@section("baselines")
class BaselineSettings:
    """params.yaml baselines."""

    seed: int
    logistic_regression_c: float = positive()
    boosting_max_iter: int = at_least(1)
    boosting_learning_rate: float = positive()
    boosting_max_leaf_nodes: int = at_least(2)


@dataclass(frozen=True)
class Baselines:
    """The baselines, fit on the training part of a sequence table."""

    base_rate: float
    last_row_models: dict  # name -> fitted scikit-learn classifier of the window's last row

    @classmethod
    def fit(cls, samples: Samples, settings: BaselineSettings) -> "Baselines":
        train, y_train = samples.ends["train"], samples.labels_of("train")
        models = {
            "logistic_regression": LogisticRegression(C=settings.logistic_regression_c, max_iter=1000),
            "gradient_boosting": HistGradientBoostingClassifier(
                max_iter=settings.boosting_max_iter, learning_rate=settings.boosting_learning_rate,
                max_leaf_nodes=settings.boosting_max_leaf_nodes, early_stopping=False, random_state=settings.seed),
        }
        for model in models.values():
            model.fit(samples.features[train], y_train)
        return cls(float(y_train.mean()), models)

    def probabilities(self, samples: Samples, part: str) -> dict[str, np.ndarray]:
        """P(down) of each baseline for the windows of a part."""
        ends = samples.ends[part]
        return {
            "majority_class": np.full(len(ends), self.base_rate),
            "last_move_repeats": samples.last_move_down[ends].astype(float),
            **{name: model.predict_proba(samples.features[ends])[:, 1] for name, model in self.last_row_models.items()},
        }
