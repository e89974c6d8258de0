"""What the benchmarks share: running one child process and reading its wall time and peak memory."""

import os
import subprocess
import sys
import time
from pathlib import Path

MiB = 2**20


def measure(argv: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of `python argv...` run in cwd; exits with its log if it fails."""
    log_path = Path(cwd) / "child.log"
    with open(log_path, "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *argv], cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the max over every child so far.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status)
    if returncode:
        sys.exit(f"{' '.join(argv)} failed (exit {returncode}):\n{log_path.read_text()}")
    return seconds, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux
