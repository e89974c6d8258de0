"""Honest results where whales carry a planted effect: it is found, with an interval above 0.5, and goes when the
whale group is switched off."""

import pytest

from conftest import edit_params
from e2e.honest_markets import TEST_STAGES, market_project, run_pipeline


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The test part and the walk-forward folds with whales, the test part without (what is asserted on)."""
    project = market_project(tmp_path_factory.mktemp("planted"), **{"data.synthetic.whale_effect": 0.4})
    with_whales = run_pipeline(project, ("ingest", "featurize", *TEST_STAGES, "walk_forward"))
    edit_params(project, **{"feature_groups.whales": False})
    return with_whales, run_pipeline(project, TEST_STAGES)


def test_a_planted_whale_effect_is_found_and_beats_a_coin_significantly(planted):
    test = planted[0]["test"]
    assert test["lstm"]["roc_auc"] > 0.58 and test["lstm"]["roc_auc_ci_low"] > 0.5, test["lstm"]
    assert test["logistic_regression"]["roc_auc"] > 0.58, test["logistic_regression"]
    assert test["lstm"]["log_loss"] < test["majority_class"]["log_loss"]
    assert planted[0]["walk_forward"]["lstm"]["roc_auc_mean"] > 0.56
    importance = test["importance"]["lstm"]
    assert importance["whales"]["roc_auc_drop_mean"] > 0.04 > importance["prices"]["roc_auc_drop_mean"]


def test_switching_the_whale_group_off_takes_the_effect_away(planted):
    """Towards 0.5, not to it: each hour's planted drift comes from the flows of the six hours before, so
    consecutive returns share it and past returns carry part of it (last_move_repeats scores above 0.5 too)."""
    with_whales, without = (result["test"] for result in planted)
    lstm_with, lstm_without = with_whales["lstm"]["roc_auc"], without["lstm"]["roc_auc"]
    assert lstm_without < lstm_with - 0.05 and lstm_without - 0.5 < 0.6 * (lstm_with - 0.5), (lstm_with, lstm_without)
    assert without["last_move_repeats"]["roc_auc"] > 0.52
    assert set(without["importance"]["lstm"]) == {"prices", "news"}
    assert without["n_test"] == with_whales["n_test"]  # the same test hours, only the inputs differ
