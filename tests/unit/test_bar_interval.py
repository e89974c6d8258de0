"""Files that are not hourly: the bar interval of a price file is detected and anything but 1 hour refused; the
share of hours ingest would invent (filled flat) is capped; whale files stamped only with dates are named."""

import logging

import pandas as pd
import pytest

from whalecast.data import delays, price_bars, raw_files
from whalecast.errors import InputError

HEADER = "timestamp,open,high,low,close,volume\n"


def price_file(tmp_path, stamps):
    path = tmp_path / "BTC.csv"
    path.write_text(HEADER + "".join(f"{stamp:%Y-%m-%dT%H:%M:%SZ},100,101,99,100.5,10\n" for stamp in stamps))
    return raw_files.read_csv(path)


@pytest.mark.parametrize("step, named", [
    (pd.Timedelta(days=1), "1 day"), (pd.Timedelta(hours=4), "4 hours"), (pd.Timedelta(minutes=5), "5 minutes"),
    (pd.Timedelta(days=7), "7 days"), (pd.Timedelta(minutes=30), "30 minutes"),
])
def test_bars_that_are_not_hourly_are_refused_naming_the_interval(tmp_path, step, named):
    table = price_file(tmp_path, pd.date_range("2024-01-01", periods=125, freq=step, tz="UTC"))
    with pytest.raises(InputError) as raised:
        price_bars.clean_prices(table, max_gap_hours=72)
    assert str(raised.value) == (f"{tmp_path / 'BTC.csv'}: bars are {named} apart (the most common step between "
                                 "timestamps), not 1 hour: the pipeline reads hourly bars; export the hourly file or "
                                 "resample it to 1 hour")


def test_the_daily_file_of_the_issue_is_refused_even_within_the_gap_limit(tmp_path):
    # 125 daily bars: each 23-hour gap is under max_gap_hours, so it once passed as 96% invented hourly data.
    table = price_file(tmp_path, pd.date_range("2024-01-01", periods=125, freq="D", tz="UTC"))
    with pytest.raises(InputError, match="bars are 1 day apart"):
        price_bars.clean_prices(table, max_gap_hours=72, max_filled_share=1.0)


def test_an_hourly_file_with_gaps_and_repeats_is_still_hourly(tmp_path):
    hours = pd.date_range("2024-01-01", periods=200, freq="h", tz="UTC")
    stamps = [*hours[:50], *hours[53:120], *hours[118:]]  # a 3-hour gap and two repeated hours (exact duplicates)
    bars = price_bars.clean_prices(price_file(tmp_path, stamps), max_gap_hours=72)
    assert len(bars) == 200 and int(bars["filled"].sum()) == 3


@pytest.mark.parametrize("missing, allowed", [(30, False), (5, True)])
def test_the_share_of_filled_hours_is_capped(tmp_path, caplog, missing, allowed):
    hours = pd.date_range("2024-01-01", periods=130, freq="h", tz="UTC")
    table = price_file(tmp_path, [*hours[:50], *hours[50 + missing:]])
    if not allowed:
        with pytest.raises(InputError) as raised:
            price_bars.clean_prices(table, max_gap_hours=72, max_filled_share=0.05)
        assert str(raised.value) == (f"{tmp_path / 'BTC.csv'}: 30 of 130 hours (23.1%) are missing and would be "
                                     "filled flat, more than data.max_filled_share=0.05 allows; a model would learn "
                                     "a market that is partly invented")
        return
    with caplog.at_level(logging.INFO, logger="whalecast"):
        bars = price_bars.clean_prices(table, max_gap_hours=72, max_filled_share=0.05)
    assert int(bars["filled"].sum()) == 5
    assert "5 missing hours in 1 gaps (longest 5 h) filled as flat zero-volume bars (3.8% of the hours)" in caplog.text


def test_exactly_at_the_cap_is_allowed(tmp_path):
    hours = pd.date_range("2024-01-01", periods=100, freq="h", tz="UTC")
    bars = price_bars.clean_prices(price_file(tmp_path, [*hours[:40], *hours[45:]]), max_gap_hours=72,
                               max_filled_share=0.05)
    assert int(bars["filled"].sum()) == 5


def whale_times(seconds):
    return pd.DataFrame({"timestamp": pd.to_datetime(seconds, unit="s", utc=True)})


def test_a_whale_file_stamped_at_midnight_only_is_named_a_date_only_export(caplog):
    midnights = whale_times([1709251200, 1709337600, 1709596800])
    with pytest.raises(InputError) as raised:
        delays.check_time_resolution(midnights, "data/raw/whales/BTC.csv", pd.Timedelta(0))
    assert str(raised.value) == ("data/raw/whales/BTC.csv: every timestamp is midnight (3 records), likely a date-only "
                                 "export: rounded times can put a transfer in the hour before it happened; if the "
                                 "source is that coarse, set whale_report_delay_seconds to at least 86400")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        delays.check_time_resolution(midnights, "data/raw/whales/BTC.csv", pd.Timedelta(days=1))
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", "whales: every timestamp is midnight, likely a date-only export; each counts from its stamp + "
                    "whale_report_delay_seconds (86400 s), so a day's transfers count from the next midnight on")]
