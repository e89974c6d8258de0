"""Benchmark: the whole default pipeline as a user waits for it, `dvc repro` from nothing to the report.

Clones the repository (its last commit) into the git-ignored scratch directory benchmarks/.data/pipeline/, as a
user does, and runs `dvc repro --force` there (forced: a clone has the committed lock, and a stage whose
outputs are in git would otherwise be skipped): the default params (BTC and ETH on the sample market), every
stage from ingest to the report. Prints the wall time of the whole run and of each stage (from the
moment DVC announces it to the next announcement) and the peak memory of the largest stage process.
Target (issue 8): the whole run under 5 minutes on 2 cores. Checks that the run reproduced the commit (the
pipeline is deterministic): the clone's metrics files equal the committed ones, byte for byte, and
`git status` in the clone is clean. Writes the figures to benchmarks/results/pipeline.json; exits 1 when the
target is missed or a check fails.

    make benchmark                 # with the other benchmarks
    python benchmarks/pipeline.py  # this one
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, MiB, git, record

SCRATCH = REPO / "benchmarks" / ".data" / "pipeline"
TARGET_SECONDS = 300
STAGE_LINE = re.compile(r"^Running stage '([^']+)'")


def clone() -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO), str(SCRATCH)], check=True)


def timed_repro() -> tuple[float, dict[str, float], list[str]]:
    """Wall seconds of `dvc repro` and of each stage in it, read from DVC's output as it arrives; and the output."""
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    process = subprocess.Popen(["dvc", "repro", "--force"], cwd=SCRATCH, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    stages, current, since, log = {}, None, start, []
    for line in process.stdout:
        log.append(line)
        match = STAGE_LINE.match(line)
        if match:
            now = time.perf_counter()
            if current:
                stages[current] = now - since
            current, since = match.group(1), now
    if process.wait():
        sys.exit(f"dvc repro failed:\n{''.join(log[-30:])}")
    total = time.perf_counter() - start
    stages[current] = total - (since - start)
    return total, stages, log


def by_kind(stages: dict[str, float]) -> dict[str, float]:
    """Seconds per kind of stage ("train" for train@BTC and train@ETH), in the order DVC ran them."""
    kinds: dict[str, float] = {}
    for name, seconds in stages.items():
        kinds[name.split("@")[0]] = kinds.get(name.split("@")[0], 0.0) + seconds
    return {kind: round(seconds, 2) for kind, seconds in kinds.items()}


def reproduction_checks() -> dict[str, bool]:
    """Whether the repro left the clone as committed: metrics files and the whole working tree."""
    # The clone's HEAD is the main checkout's HEAD at clone time, the commit the figures are recorded for.
    changed_metrics = git(SCRATCH, "status", "--porcelain", "--", "metrics")
    changed = git(SCRATCH, "status", "--porcelain")
    for line in changed.splitlines():
        print(f"  changed by the repro: {line}")
    return {"the metrics files equal the committed ones": not changed_metrics,
            "`git status` in the clone is clean": not changed}


def main() -> int:
    clone()
    total, stages, _ = timed_repro()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest process waited for
    seconds_by_kind = by_kind(stages)
    currencies = sorted({name.split("@")[1] for name in stages if "@" in name})
    print(f"pipeline benchmark: dvc repro of the default params ({len(stages)} stages), on {os.cpu_count()} cores")
    for kind, seconds in seconds_by_kind.items():
        print(f"  {kind:<13} {seconds:6.1f} s")
    print(f"whole pipeline: {total:.1f} s; peak memory of a stage {peak / MiB:,.0f} MiB")
    measured = {"seconds": round(total, 2), "seconds_by_stage": seconds_by_kind, "peak_bytes": peak}
    targets = {f"whole pipeline under {TARGET_SECONDS} s": total < TARGET_SECONDS}
    size = {"currencies": currencies, "stages": len(stages)}
    return record("pipeline", size, measured, targets, reproduction_checks(), checkout=SCRATCH)


if __name__ == "__main__":
    sys.exit(main())
