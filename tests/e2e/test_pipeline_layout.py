"""dvc.yaml declares what each stage really uses, and agrees with whalecast.paths."""

import dataclasses
import functools
import json
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, REPORTED_MODELS, run
from whalecast import paths

PIPELINE = yaml.safe_load((REPO / "dvc.yaml").read_text())
# A stage's definition: under `do` for the stages run once per currency.
DVC_YAML = {name: stage.get("do", stage) for name, stage in PIPELINE["stages"].items()}
PATHS_OF_OUTS = {"ingest": [paths.prices, paths.whales, paths.events], "featurize": [paths.features],
                 "sequence": [paths.sequences, paths.scaler],
                 "train": [paths.model, paths.seed_models, lambda currency: paths.training_log(currency) / "metrics.json"],
                 "evaluate": [paths.classification_report, paths.predictions],
                 "walk_forward": [paths.walk_forward_plot], "backtest": [paths.equity_plot],
                 "report": [lambda currency: paths.summary(), lambda currency: paths.FIGURES]}
# TensorFlow takes seconds to import; only the stages that run the model may load it.
MODEL_STAGES = {"train", "evaluate", "walk_forward"}

# What importing a stage script loads, and whether NumPy then saw whalecast's settings (whalecast/__init__.py), which
# NumPy reads once, at its import: the pytest process set them already, so they are dropped before anything loads.
STAGE_IMPORTS = """
import importlib.util, json, os, sys
os.environ.pop("NUMPY_MADVISE_HUGEPAGE", None)
os.environ.pop("NPY_DISABLE_CPU_FEATURES", None)
spec = importlib.util.spec_from_file_location("stage_script", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
from numpy._core.multiarray import _get_madvise_hugepage
print(json.dumps({"modules": sorted(sys.modules), "numpy_advises_huge_pages": _get_madvise_hugepage()}))
"""


@functools.cache
def stage_imports(script: str) -> dict:
    return json.loads(run([sys.executable, "-c", STAGE_IMPORTS, str(REPO / script)], REPO).stdout)


@pytest.mark.parametrize("stage", sorted(DVC_YAML))
def test_stage_deps_list_every_package_module_it_imports_and_tensorflow_only_if_needed(stage):
    command = DVC_YAML[stage]["cmd"].split()
    assert command[:3] == ["PYTHONPATH=src", "python", f"stages/{stage}.py"]  # the workspace's own package
    script = command[2]
    modules = stage_imports(script)["modules"]
    # A package's __init__.py too: whalecast's sets how NumPy and TensorFlow compute (see whalecast/__init__.py).
    files = {Path("src", *name.split(".")) for name in modules if name.split(".")[0] == "whalecast"}
    used = {str(path / "__init__.py" if (REPO / path).is_dir() else path.with_suffix(".py")) for path in files}
    declared = {dep for dep in DVC_YAML[stage]["deps"] if dep.startswith("src/")}
    assert used == declared
    assert script in DVC_YAML[stage]["deps"]
    assert ("tensorflow" in modules) == ("keras" in modules) == (stage in MODEL_STAGES)


@pytest.mark.parametrize("stage", sorted(DVC_YAML))
def test_every_stage_imports_whalecast_before_numpy(stage):
    """A script that imports pandas (so NumPy) before whalecast runs without whalecast's NumPy settings. Seen here
    by the huge-page advice, which NumPy reports on any machine; the CPU setting beside it shows only on AVX-512."""
    assert stage_imports(f"stages/{stage}.py")["numpy_advises_huge_pages"] is False


@pytest.mark.parametrize("stage", sorted(PATHS_OF_OUTS))
def test_stage_outs_are_the_package_paths(stage):
    outs = [next(iter(out)) if isinstance(out, dict) else out for out in DVC_YAML[stage]["outs"]]
    assert [out.replace("${item}", "BTC") for out in outs] == [str(path("BTC")) for path in PATHS_OF_OUTS[stage]]


def test_metrics_plots_and_the_report_are_the_package_paths_and_live_in_git():
    """Everything but data and models is in git (cache: false), so a reviewer needs no DVC remote."""
    in_git = {name.replace("${item}", "BTC"): settings for stage in DVC_YAML.values()
              for key in ("outs", "metrics", "plots") for entry in stage.get(key, []) if isinstance(entry, dict)
              for name, settings in entry.items()}
    expected = {paths.training_log("BTC") / "metrics.json", paths.training_log("BTC") / "plots" / "metrics",
                paths.metrics("BTC"), paths.classification_report("BTC"),
                *(paths.evaluation_plot("BTC", name) for name in ("roc", "precision_recall", "confusion_matrix",
                                                                   "calibration")),
                paths.walk_forward_metrics("BTC"), paths.walk_forward_plot("BTC"), paths.backtest_metrics("BTC"),
                paths.equity_plot("BTC"), paths.summary(), paths.headline_metrics(), paths.FIGURES}
    assert set(in_git) == {str(path) for path in expected}
    assert all(settings["cache"] is False for settings in in_git.values())
    cached = {out.replace("${item}", "BTC") for stage in DVC_YAML.values() for out in stage.get("outs", [])
              if isinstance(out, str)}
    assert str(paths.predictions("BTC")) in cached and str(paths.model("BTC")) in cached


def test_the_top_level_plots_draw_a_line_for_every_model():
    plots = {name: settings for entry in PIPELINE["plots"] for name, settings in entry.items()}
    assert plots[str(paths.WALK_FORWARD_PLOTS)]["y"] == REPORTED_MODELS
    assert plots[str(paths.BACKTEST_PLOTS)]["y"] == [*REPORTED_MODELS, "buy_and_hold"]


def test_walk_forward_reads_every_model_setting_but_the_number_of_seeds():
    from whalecast.modeling import lstm  # noqa: PLC0415 (TensorFlow only here)

    model_params = [name for name in DVC_YAML["walk_forward"]["params"] if name.startswith("model.")]
    assert model_params == [f"model.{field.name}" for field in dataclasses.fields(lstm.ModelSettings)
                            if field.name != "n_seeds"]


def test_dvc_parses_its_yaml_files_with_the_c_parser():
    """ruamel.yaml (DVC's YAML library) no longer brings its C parser along; pinned, it makes every dvc command
    read dvc.yaml, dvc.lock and params.yaml 5-7x faster (`dvc status` here: 0.94 s -> 0.60 s)."""
    from ruamel.yaml.main import CParser

    assert CParser is not None, "ruamel.yaml.clib is not installed: `make install` from requirements.lock"


def test_the_committed_lock_records_the_committed_code_and_params():
    """A change to a stage's code or params that was committed without `dvc repro` leaves dvc.lock stale: a fresh
    clone's `make repro` would then run stages and change tracked files. Data deps are left out (a clone has no
    outputs until it runs)."""
    status = json.loads(run(["dvc", "status", "--json"], REPO).stdout)
    stale = [f"{stage}: {change}" for stage, changes in status.items() for change in changes
             if not isinstance(change, dict)]
    stale += [f"{stage}: {path} {what}" for stage, changes in status.items() for change in changes
              if isinstance(change, dict) for path, what in change.get("changed deps", {}).items()
              if path == "params.yaml" or path.startswith(("src/", "stages/"))]
    assert not stale, "run `dvc repro` and commit dvc.lock"
