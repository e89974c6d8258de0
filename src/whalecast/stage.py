"""Entry point shared by the stage scripts: logging set-up, the currency argument, clean failures."""

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from whalecast.errors import InputError


def run(main: Callable[[str], None]) -> None:
    """Call main(currency) from `python stages/<name>.py CURRENCY`; bad input exits 1 with one line."""
    stage_name = Path(sys.argv[0]).stem
    if len(sys.argv) != 2:
        sys.exit(f"usage: python stages/{stage_name}.py CURRENCY")
    currency = sys.argv[1]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{stage_name} {currency}: %(message)s"))
    package_log = logging.getLogger("whalecast")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    try:
        main(currency)
    except InputError as error:
        print(f"{stage_name} {currency}: error: {error}", file=sys.stderr)
        sys.exit(1)
