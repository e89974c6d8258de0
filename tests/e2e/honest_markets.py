"""The honesty tests' markets: the sample market of 7,000 hours, run through the real stages in this process with a
small real LSTM, with a whale or news effect planted or none. Each market has its module, so that pytest's workers
run them side by side."""

import json

from conftest import TINY_MODEL, copy_project, edit_params, run_stage_in_process
from whalecast import paths
from whalecast.evaluation import predictions

# Enough hours for a test part of ~1000 windows (AUC standard error ~0.018) while training in seconds.
HONESTY_MARKET = {"currencies": ["BTC"], "data.synthetic.hours": 7000, **TINY_MODEL, "model.units": 8,
                  "model.epochs": 6, "model.patience": 2, "model.batch_size": 128, "walk_forward.folds": 4}
NO_EFFECT = {"data.synthetic.whale_effect": 0.0, "data.synthetic.news_effect": 0.0}
MODEL_STAGES = ("sequence", "train", "evaluate", "walk_forward", "backtest")
TEST_STAGES = ("sequence", "train", "evaluate")


def market_project(root, **effects):
    """A copy of the project on the honesty market, with these planted effects (none by default)."""
    project = copy_project(root / "project")
    edit_params(project, **HONESTY_MARKET, **{**NO_EFFECT, **effects})
    return project


def run_pipeline(project, stages=("ingest", "featurize", *MODEL_STAGES)):
    for stage in stages:
        run_stage_in_process(project, stage)  # TensorFlow loads once for the module, not in every model stage
    results = {name: json.loads((project / path("BTC")).read_text())
               for name, path in (("test", paths.metrics), ("walk_forward", paths.walk_forward_metrics),
                                  ("backtest", paths.backtest_metrics)) if name == "test" or name in stages}
    results["predictions"] = predictions.read(project / paths.predictions("BTC"))
    return results
