"""What the command-line tools share."""

import argparse

import pandas as pd


def utc_time(text: str) -> pd.Timestamp:
    """A date or time, UTC unless it carries an offset; ValueError when the text is neither."""
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_epoch_seconds(text: str) -> int:
    """An argparse type: utc_time as epoch seconds."""
    try:
        return int(utc_time(text).timestamp())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {text!r}") from None
