"""Entry point shared by the stage scripts: logging set-up, the currency argument, clean failures."""

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from whalecast.errors import InputError


def run(main: Callable[..., None], per_currency: bool = True) -> None:
    """Call main(currency) from `python stages/<name>.py CURRENCY` (or main() from `python stages/<name>.py`
    for a stage of all currencies); bad input exits 1 with one line."""
    stage_name = Path(sys.argv[0]).stem
    if len(sys.argv) != 1 + per_currency:
        sys.exit(f"usage: python stages/{stage_name}.py{' CURRENCY' if per_currency else ''}")
    arguments = sys.argv[1:]
    prefix = " ".join([stage_name, *arguments])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prefix}: %(message)s"))
    package_log = logging.getLogger("whalecast")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    try:
        main(*arguments)
    except InputError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr)
        sys.exit(1)
