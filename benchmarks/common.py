"""What the benchmarks share: running one child process and reading its wall time and peak memory, and
recording a run (its figures, targets, checks and verdict, the commit and the machine) in
benchmarks/results/{name}.json."""

import contextlib
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

MiB = 2**20
# A stage's last line (whalecast.stage): its name, currency and own seconds, after Python's start-up and imports.
DONE_LINE = re.compile(r"^(\w+)(?: \S+)?: info: done in ([\d.]+) s,")
REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
# What the figures depend on: a change here that is not committed is recorded beside the commit.
MEASURED_CODE = ("src", "stages", "benchmarks/*.py", "params.yaml", "dvc.yaml", "requirements.lock")


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of `python argv...` run in cwd (with env, if given: the whole
    environment); exits with its log if it fails."""
    log_path = Path(cwd) / "child.log"
    with open(log_path, "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *argv], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max over every child so far.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status)
    if returncode:
        sys.exit(f"{' '.join(argv)} failed (exit {returncode}):\n{log_path.read_text()}")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def cpu() -> str:
    """The CPU model and the widest vector instructions it has: what the figures and float rounding depend on."""
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        fields = dict(line.split(":", 1) for line in info.read().split("\n\n")[0].splitlines() if ":" in line)
        model = fields.get("model name\t", model).strip()
        flags = set(fields.get("flags\t\t", "").split())
    vectors = "AVX-512" if "avx512f" in flags else "AVX2, no AVX-512" if "avx2" in flags else "no AVX2"
    return f"{model} ({vectors})" if flags else model


def git(checkout: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(checkout), *args], check=True, capture_output=True, text=True).stdout


def record(name: str, size: dict, measured: dict, targets: dict[str, bool], checks: dict[str, bool],
           checkout: Path = REPO, own_params: bool = False) -> int:
    """Write benchmarks/results/{name}.json and print the verdict line; the exit code is 1 unless every
    target is met and every check holds.

    targets and checks map a claim ("stage under 10 s") to whether it held: targets are speed and memory,
    checks are whether what was timed is correct. `checkout` is the working tree whose code ran: a clone of the
    last commit, for a benchmark that clones. With own_params, its params.yaml holds the benchmark's own sizes,
    not a change to what was measured.
    """
    measured_code = [path for path in MEASURED_CODE if not (own_params and path == "params.yaml")]
    result = {
        "benchmark": name,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "commit": git(checkout, "rev-parse", "HEAD").strip(),
        "uncommitted_changes": bool(git(checkout, "status", "--porcelain", "--", *measured_code)),
        "cores": os.cpu_count(),
        "cpu": cpu(),
        "size": size,
        "measured": measured,
        "targets": targets,
        "checks": checks,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"{name} benchmark: {verdict(result)} ({path.relative_to(REPO)})")
    return 1 if failures(result) else 0


def failures(result: dict) -> list[str]:
    """The targets missed and the checks failed, by claim."""
    return [claim for claim, held in {**result["targets"], **result["checks"]}.items() if not held]


def verdict(result: dict) -> str:
    """PASS or FAIL naming what did not hold: the same words in the benchmark's output and in the README."""
    failed = failures(result)
    return f"FAIL, not so: {'; '.join(failed)}" if failed else "PASS, every target met and every check held"
