"""Input that is wrong but looks right (issue 12): refused with one line naming file, row and problem, or
warned about under a `warning:` tag; and the stage machinery (params, logs, interrupted runs) around it."""

import json
import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from conftest import edit_params, run, run_stage
from test_bad_input import GOOD_PRICES, GOOD_WHALES, assert_clean_failure, files_project
from whalecast import params, paths

# --- params ----------------------------------------------------------------------------------------------


def test_numbers_in_exponent_notation_are_numbers(tmp_path):
    # YAML 1.2 (and DVC, which writes params with ruamel.yaml) reads 1e-3 as a number; PyYAML's YAML 1.1 did not.
    path = tmp_path / "params.yaml"
    path.write_text("model:\n  learning_rate: 1e-3\n  big: 2E+6\n  text: 1e-3x\n  version: '1e3'\n")
    loaded = params.load(path)
    assert loaded["model"] == {"learning_rate": 0.001, "big": 2e6, "text": "1e-3x", "version": "1e3"}


def test_a_learning_rate_in_exponent_notation_trains(project):
    (project / "params.yaml").write_text((project / "params.yaml").read_text()
                                         .replace("learning_rate: 0.001", "learning_rate: 1e-3"))
    from whalecast import lstm

    settings = params.build(lstm.ModelSettings, params.load(project / "params.yaml")["model"], "model")
    assert settings.learning_rate == 0.001


def test_a_huge_report_delay_is_named_with_its_range(project):
    edit_params(project, whale_report_delay_seconds=1.0e12)
    run_stage(project, "ingest")
    result = run_stage(project, "featurize", check=False)
    assert_clean_failure(result, project, "params.yaml: whale_report_delay_seconds must be",
                         "0..2592000", "1e+12", outputs=(paths.FEATURES,))


def test_a_price_path_that_is_a_directory_is_named(project):
    files_project(project, prices=None)
    (project / paths.raw_prices("BTC")).mkdir(parents=True)
    assert_clean_failure(run_stage(project, "ingest", check=False), project,
                         "data/raw/prices/BTC.csv: is a directory, not a file")


# --- logs ------------------------------------------------------------------------------------------------


def test_every_log_line_carries_its_level_and_the_stage_counts_its_warnings(project):
    prices = "timestamp,open,high,low,close,volume\n" + "".join(
        f"2024-03-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z,100,101,99,100.5,10\n" for hour in range(60))
    files_project(project, prices=prices, whales=json.dumps({"result": "success", "count": 0}))
    ingest_log = run_stage(project, "ingest").stderr.splitlines()
    assert all(line.startswith(("ingest BTC: info: ", "ingest BTC: warning: ")) for line in ingest_log), ingest_log
    assert ingest_log[-1] == "ingest BTC: info: done, 0 warnings"
    featurize_log = run_stage(project, "featurize").stderr.splitlines()
    warnings = [line for line in featurize_log if "warning" in line.lower()]
    assert warnings[0].startswith("featurize BTC: warning: features: no whale transfers at all")
    assert featurize_log[-1] == f"featurize BTC: info: done, {len(warnings) - 1} warning"


def test_python_warnings_are_logged_as_warnings_and_counted_before_an_error(project):
    script = ("import warnings, sys; sys.argv = ['stages/check.py', 'BTC']\n"
              "from whalecast import stage\n"
              "from whalecast.errors import InputError\n"
              "def main(currency):\n"
              "    warnings.warn('something odd', RuntimeWarning)\n"
              "    raise InputError('some.csv', 'line 3: bad')\n"
              "stage.run(main)\n")
    result = run([sys.executable, "-c", script], cwd=project, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("check BTC: warning: ") and "RuntimeWarning: something odd" in lines[0]
    assert lines[-2:] == ["check BTC: info: 1 warning", "check BTC: error: some.csv: line 3: bad"]


# --- interrupted runs ------------------------------------------------------------------------------------

# Runs the ingest stage with a signal sent to itself right after its first output is written.
INTERRUPT_AFTER_FIRST_WRITE = """
import os, signal, sys
sys.argv = ["stages/ingest.py", "BTC"]
sys.path.insert(0, "stages")
import ingest
from whalecast import stage, storage
write = storage.write_parquet
def write_then_signal(frame, path):
    write(frame, path)
    os.kill(os.getpid(), signal.{name})
storage.write_parquet = write_then_signal
stage.run(ingest.main)
"""


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_between_two_writes_leaves_the_old_outputs(project, name):
    edit_params(project, **{"data.synthetic.hours": 200})
    run_stage(project, "ingest")
    outputs = [project / paths.prices("BTC"), project / paths.whales("BTC")]
    before = [path.read_bytes() for path in outputs]
    edit_params(project, **{"data.synthetic.seed": 5})
    env = {**os.environ, "PYTHONPATH": "src"}
    result = subprocess.run([sys.executable, "-c", INTERRUPT_AFTER_FIRST_WRITE.format(name=name)], cwd=project,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 128 + getattr(signal, name), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"ingest BTC: error: interrupted ({name}); outputs left as they were"
    assert [path.read_bytes() for path in outputs] == before
    leftovers = [path.name for output in outputs for path in output.parent.iterdir() if path not in outputs]
    assert not leftovers


def test_outputs_of_a_stage_are_replaced_together(tmp_path):
    from whalecast import storage

    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    storage.write_text("old a", first), storage.write_text("old b", second)
    with pytest.raises(RuntimeError), storage.outputs_together():
        storage.write_text("new a", first)
        assert first.read_text() == "old a"  # not yet: the stage has not finished
        raise RuntimeError("the stage fails after its first write")
    assert (first.read_text(), second.read_text()) == ("old a", "old b")
    with storage.outputs_together():
        storage.write_text("new a", first)
        storage.write_text("new b", second)
    assert (first.read_text(), second.read_text()) == ("new a", "new b")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.txt", "b.txt"]
