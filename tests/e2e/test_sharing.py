"""End to end, sharing through remotes: results pushed to a DVC remote and pulled into a fresh clone without
recomputation, and a queued sweep run in one clone, pushed, pulled, compared and applied in another."""

import json
import os
import subprocess
import time

from conftest import BIN, UP_TO_DATE, commit, run, stages_run
from whalecast import paths


def test_push_then_pull_into_a_fresh_clone_needs_no_recomputation(repo, first_repro, tmp_path):
    run(["dvc", "remote", "add", "--default", "shared", str(tmp_path / "remote")], repo)
    commit(repo, "results and a remote")
    run(["dvc", "push"], repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert not (clone / paths.model("BTC")).exists()
    run(["dvc", "pull"], clone)
    assert (clone / paths.model("BTC")).read_bytes() == (repo / paths.model("BTC")).read_bytes()
    assert UP_TO_DATE in run(["dvc", "status"], clone).stdout
    assert stages_run(run(["dvc", "repro"], clone)) == []
    run(["dvc", "remote", "remove", "shared"], repo)


def wait_for_the_queue(repo, names, timeout_seconds=600):
    """Until every queued experiment has finished; their states as `dvc queue status` shows them."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        rows = [line.split() for line in run(["dvc", "queue", "status"], repo).stdout.splitlines()]
        states = {name: row[-1] for row in rows for name in names if name in row}  # Task Name Created Status
        if len(states) == len(names) and not {"Queued", "Running"} & set(states.values()):
            return states
        assert time.monotonic() < deadline, rows
        time.sleep(2)


def test_a_sweep_run_in_one_clone_is_pulled_applied_and_used_in_another(repo, first_repro, tmp_path):
    """The team workflow of the README: a machine runs a queued sweep and pushes it to a shared git remote and
    a shared DVC remote; another clone pulls it, compares it, applies one and gets its outputs without
    recomputing anything."""
    shared_git, shared_dvc = tmp_path / "shared.git", tmp_path / "shared-dvc"
    run(["git", "init", "-q", "--bare", str(shared_git)], tmp_path)
    run(["git", "remote", "add", "origin", str(shared_git)], repo)
    run(["dvc", "remote", "add", "--default", "team", str(shared_dvc)], repo)
    commit(repo, "baseline of the sweep, with the team's remotes")
    run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], repo)
    run(["dvc", "push"], repo)
    names = ["upper-0.52", "upper-0.6"]
    for name in names:
        run(["dvc", "exp", "run", "--queue", "--name", name, "-S", f"backtest.upper={name.split('-')[1]}"], repo)
    # The queue's workers outlive `dvc queue start` and would hold a captured stdout open: theirs goes nowhere.
    subprocess.run(["dvc", "queue", "start", "-j", "2"], cwd=repo, check=True, timeout=120, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    try:
        assert set(wait_for_the_queue(repo, names).values()) == {"Success"}
    finally:
        run(["dvc", "queue", "stop"], repo, check=False)
    run(["dvc", "exp", "push", "origin", *names], repo)  # git refs to origin, outputs to the default DVC remote

    clone = tmp_path / "second-machine"
    run(["git", "clone", "-q", "-b", "main", str(shared_git), str(clone)], tmp_path)
    run(["dvc", "exp", "pull", "origin", *names], clone)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], clone).stdout)
    pulled = {exp["name"]: exp["revs"][0]["data"] for baseline in shown for exp in baseline.get("experiments") or []}
    assert set(pulled) == set(names)
    for name in names:
        assert pulled[name]["params"]["params.yaml"]["data"]["backtest"]["upper"] == float(name.split("-")[1])
        assert "annualised_sharpe" in pulled[name]["metrics"]["metrics/BTC_backtest.json"]["data"]["lstm"]
    run(["dvc", "exp", "apply", "upper-0.6"], clone)
    run(["dvc", "pull"], clone)
    assert (clone / paths.model("BTC")).read_bytes() == (repo / paths.model("BTC")).read_bytes()
    assert UP_TO_DATE in run(["dvc", "status"], clone).stdout
    assert stages_run(run(["dvc", "repro"], clone)) == []  # nothing recomputed
    run(["dvc", "remote", "remove", "team"], repo)
    run(["git", "remote", "remove", "origin"], repo)
