"""dvc.yaml declares what each stage really uses, and agrees with whalecast.paths."""

import json
import sys

import pytest
import yaml

from conftest import REPO, run
from whalecast import paths

DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
PATHS_OF_OUTS = {"ingest": [paths.prices, paths.whales], "featurize": [paths.features]}

IMPORTED_MODULES = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("stage_script", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("stage", sorted(DVC_YAML))
def test_stage_deps_list_every_package_module_it_imports_and_no_tensorflow(stage):
    command = DVC_YAML[stage]["do"]["cmd"].split()
    assert command[:3] == ["PYTHONPATH=src", "python", f"stages/{stage}.py"]  # the workspace's own package
    script = command[2]
    modules = json.loads(run([sys.executable, "-c", IMPORTED_MODULES, str(REPO / script)], REPO).stdout)
    used = {f"src/{name.replace('.', '/')}.py" for name in modules if name.startswith("whalecast.")}
    declared = {dep for dep in DVC_YAML[stage]["do"]["deps"] if dep.startswith("src/")}
    assert used == declared
    assert script in DVC_YAML[stage]["do"]["deps"]
    assert "tensorflow" not in modules and "keras" not in modules


@pytest.mark.parametrize("stage", sorted(PATHS_OF_OUTS))
def test_stage_outs_are_the_package_paths(stage):
    outs = [out.replace("${item}", "BTC") for out in DVC_YAML[stage]["do"]["outs"]]
    assert outs == [str(path("BTC")) for path in PATHS_OF_OUTS[stage]]
