"""End to end, the ablation of a feature group is an experiment: `dvc exp run -S feature_groups.whales=false`
re-runs the model stages only, and `dvc metrics diff` shows what the group added.

Its own module (and clone of the shared repository), so that it runs beside the other experiment tests."""

import json

from conftest import AFTER_SEQUENCE, commit, run, stages_run


def test_switching_a_group_off_is_an_experiment_that_skips_ingest_and_featurize(repo, first_repro):
    """Each group's switch is read by the sequence stage only (test_pipeline checks both); one is run here."""
    commit(repo, "baseline before the ablation")
    experiment = run(["dvc", "exp", "run", "--name", "no-whale-features", "-S", "feature_groups.whales=false"], repo)
    assert stages_run(experiment) == AFTER_SEQUENCE
    changed = json.loads(run(["dvc", "metrics", "diff", "HEAD", "--json"], repo).stdout)["metrics/BTC.json"]
    assert changed["importance.lstm.whales.roc_auc_drop_mean"]["new"] is None  # no features of the group any more
    assert changed["lstm.roc_auc"]["old"] != changed["lstm.roc_auc"]["new"]
    run(["git", "checkout", "--", "."], repo)
    run(["dvc", "checkout"], repo)
