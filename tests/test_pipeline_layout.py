"""dvc.yaml declares what each stage really uses, and agrees with whalecast.paths."""

import json
import sys

import pytest
import yaml

from conftest import REPO, run
from whalecast import paths

DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
PATHS_OF_OUTS = {"ingest": [paths.prices, paths.whales], "featurize": [paths.features],
                 "sequence": [paths.sequences, paths.scaler],
                 "train": [paths.model, lambda currency: paths.training_log(currency) / "metrics.json"],
                 "evaluate": [paths.classification_report]}
# TensorFlow takes seconds to import; only the stages that run the model may load it.
MODEL_STAGES = {"train", "evaluate"}

IMPORTED_MODULES = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("stage_script", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("stage", sorted(DVC_YAML))
def test_stage_deps_list_every_package_module_it_imports_and_tensorflow_only_if_needed(stage):
    command = DVC_YAML[stage]["do"]["cmd"].split()
    assert command[:3] == ["PYTHONPATH=src", "python", f"stages/{stage}.py"]  # the workspace's own package
    script = command[2]
    modules = json.loads(run([sys.executable, "-c", IMPORTED_MODULES, str(REPO / script)], REPO).stdout)
    used = {f"src/{name.replace('.', '/')}.py" for name in modules if name.startswith("whalecast.")}
    declared = {dep for dep in DVC_YAML[stage]["do"]["deps"] if dep.startswith("src/")}
    assert used == declared
    assert script in DVC_YAML[stage]["do"]["deps"]
    assert ("tensorflow" in modules) == ("keras" in modules) == (stage in MODEL_STAGES)


@pytest.mark.parametrize("stage", sorted(PATHS_OF_OUTS))
def test_stage_outs_are_the_package_paths(stage):
    outs = [next(iter(out)) if isinstance(out, dict) else out for out in DVC_YAML[stage]["do"]["outs"]]
    assert [out.replace("${item}", "BTC") for out in outs] == [str(path("BTC")) for path in PATHS_OF_OUTS[stage]]


def test_metrics_and_plots_are_the_package_paths_and_live_in_git():
    train, evaluate = DVC_YAML["train"]["do"], DVC_YAML["evaluate"]["do"]
    declared = {name.replace("${item}", "BTC"): settings for entry in train["outs"][1:] + train["plots"]
                + evaluate["metrics"] + evaluate["plots"] + evaluate["outs"] for name, settings in entry.items()}
    expected = {paths.training_log("BTC") / "metrics.json", paths.training_log("BTC") / "plots" / "metrics",
                paths.metrics("BTC"), paths.classification_report("BTC"),
                *(paths.evaluation_plot("BTC", name) for name in ("roc", "precision_recall", "confusion_matrix",
                                                                   "calibration"))}
    assert set(declared) == {str(path) for path in expected}
    assert all(settings["cache"] is False for settings in declared.values())
