"""How long a fetcher waits before it asks a web API again: as long as the server says, within reason."""

import email.utils
import math
import time

from whalecast.errors import InputError

# A server that asks for more than this is down for the day, or wrong: stop, and let a rerun resume.
MAX_WAIT_SECONDS = 600


def wait_seconds(headers, fallback: float, where: str, answer: str) -> float:
    """The wait the server's Retry-After asks for (seconds, or an HTTP date), else `fallback` (the client's own
    back-off); a longer wait than MAX_WAIT_SECONDS is an InputError naming it."""
    value = next((value for name, value in (headers or {}).items() if name.lower() == "retry-after"), None)
    asked = _seconds(value)
    if asked is None or not math.isfinite(asked) or asked < 0:
        return fallback
    if asked > MAX_WAIT_SECONDS:
        raise InputError(where, f"{answer}, which asks to wait {asked:.0f} s (more than {MAX_WAIT_SECONDS}): run again "
                                "later to resume")
    return asked


def _seconds(value) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
