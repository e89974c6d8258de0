"""What the command-line tools share."""

import argparse

import pandas as pd


def utc_epoch_seconds(text: str) -> int:
    """An argparse type: a date or time, UTC unless it carries an offset, as epoch seconds."""
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {text!r}") from None
    return int((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp())
