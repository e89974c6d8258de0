"""The price layouts users download: generic CSV, Binance kline dumps, CryptoDataDownload; partial candles."""

import pandas as pd
import pytest

from conftest import REPO, edit_params, run_stage_in_process, small_market
from whalecast import paths, settings
from whalecast.data import clean, price_bars
from whalecast.errors import InputError

HOUR_MS = 3_600_000


def kline_line(open_ms: int, bar, unit_per_ms: int = 1) -> str:
    """One row of a Binance kline dump: 12 columns, no header; open/close time in ms (or us)."""
    close_time = (open_ms + HOUR_MS) * unit_per_ms - 1
    return (f"{open_ms * unit_per_ms},{bar.open:.2f},{bar.high:.2f},{bar.low:.2f},{bar.close:.2f},{bar.volume:.5f},"
            f"{close_time},{bar.volume * bar.close:.4f},1234,{bar.volume / 2:.5f},{bar.volume * bar.close / 2:.4f},0\n")


def cryptodatadownload_text(bars: pd.DataFrame, swapped_rows=(), unit="s") -> str:
    """URL line, header, newest first, `unix` in s or ms, two volume columns (some rows swapped)."""
    lines = ["https://www.CryptoDataDownload.com\n", "unix,date,symbol,open,high,low,close,Volume BTC,Volume USD\n"]
    for index in reversed(range(len(bars))):
        bar = bars.iloc[index]
        unix = int(bar.timestamp.timestamp()) * (1000 if unit == "ms" else 1)
        base, quote = bar.volume, bar.volume * bar.close
        if index in swapped_rows:
            base, quote = quote, base
        lines.append(f"{unix},{bar.timestamp:%Y-%m-%d %H:%M:%S},BTC/USD,{bar.open:.2f},{bar.high:.2f},{bar.low:.2f},"
                     f"{bar.close:.2f},{base:.8f},{quote:.6f}\n")
    return "".join(lines)


@pytest.fixture(scope="module")
def bars():
    return small_market(hours=72).prices


def read_clean(path, currency="BTC", price_format="auto"):
    table, layout = price_bars.read_prices(path, currency, price_format)
    return price_bars.clean_prices(table, max_gap_hours=72), layout


def test_binance_kline_dumps_switching_from_milliseconds_to_microseconds(tmp_path, bars):
    open_ms = [int(stamp.timestamp() * 1000) for stamp in bars["timestamp"]]
    # Two monthly dumps concatenated: the older in ms, the newer in us (Binance's 2025 format).
    text = "".join(kline_line(open_ms[i], bars.iloc[i], 1 if i < 40 else 1000) for i in range(len(bars)))
    (tmp_path / "BTC.csv").write_text(text)
    clean, layout = read_clean(tmp_path / "BTC.csv")
    assert layout == "binance_kline"
    assert clean["timestamp"].tolist() == bars["timestamp"].tolist()
    assert clean["close"].round(2).tolist() == bars["close"].round(2).tolist()


def test_cryptodatadownload_with_url_line_newest_first_and_swapped_volumes(tmp_path, bars, caplog):
    (tmp_path / "BTC.csv").write_text(cryptodatadownload_text(bars, swapped_rows=range(0, 30), unit="ms"))
    with caplog.at_level("INFO", logger="whalecast"):
        clean, layout = read_clean(tmp_path / "BTC.csv")
    assert layout == "cryptodatadownload"
    assert clean["timestamp"].tolist() == bars["timestamp"].tolist()
    assert clean["volume"].tolist() == pytest.approx(bars["volume"].tolist(), rel=1e-6)
    assert "30 of 72 rows" in caplog.text and "swapped back" in caplog.text
    assert "re-sorted" in caplog.text


def test_errors_in_a_cryptodatadownload_file_name_the_file_line(tmp_path, bars):
    lines = cryptodatadownload_text(bars).splitlines(keepends=True)
    fields = lines[4].split(",")  # line 5 of the file: the URL line and the header come first
    fields[3] = "abc"  # open
    lines[4] = ",".join(fields)
    (tmp_path / "BTC.csv").write_text("".join(lines))
    with pytest.raises(InputError, match=r"BTC.csv: line 5: open 'abc' is not a number"):
        read_clean(tmp_path / "BTC.csv")


def test_a_forced_layout_that_does_not_fit_is_named(tmp_path, bars):
    path = tmp_path / "BTC.csv"
    path.write_text("timestamp,open,high,low,close,volume\n2024-03-01T00:00:00Z,1,2,1,2,3\n")
    with pytest.raises(InputError, match="BTC.csv: line 1 has 6 columns; this layout has 12"):
        price_bars.read_prices(path, "BTC", "binance_kline")


@pytest.mark.parametrize("setting,layout,kept", [
    ("auto", "generic", 71), ("auto", "binance_kline", 72), ("auto", "cryptodatadownload", 71),
    ("keep", "generic", 72), ("drop", "binance_kline", 71),
])
def test_the_newest_bar_of_a_download_is_dropped_unless_known_complete(project, bars, setting, layout, kept):
    edit_params(project, **{"data.source": "files", "data.partial_candle": setting, "currencies": ["BTC"]})
    prices_path = project / paths.raw_prices("BTC")
    prices_path.parent.mkdir(parents=True, exist_ok=True)
    open_ms = [int(stamp.timestamp() * 1000) for stamp in bars["timestamp"]]
    prices_path.write_text({
        "generic": "timestamp,open,high,low,close,volume\n" + "".join(
            f"{stamp.isoformat()},{bar.open},{bar.high},{bar.low},{bar.close},{bar.volume}\n"
            for stamp, (_, bar) in zip(bars["timestamp"], bars.iterrows())),
        "binance_kline": "".join(kline_line(open_ms[i], bars.iloc[i]) for i in range(len(bars))),
        "cryptodatadownload": cryptodatadownload_text(bars),
    }[layout])
    whales_path = project / paths.raw_whales_json("BTC")
    whales_path.parent.mkdir(parents=True, exist_ok=True)
    whales_path.write_text('{"result": "success", "count": 0}')
    result = run_stage_in_process(project, "ingest")
    clean = pd.read_parquet(project / paths.prices("BTC"))
    assert len(clean) == kept
    assert f"read as {layout} (detected)" in result.stderr
    assert ("newest bar" in result.stderr) == (kept == 71)


def test_a_directory_of_monthly_dumps_is_one_price_history(project, bars):
    edit_params(project, **{"data.source": "files", "currencies": ["BTC"]})
    monthly = project / paths.raw_prices_dir("BTC")
    monthly.mkdir(parents=True)
    open_ms = [int(stamp.timestamp() * 1000) for stamp in bars["timestamp"]]
    # Downloaded as they are: the newer month in microseconds, and listed before the older one on disk.
    (monthly / "BTCUSDT-1h-2024-02.csv").write_text("".join(kline_line(open_ms[i], bars.iloc[i], 1000)
                                                            for i in range(40, len(bars))))
    (monthly / "BTCUSDT-1h-2024-01.csv").write_text("".join(kline_line(open_ms[i], bars.iloc[i]) for i in range(40)))
    whales_path = project / paths.raw_whales_json("BTC")
    whales_path.parent.mkdir(parents=True, exist_ok=True)
    whales_path.write_text('{"result": "success", "count": 0}')
    run_stage_in_process(project, "ingest")
    clean = pd.read_parquet(project / paths.prices("BTC"))
    assert clean["timestamp"].tolist() == bars["timestamp"].tolist()  # all kept: dumps hold closed months only

    broken = (monthly / "BTCUSDT-1h-2024-01.csv").read_text().splitlines(keepends=True)
    broken[2] = broken[2].replace(",", ",x", 1)
    (monthly / "BTCUSDT-1h-2024-01.csv").write_text("".join(broken))
    result = run_stage_in_process(project, "ingest", check=False)
    assert result.returncode == 1
    assert "data/raw/prices/BTC: BTCUSDT-1h-2024-01.csv: line 3: open 'x" in result.stderr.splitlines()[-1]


# --- the partial-candle rule, per file (issue 25) -------------------------------------------------------------

def flat_bars(start: str, closes, kline=False) -> str:
    """One flat bar an hour from `start`: a generic file (epoch seconds, as a kline dump's beside it must be
    numbers too), or a Binance kline dump."""
    times = pd.date_range(start, periods=len(closes), freq="h", tz="UTC")
    if kline:
        return "".join(kline_line(int(time.timestamp() * 1000), pd.Series(
            {"open": close, "high": close, "low": close, "close": close, "volume": 10.0})) for time, close in zip(times, closes))
    return "timestamp,open,high,low,close,volume\n" + "".join(
        f"{int(time.timestamp())},{close},{close},{close},{close},10\n" for time, close in zip(times, closes))


def prices_of_files(tmp_path, monkeypatch, files: dict[str, str], **data) -> pd.DataFrame:
    """clean_data's prices of these files in data/raw/prices/BTC/, with params.yaml's data section and `data`."""
    monkeypatch.chdir(tmp_path)
    directory = paths.raw_prices_dir("BTC")
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    data = {**settings.read(REPO / "params.yaml")["data"], "source": "files", "max_filled_share": 0.5, **data}
    return clean.clean_prices_from_files("BTC", settings.build(clean.DataSettings, data, "data"))


def test_the_newest_bar_of_every_downloaded_file_is_dropped_not_only_the_historys(tmp_path, monkeypatch):
    # Two exports, each saved while its last hour was open: 05:00 and 11:00 may be partial; 06:00 and 07:00 are in
    # neither file. The hours between are filled flat (and counted) at 04:00's close, as any missing hours.
    prices = prices_of_files(tmp_path, monkeypatch, {"a.csv": flat_bars("2024-03-01", [100, 101, 102, 103, 104, 105]),
                                                     "b.csv": flat_bars("2024-03-01 08:00", [108, 109, 110, 111])})
    assert prices["close"].tolist() == [100, 101, 102, 103, 104, 104, 104, 104, 108, 109, 110]
    assert prices["filled"].tolist() == [False] * 5 + [True] * 3 + [False] * 3
    assert prices["timestamp"].iloc[-1] == pd.Timestamp("2024-03-01 10:00", tz="UTC")


def test_a_dropped_hour_that_a_later_file_holds_is_read_from_that_file(tmp_path, monkeypatch, caplog):
    # a.csv was saved at 05:30: its 05:00 bar (105.5) was still open; b.csv, saved later, holds the closed 05:00 (105).
    with caplog.at_level("INFO", logger="whalecast"):
        prices = prices_of_files(tmp_path, monkeypatch, {"a.csv": flat_bars("2024-03-01", [100, 101, 102, 103, 104, 105.5]),
                                                         "b.csv": flat_bars("2024-03-01 05:00", [105, 106, 107, 108, 109])})
    assert prices["close"].tolist() == [100, 101, 102, 103, 104, 105, 106, 107, 108]
    assert not prices["filled"].any()
    assert ("prices: newest bar of 2 files dropped (2024-03-01 05:00, a.csv: line 7; 2024-03-01 09:00, b.csv: line 6): "
            "it may have been still open when the file was saved (data.partial_candle: auto); 1 of these hours is read "
            "from another file that holds it") in caplog.messages


@pytest.mark.parametrize("setting, closes, filled", [
    # The generic export's newest bar (02:00) is dropped and filled; the kline dump's (05:00) is a closed month's.
    ("auto", [100, 101, 101, 103, 104, 105], [False, False, True, False, False, False]),
    ("drop", [100, 101, 101, 103, 104], [False, False, True, False, False]),
    ("keep", [100, 101, 102, 103, 104, 105], [False] * 6),
])
def test_the_partial_candle_setting_applies_to_each_file_by_its_layout(tmp_path, monkeypatch, setting, closes, filled):
    prices = prices_of_files(tmp_path, monkeypatch, {"a.csv": flat_bars("2024-03-01", [100, 101, 102]),
                                                     "b.csv": flat_bars("2024-03-01 03:00", [103, 104, 105], kline=True)},
                             partial_candle=setting)
    assert prices["close"].tolist() == closes
    assert prices["filled"].tolist() == filled


def test_files_of_one_bar_each_leave_no_price_bars(tmp_path, monkeypatch):
    with pytest.raises(InputError) as raised:
        prices_of_files(tmp_path, monkeypatch, {"a.csv": flat_bars("2024-03-01", [100]),
                                                "b.csv": flat_bars("2024-03-01 01:00", [101])})
    assert str(raised.value) == ("data/raw/prices/BTC: no price bars left: the newest bar of each file was dropped (it "
                                 "may have been still open when the file was saved (data.partial_candle: auto))")


def test_a_newest_bar_skipped_as_a_bad_row_takes_no_other_bar_with_it(tmp_path, monkeypatch):
    text = flat_bars("2024-03-01", [100, 101, 102, 103, 104, 105]).replace(",105,105,105,105,", ",105,105,105,abc,")
    prices = prices_of_files(tmp_path, monkeypatch, {"a.csv": text}, bad_rows="skip")
    assert prices["close"].tolist() == [100, 101, 102, 103, 104]
