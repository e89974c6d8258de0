"""The end-to-end tests' reproduced repositories: a tiny project, a git repository after a real `dvc repro`, made
once per pytest run and cloned by each test module that needs one (the clones share its DVC cache).

A repository is made under a lock, by whichever process asks first: a pytest worker, or the process that the
first worker starts in the background as soon as the tests are collected (`python tests/shared_repos.py NAME DIR`),
so that it is made while the first test modules run. A repository made is marked done; why one failed is in the
failing fixture's error, and for the background process in DIR/NAME.background.log.

The clones share the repository's DVC cache, and with it DVC's run-cache: a `dvc repro` or `dvc exp run` in one
module restores, without running it, a stage another module ran with the same code, params and inputs. Modules
that assert which stages ran therefore change params no other module sets to the same values.

    python tests/shared_repos.py pipeline /tmp/repos   # the shared BTC repository in /tmp/repos/pipeline
"""

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import HOURS, TINY_MODEL, commit, copy_project, edit_params, run

# The params of each shared repository: the tiny one of the pipeline, experiment and predict tests (BTC), and the
# stage glue's (two currencies other than BTC, one without a profile in the sample market; a horizon of 3 hours).
SHARED = {
    "pipeline": {"currencies": ["BTC"], "data.synthetic.hours": HOURS, **TINY_MODEL},
    "glue": {"currencies": ["ETH", "SOL"], "data.synthetic.hours": 800, **TINY_MODEL,
             "target.horizon_hours": 3, "target.min_move": 0.002},
}
DONE, LOG, ERRORS = ".reproduced", ".repro.log", ".repro.stderr"
# Two repositories made side by side while both workers run tests: well above a repro's time on an idle machine.
REPRO_TIMEOUT_SECONDS = 1200


def reproduced(name: str, root: Path) -> Path:
    """The repository `name` in root, made now unless it was made before (or is being made: then after it)."""
    repository = root / name
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (repository / DONE).exists():
            make(repository, SHARED[name])
    return repository


def make(repository: Path, params: dict) -> None:
    if repository.exists():  # an attempt that failed: its log says why, a new attempt starts from nothing
        subprocess.run(["rm", "-rf", str(repository)], check=True)
    copy_project(repository)
    edit_params(repository, **params)
    run(["git", "init", "-q"], repository)
    commit(repository, "the tiny project")
    repro = run(["dvc", "repro"], repository, timeout=REPRO_TIMEOUT_SECONDS)
    (repository / ".git" / "info" / "exclude").write_text(f"{DONE}\n{LOG}\n{ERRORS}\n")
    (repository / LOG).write_text(repro.stdout, encoding="utf-8")
    (repository / ERRORS).write_text(repro.stderr, encoding="utf-8")
    commit(repository, "reproduced")
    (repository / DONE).touch()


def first_repro(repository: Path) -> subprocess.CompletedProcess:
    """The output of the `dvc repro` that made the repository."""
    return subprocess.CompletedProcess(["dvc", "repro"], 0, (repository / LOG).read_text(encoding="utf-8"),
                                       (repository / ERRORS).read_text(encoding="utf-8"))


def clone(repository: Path, destination: Path) -> Path:
    """A git clone of the repository with its outputs, checked out from its DVC cache (which the clone uses too)."""
    run(["git", "clone", "-q", str(repository), str(destination)], repository.parent)
    run(["git", "remote", "remove", "origin"], destination)  # a project of its own, as the tests' remotes expect
    run(["dvc", "cache", "dir", "--local", str(repository / ".dvc" / "cache")], destination)
    run(["dvc", "checkout", "-q"], destination)
    return destination


def start_in_background(names: list[str], root: Path) -> list[subprocess.Popen]:
    """Make the repositories in background processes (each waits for the lock a worker may hold), each the leader
    of its own process group, so that `stop` ends its `dvc repro` and stages with it."""
    root.mkdir(parents=True, exist_ok=True)
    processes = []
    for name in names:
        with open(root / f"{name}.background.log", "w") as log:
            processes.append(subprocess.Popen([sys.executable, __file__, name, str(root)], stdout=subprocess.DEVNULL,
                                              stderr=log, start_new_session=True))
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    """At the end of the run: one still at work was needed by no test that ran (an interrupted run, or a selection)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait()


if __name__ == "__main__":
    reproduced(sys.argv[1], Path(sys.argv[2]))
