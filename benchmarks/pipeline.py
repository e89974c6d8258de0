"""Benchmark: the whole default pipeline as a user waits for it, `dvc repro` from nothing to the report.

Clones the repository (its last commit) into the git-ignored scratch directory benchmarks/.data/pipeline/, as a
user does, and runs `dvc repro --force` there (forced: a clone has the committed lock, and a stage whose
outputs are in git would otherwise be skipped): the default params (BTC and ETH on the sample market), every
stage from ingest to the report. Prints the wall time of the whole run and of each stage (from the
moment DVC announces it to the next announcement) and the peak memory of the largest stage process.
Target (issue 8): the whole run under 5 minutes on 2 cores; the script exits 1 when it is missed.

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

from common import MiB

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO / "benchmarks" / ".data" / "pipeline"
TARGET_SECONDS = 300
STAGE_LINE = re.compile(r"^Running stage '([^']+)'")


def clone() -> None:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO), str(SCRATCH)], check=True)


def timed_repro() -> tuple[float, dict[str, float]]:
    """Wall seconds of `dvc repro` and of each stage in it, read from DVC's output as it arrives."""
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
    return total, stages


def main() -> int:
    clone()
    total, stages = timed_repro()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest process waited for
    by_kind: dict[str, float] = {}
    for name, seconds in stages.items():
        by_kind[name.split("@")[0]] = by_kind.get(name.split("@")[0], 0.0) + seconds
    print(f"pipeline benchmark: dvc repro of the default params ({len(stages)} stages), on {os.cpu_count()} cores")
    for kind, seconds in by_kind.items():
        print(f"  {kind:<13} {seconds:6.1f} s")
    print(f"whole pipeline: {total:.1f} s; peak memory of a stage {peak / MiB:,.0f} MiB")
    met = total < TARGET_SECONDS
    print(f"target (under {TARGET_SECONDS} s): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
