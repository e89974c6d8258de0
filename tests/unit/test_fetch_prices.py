"""The ccxt price fetcher against a local server that answers like Binance: paging, a 429, a bad page."""

import subprocess
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from conftest import BIN, MARKET
from whalecast.acquire import fetch_prices
from whalecast.data import price_bars
from whalecast.errors import InputError

START_MS = 1735689600000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000
HOURS = 50  # the exchange's whole history of the fake market
class FakeBinance:
    """Spot exchangeInfo and /api/v3/klines over HOURS hours; optionally one 429, or a malformed page."""

    def __init__(self, local_server, rate_limit_once=False, malformed_from_ms=None):
        self.klines_requests, self.rate_limit_once, self.malformed_from_ms = [], rate_limit_once, malformed_from_ms
        self.url = local_server(self.respond).url

    def respond(self, path, headers):
        url = urlsplit(path)
        if url.path.endswith("/exchangeInfo"):  # spot, and the futures markets ccxt also loads: none
            return 200, {"timezone": "UTC", "serverTime": START_MS,
                         "symbols": [MARKET] if url.path.startswith("/api/v3") else []}, {}
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        start, limit = int(query["startTime"]), int(query["limit"])
        self.klines_requests.append(start)
        if self.rate_limit_once:
            self.rate_limit_once = False
            return 429, {"code": -1003, "msg": "Too many requests"}, {}
        if start == self.malformed_from_ms:
            return 200, b"[[1735689600000, 1, 2", {}
        first = max(0, (start - START_MS + HOUR_MS - 1) // HOUR_MS)
        return 200, [kline(index) for index in range(first, min(HOURS, first + limit))], {}


def kline(index):
    open_ms, price = START_MS + index * HOUR_MS, 100 + index
    return [open_ms, f"{price}", f"{price + 2}", f"{price - 1}", f"{price + 1}", "10.5", open_ms + HOUR_MS - 1,
            "1000", 42, "5", "500", "0"]


@pytest.fixture
def serve(local_server):
    return lambda **options: FakeBinance(local_server, **options)


def test_hours_are_paged_through_a_rate_limit_into_the_generic_layout(tmp_path, serve):
    api, waits = serve(rate_limit_once=True), []
    out = tmp_path / "BTC.csv"
    added = fetch_prices.fetch(fetch_prices.connect("binance", api.url), "BTC/USDT", START_MS,
                               START_MS + 40 * HOUR_MS, out, page_size=15, sleep=waits.append)
    assert added == 40 and waits == [2]
    assert api.klines_requests == [START_MS, START_MS] + [START_MS + n * HOUR_MS for n in (15, 30)]
    table, layout = price_bars.read_prices(out, "BTC")
    bars = price_bars.clean_prices(table, max_gap_hours=0)
    assert layout == "generic" and len(bars) == 40
    assert bars["timestamp"].iloc[0] == pd.Timestamp(START_MS, unit="ms", tz="UTC")
    assert bars["close"].tolist() == [101.0 + index for index in range(40)]


def test_a_bad_page_stops_cleanly_and_a_rerun_resumes_after_the_last_hour(tmp_path, serve):
    out = tmp_path / "BTC.csv"
    broken = serve(malformed_from_ms=START_MS + 20 * HOUR_MS)
    with pytest.raises(InputError, match="binance BTC/USDT from 2025-01-01 20:00: malformed answer from the exchange"):
        fetch_prices.fetch(fetch_prices.connect("binance", broken.url), "BTC/USDT", START_MS,
                           START_MS + 40 * HOUR_MS, out, page_size=10)
    assert len(pd.read_csv(out)) == 20 and not list(tmp_path.glob(".*tmp*"))
    healthy = serve()
    added = fetch_prices.fetch(fetch_prices.connect("binance", healthy.url), "BTC/USDT", START_MS,
                               START_MS + 40 * HOUR_MS, out, page_size=10)
    assert added == 20 and healthy.klines_requests[0] == START_MS + 20 * HOUR_MS
    assert pd.read_csv(out)["close"].tolist() == [101.0 + index for index in range(40)]


def test_the_command_names_a_missing_market_in_one_line(tmp_path, serve):
    api = serve()
    command = [str(BIN / "whalecast-fetch-prices"), "--symbol", "DOGE/EUR", "--since", "2025-01-01",
               "--api-url", api.url]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": str(BIN)})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == ("fetch-prices: error: binance DOGE/EUR from 2025-01-01 00:00: "
                                                      "binance has no market DOGE/EUR")
    command[2] = "BTC/USDT"
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": str(BIN)})
    assert result.returncode == 0, result.stderr
    assert "50 closed hours added to data/raw/prices/BTC.csv" in result.stderr
    assert "dvc add data/raw/prices/BTC.csv" in result.stderr


def test_a_file_ending_in_an_epoch_time_is_refused_before_any_request(tmp_path, serve):
    """Read as a time, 1735689600 is 1970: resuming after it would fetch from the exchange's first hour."""
    out = tmp_path / "BTC.csv"
    out.write_text("timestamp,open,high,low,close,volume\n1735689600,100,102,99,101,10.5\n")
    api = serve()
    with pytest.raises(InputError, match=f"{out}: the last timestamp, 1735689600, is a number, not the ISO-8601 time"):
        fetch_prices.fetch(fetch_prices.connect("binance", api.url), "BTC/USDT", START_MS, START_MS + 10 * HOUR_MS,
                           out, page_size=10)
    assert api.klines_requests == [] and len(pd.read_csv(out)) == 1


@pytest.mark.parametrize("text, problem", [
    ("1735689600000,100,102,99,101,10.5,1735693199999,1000,42,5,500,0\n", "no column 'timestamp'"),  # a kline dump
    ("time,price\n2025-01-01T00:00:00+00:00,100\n", "no column 'timestamp'"),
    ('timestamp,open\n"2025-01-01T00:00:00+00:00,100\n', "not a readable CSV"),  # the quote never closes
])
def test_a_file_this_fetcher_did_not_write_is_refused_in_one_line_before_any_request(tmp_path, serve, text, problem):
    out = tmp_path / "BTC.csv"
    out.write_text(text)
    api = serve()
    command = [str(BIN / "whalecast-fetch-prices"), "--symbol", "BTC/USDT", "--since", "2025-01-01", "--out", str(out),
               "--api-url", api.url]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": str(BIN)})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"fetch-prices: error: {out}: {problem}"), result.stderr
    assert result.stderr.strip().endswith("not a price file this fetcher wrote: fetch into a new file"), result.stderr
    assert api.klines_requests == [] and out.read_text() == text

