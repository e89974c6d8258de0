"""Benchmark: the README's two commands as a newcomer runs them, on a fresh clone.

Clones the repository (its last commit, or --commit) into the git-ignored scratch directory
benchmarks/.data/fresh_clone/ and times there, one after the other: `make install` (the set-up the two commands
share: a new venv, the pinned packages from the registry, pip's download cache as this machine has it), then
`make repro` and `make test` with the venv installed, as the README states them. Checks that what was timed is
right: `make repro` reproduced the committed results (`git status` and `dvc status` clean afterwards) and
`make test` passed; records how many tests ran. Targets (issue 25): `make test` at most 5 minutes on 2 cores, and
`make repro` no slower than before the move to subpackages (its time at 019ea6d on this machine type).

    python benchmarks/fresh_clone.py                   # the last commit
    python benchmarks/fresh_clone.py --commit 019ea6d  # another, for a before-and-after (nothing is recorded)
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

from common import REPO, git, record

SCRATCH = REPO / "benchmarks" / ".data" / "fresh_clone"
TEST_TARGET_SECONDS = 300
# `make repro` on a fresh clone of 019ea6d, before issue 25's changes: 143 s on 2026-12-08 (2 cores of AMD EPYC, AVX2,
# the set-up done before), plus 5% for the noise between two runs.
REPRO_TARGET_SECONDS = 150
PASSED = re.compile(r"(\d+) passed")
FAILED = re.compile(r"(\d+) (failed|error)")


def timed_make(target: str) -> tuple[float, str]:
    """Wall seconds and output of `make TARGET` in the clone; exits with the output's tail if it fails."""
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    start = time.perf_counter()
    result = subprocess.run(["make", target], cwd=SCRATCH, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    if result.returncode:
        sys.exit(f"make {target} failed (exit {result.returncode}):\n{output[-3000:]}")
    return seconds, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", help="clone this commit instead of the last one, and record nothing")
    args = parser.parse_args()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO), str(SCRATCH)], check=True)
    if args.commit:
        subprocess.run(["git", "-C", str(SCRATCH), "checkout", "-q", args.commit], check=True)

    install_seconds, _ = timed_make("install")
    repro_seconds, _ = timed_make("repro")
    changed = git(SCRATCH, "status", "--porcelain")
    dvc_status = subprocess.run([str(SCRATCH / ".venv" / "bin" / "dvc"), "status"], cwd=SCRATCH, capture_output=True,
                                text=True).stdout
    test_seconds, test_output = timed_make("test")
    passed = PASSED.findall(test_output)
    tests = int(passed[-1]) if passed else 0

    print(f"fresh clone of {git(SCRATCH, 'rev-parse', '--short', 'HEAD').strip()} on {os.cpu_count()} cores: "
          f"make install {install_seconds:.0f} s, make repro {repro_seconds:.0f} s, make test {test_seconds:.0f} s "
          f"({tests} passed)")
    for line in changed.splitlines():
        print(f"  changed by make repro: {line}")
    if args.commit:
        return 0
    measured = {"install_seconds": round(install_seconds, 1), "repro_seconds": round(repro_seconds, 1),
                "test_seconds": round(test_seconds, 1), "tests_passed": tests}
    targets = {f"make test at most {TEST_TARGET_SECONDS} s": test_seconds <= TEST_TARGET_SECONDS,
               f"make repro at most {REPRO_TARGET_SECONDS} s": repro_seconds <= REPRO_TARGET_SECONDS}
    checks = {"make repro left `git status` clean": not changed,
              "make repro left `dvc status` up to date": "Data and pipelines are up to date." in dvc_status,
              "make test passed": tests > 0 and not FAILED.search(test_output)}
    return record("fresh_clone", {"commands": ["make install", "make repro", "make test"]}, measured, targets, checks,
                  checkout=SCRATCH)


if __name__ == "__main__":
    sys.exit(main())
