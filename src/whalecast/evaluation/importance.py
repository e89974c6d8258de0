"""Which feature groups a model relies on: permutation importance per group on the test part.

The columns of one group are shuffled jointly across the test samples: for the LSTM a sample is a whole
window, so each window takes the group's columns, all seq_len hours of them, from another test window. The
group's own pattern inside a window stays intact while its link to the outcome is broken; the drop in ROC
AUC is how much the model relies on the group. Repeated with seeded shuffles (mean and standard deviation).
"""

import zlib
from collections.abc import Callable

import numpy as np
from sklearn import metrics

from whalecast.settings import at_least, section


@section("importance")
class ImportanceSettings:
    """params.yaml importance."""

    seed: int
    repeats: int = at_least(2)  # a standard deviation needs two


def group_importance(predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, labels: np.ndarray,
                     groups: dict[str, np.ndarray], settings: ImportanceSettings) -> dict[str, dict[str, float]]:
    """{group: {roc_auc_drop_mean, roc_auc_drop_std}}; inputs are (samples, ..., features), columns last."""
    unshuffled = metrics.roc_auc_score(labels, predict(inputs))
    result = {}
    for group, columns in groups.items():
        # A seed per group: switching another group off leaves this group's shuffles as they were.
        random = np.random.default_rng([settings.seed, zlib.crc32(group.encode())])
        drops = []
        for _ in range(settings.repeats):
            shuffled = inputs.copy()
            shuffled[..., columns] = inputs[random.permutation(len(inputs))][..., columns]
            drops.append(unshuffled - metrics.roc_auc_score(labels, predict(shuffled)))
        result[group] = {"roc_auc_drop_mean": float(np.mean(drops)), "roc_auc_drop_std": float(np.std(drops, ddof=1))}
    return result
