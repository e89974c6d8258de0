"""Honest results where news carries a planted effect: it is found, with an interval above 0.5, and goes when the
news group is switched off."""

import pytest

from conftest import edit_params
from e2e.honest_markets import TEST_STAGES, market_project, run_pipeline


@pytest.fixture(scope="module")
def planted_news(tmp_path_factory):
    """The test part only (no walk-forward, no backtest): what news adds is read off the test metrics."""
    project = market_project(tmp_path_factory.mktemp("news"), **{"data.synthetic.news_effect": 0.4})
    with_news = run_pipeline(project, ("ingest", "featurize", *TEST_STAGES))
    edit_params(project, **{"feature_groups.news": False})
    return with_news["test"], run_pipeline(project, TEST_STAGES)["test"]


def test_a_planted_news_effect_is_found_and_goes_when_the_news_group_is_switched_off(planted_news):
    with_news, without = planted_news
    assert with_news["lstm"]["roc_auc"] > 0.58 and with_news["lstm"]["roc_auc_ci_low"] > 0.5, with_news["lstm"]
    assert with_news["importance"]["lstm"]["news"]["roc_auc_drop_mean"] > 0.04
    assert without["lstm"]["roc_auc"] < with_news["lstm"]["roc_auc"] - 0.05, (with_news["lstm"], without["lstm"])
    assert set(without["importance"]["lstm"]) == {"prices", "whales"}
    assert without["n_test"] == with_news["n_test"]
