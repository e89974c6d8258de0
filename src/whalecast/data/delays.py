"""When an event became known: the delay after its timestamp from which it counts in the features, and the check
that rounded timestamps are covered by it.

A whale transfer is stamped with its block time, a headline with its publication time; either can reach a trader
later. A stream's delay (whale_report_delay_seconds; sources.<name>.delay_seconds of an event source) makes each
event count from timestamp + delay on. A source whose timestamps are rounded (to the minute, the hour, the day)
needs a delay of at least the rounding step, or a rounded stamp would put an event in the hour before it happened.
"""

import logging

import numpy as np
import pandas as pd

from whalecast import settings
from whalecast.errors import InputError

log = logging.getLogger(__name__)

# An event known a month after it happened would make no feature worth having; longer delays are typos.
MAX_DELAY_SECONDS = 30 * 24 * 3600


@settings.section(None)
class ReportDelay:
    """params.yaml whale_report_delay_seconds: a whale transfer counts from its timestamp + this delay on."""

    whale_report_delay_seconds: float = settings.within(0, MAX_DELAY_SECONDS, why=" (30 days)")

    @property
    def delay(self) -> pd.Timedelta:
        return pd.Timedelta(seconds=self.whale_report_delay_seconds)


_RESOLUTION_NAMES = {60: "a whole minute", 3600: "a whole hour", 86400: "a whole day"}


def check_time_resolution(table: pd.DataFrame, source: str, delay: pd.Timedelta, stream: str = "whales") -> None:
    """Refuse timestamps rounded to a minute or more, unless each counts from its stamp + the rounding step (the
    stream's delay: whale_report_delay_seconds, or sources.<name>.delay_seconds of an event source): a rounded
    stamp can put an event in the hour before it happened. `stream` is whales or the name of an event source.

    Rounding is inferred when every timestamp is a multiple of the step; three records make that unlikely
    by chance (1 in 216,000 for whole minutes)."""
    nanoseconds = table["timestamp"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if len(nanoseconds) < 3 or np.any(nanoseconds % 10**9):
        return
    step = int(np.gcd.reduce(nanoseconds // 10**9))
    if step < 60:
        return
    whales = stream == "whales"
    one, many = ("a transfer", "transfers") if whales else ("an item", "items")
    delay_setting = "whale_report_delay_seconds" if whales else f"sources.{stream}.delay_seconds"
    date_only = step % 86400 == 0
    described = "midnight" if date_only else _RESOLUTION_NAMES.get(step, f"a multiple of {step} s")
    counted = f"{described} ({len(nanoseconds)} records)" + (", likely a date-only export" if date_only else "")
    if delay.total_seconds() < step:
        raise InputError(source, f"every timestamp is {counted}: rounded times can put {one} in the hour "
                                 f"before it happened; if the source is that coarse, set {delay_setting} to at least "
                                 f"{step}")
    if date_only:  # accepted, but a day's events then count only from the next midnight: worth a look
        log.warning("%s: every timestamp is midnight, likely a date-only export; each counts from its stamp + %s "
                    "(%g s), so a day's %s count from the next midnight on", stream, delay_setting,
                    delay.total_seconds(), many)
        return
    log.info("%s: every timestamp is %s; each counts from its stamp + %s (%g s)", stream, described, delay_setting,
             delay.total_seconds())
