"""Permutation importance per feature group: what a model ignores costs nothing, windows move as a whole."""

import numpy as np
import pytest

from whalecast.evaluation import importance

IMPORTANCE = importance.ImportanceSettings(seed=1, repeats=5)


def test_a_group_the_model_ignores_costs_nothing_and_one_it_uses_costs_auc():
    random = np.random.default_rng(0)
    labels = random.integers(0, 2, 400)
    inputs = np.stack([labels + random.normal(0, 1, 400), random.normal(0, 1, 400), random.normal(0, 1, 400)], 1)
    result = importance.group_importance(lambda x: x[:, 0], inputs, labels,
                                         {"used": np.array([0]), "ignored": np.array([1, 2])}, IMPORTANCE)
    assert result["ignored"] == {"roc_auc_drop_mean": 0.0, "roc_auc_drop_std": 0.0}
    assert result["used"]["roc_auc_drop_mean"] > 0.15 and result["used"]["roc_auc_drop_std"] > 0


def test_whole_windows_of_a_group_move_together_and_the_rest_stays():
    inputs = np.arange(6 * 4 * 3, dtype=float).reshape(6, 4, 3)  # (windows, hours, features)
    seen = []

    def predict(x):
        seen.append(x.copy())
        return x[:, -1, 0]

    importance.group_importance(predict, inputs, np.array([0, 1, 0, 1, 0, 1]), {"g": np.array([1, 2])},
                                importance.ImportanceSettings(seed=3, repeats=2))
    for shuffled in seen[1:]:
        np.testing.assert_array_equal(shuffled[:, :, 0], inputs[:, :, 0])
        source = shuffled[:, 0, 1] // 12  # the window each row's group columns came from
        np.testing.assert_array_equal(shuffled[:, :, 1:], inputs[source.astype(int)][:, :, 1:])
        assert sorted(source) == list(range(6)) and list(source) != list(range(6))


def test_importance_is_reproducible_and_a_group_does_not_depend_on_the_others():
    random = np.random.default_rng(1)
    labels = random.integers(0, 2, 300)
    inputs = np.stack([labels + random.normal(0, 1, 300), labels + random.normal(0, 1, 300)], 1)
    both = {"a": np.array([0]), "b": np.array([1])}
    first = importance.group_importance(lambda x: x.sum(1), inputs, labels, both, IMPORTANCE)
    assert first == importance.group_importance(lambda x: x.sum(1), inputs, labels, both, IMPORTANCE)
    alone = importance.group_importance(lambda x: x.sum(1), inputs, labels, {"a": both["a"]}, IMPORTANCE)
    assert alone["a"] == first["a"]
    with pytest.raises(ValueError, match="repeats must be at least 2"):
        importance.ImportanceSettings(seed=1, repeats=1)
