"""Entry point shared by the stage scripts: logging set-up, the currency argument, clean failures.

Every line a stage logs reads `<stage> <CUR>: <level>: <message>` (level info, warning or error), so that
`dvc repro 2>&1 | grep -i warning` finds every warning; the last line before any error counts them.
"""

import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from whalecast import storage
from whalecast.errors import InputError


class Interrupted(BaseException):
    """SIGINT or SIGTERM: raised where the stage is, so that its temporary files are removed on the way out."""

    def __init__(self, signal_number: int):
        self.signal_number = signal_number
        super().__init__(signal.Signals(signal_number).name)


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.level = record.levelname.lower()
        return super().format(record)


class _WarningCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


# Signals that arrived while the outputs were renamed into place: acted on once all are.
_during_renames: list[int] = []


def _interrupt(signal_number, frame):
    # A signal reaches Python's handler in the main thread whichever thread the kernel gave it to, so a flag,
    # not a signal mask, keeps it from splitting the renames.
    if storage.renaming():
        _during_renames.append(signal_number)
        return
    raise Interrupted(signal_number)


def run(main: Callable[..., None], per_currency: bool = True) -> None:
    """Call main(currency) from `python stages/<name>.py CURRENCY` (or main() from `python stages/<name>.py`
    for a stage of all currencies); bad input exits 1 with one line, an interrupt 128 + the signal number.
    The stage's output files replace the old ones together, when main returns."""
    stage_name = Path(sys.argv[0]).stem
    if len(sys.argv) != 1 + per_currency:
        sys.exit(f"usage: python stages/{stage_name}.py{' CURRENCY' if per_currency else ''}")
    arguments = sys.argv[1:]
    prefix = " ".join([stage_name, *arguments])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter(f"{prefix}: %(level)s: %(message)s"))
    counter = _WarningCounter()
    # On the root logger: the package logs from info on, other libraries (and Python warnings) their warnings.
    logging.getLogger().handlers = [handler, counter]
    logging.getLogger("whalecast").setLevel(logging.INFO)
    logging.captureWarnings(True)
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, _interrupt)

    started = time.perf_counter()

    def end(error: str = "", code: int = 0) -> None:
        """The count of warnings, then the error (if any) as the last line, with its exit code. A finished stage
        says how long its own work took (`dvc repro`'s bookkeeping around it not included)."""
        count = f"{counter.count} warning{'' if counter.count == 1 else 's'}"
        done = f"done in {time.perf_counter() - started:.2f} s, {count}"
        print(f"{prefix}: info: {count if error else done}", file=sys.stderr)
        if error:
            print(f"{prefix}: error: {error}", file=sys.stderr)
            sys.exit(code)

    try:
        with storage.outputs_together():
            main(*arguments)
    except InputError as error:
        end(str(error), 1)
    except Interrupted as interruption:
        end(f"interrupted ({interruption}); outputs left as they were", 128 + interruption.signal_number)
    if _during_renames:
        end(f"interrupted ({signal.Signals(_during_renames[0]).name}) while the outputs were replaced; all of them "
            "are new", 128 + _during_renames[0])
    end()
