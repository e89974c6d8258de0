"""The fetchers under a flaky API (loopback fakes, no real waiting): rate limits are retried with waits that
grow or that the server names (Retry-After), never forever, and a still-open hour is never saved as complete.

What the code does (and these tests pin): fetch_prices retries ccxt's rate-limit errors (HTTP 429 and 418)
and passing server errors (5xx) up to RETRIES times per request, fetch_whales HTTP 429 and 5xx up to RETRIES
times per page; each waits as long as the server's Retry-After says (seconds or an HTTP date; longer than
10 minutes stops the run with the wait named), else 2, 4, 8, ... s (prices) or 1, 2, 4, ... s (whales). Both
take `sleep` as a parameter, so the waits are recorded here instead of slept.
"""

import datetime
import email.utils
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from conftest import LocalServer
from whalecast.acquire import fetch_prices, fetch_whales
from whalecast.data import price_bars, whale_transfers
from whalecast.errors import InputError

START_MS = 1735689600000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
MARKET = {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "baseAssetPrecision": 8,
          "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "MARKET"], "filters": [],
          "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "permissions": ["SPOT"],
          "permissionSets": [["SPOT"]]}
GIVE_UP = 50  # a fetcher that has slept this often is retrying forever


class Sleeps(list):
    """An injected sleep: records each wait; raises instead of letting a test loop forever."""

    def __call__(self, seconds):
        self.append(seconds)
        if len(self) > GIVE_UP:
            raise RuntimeError(f"still retrying after {GIVE_UP} waits")


@pytest.fixture(scope="module")
def local_api():
    """One loopback server for the module (a server's shutdown takes half a second): start(respond) points it
    at a test's fake and returns its URL."""
    current = {}
    server = LocalServer(lambda path, headers: current["respond"](path, headers))

    def start(respond) -> LocalServer:
        current["respond"] = respond
        return server

    yield start
    server.server.shutdown()


def status_script(statuses):
    """Answers to give before the real ones: a list of (status, headers), consumed one per request; or a
    callable(request number) -> (status, headers) or None for a real answer."""
    if callable(statuses):
        return statuses
    remaining = list(statuses)
    return lambda number: remaining.pop(0) if remaining else None


# ---------------------------------------------------------------------------------------------------------------
# Prices: a Binance-like exchange whose newest candle is the hour still open at `now_ms`


class FakeExchange:
    """Hour i opens at START + i h; closed, its close is 101 + i. The hour open at now_ms is served too, as a
    real exchange does, with its running close (100.5 + i) and a fraction of its volume."""

    def __init__(self, start_server, now_ms, statuses=()):
        self.now_ms, self.script, self.klines_requests = now_ms, status_script(statuses), []
        self.url = start_server(self.respond).url

    def respond(self, path, headers):
        url = urlsplit(path)
        if url.path.endswith("/exchangeInfo"):
            return 200, {"timezone": "UTC", "serverTime": self.now_ms,
                         "symbols": [MARKET] if url.path.startswith("/api/v3") else []}, {}
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.klines_requests.append(int(query["startTime"]))
        scripted = self.script(len(self.klines_requests))
        if scripted is not None:
            status, extra = scripted
            if status in (418, 429):  # Binance's rate-limit answer
                return status, {"code": -1003, "msg": "Too much request weight used"}, extra
            return status, f"<html><body>{status} from the load balancer</body></html>".encode(), extra
        first = max(0, (int(query["startTime"]) - START_MS + HOUR_MS - 1) // HOUR_MS)
        open_hour = (self.now_ms - START_MS) // HOUR_MS
        return 200, [self.kline(index, index == open_hour)
                     for index in range(first, min(open_hour + 1, first + int(query["limit"])))], {}

    @staticmethod
    def kline(index, still_open):
        open_ms = START_MS + index * HOUR_MS
        close, volume = (100.5 + index, "2.5") if still_open else (101 + index, "10.5")
        return [open_ms, f"{100 + index}", f"{102 + index}", f"{99 + index}", f"{close}", volume,
                open_ms + HOUR_MS - 1, "1000", 42, "5", "500", "0"]


def exchange_at(api: FakeExchange):
    """fetch_prices.connect to the fake, with the exchange's clock at the fake's now (ccxt's own
    request spacing set to 1 ms: what is tested is the fetcher's back-off, not ccxt's limiter)."""
    exchange = fetch_prices.connect("binance", api.url)
    exchange.milliseconds = lambda: api.now_ms
    exchange.rateLimit = 1
    return exchange


def fetch_prices_from(api, out, page_size=10, sleep=None, until_ms=START_MS + 1000 * HOUR_MS):
    return fetch_prices.fetch(exchange_at(api), "BTC/USDT", START_MS, until_ms, out, page_size,
                              sleep=sleep if sleep is not None else Sleeps())


def saved_hours(out):
    table = pd.read_csv(out)
    return [(pd.Timestamp(stamp) - pd.Timestamp(START_MS, unit="ms", tz="UTC")) // pd.Timedelta(hours=1)
            for stamp in table["timestamp"]], table["close"].tolist()


@pytest.fixture
def exchange(local_api):
    return lambda now_ms, statuses=(): FakeExchange(local_api, now_ms, statuses)


def test_the_still_open_hour_is_not_saved_and_the_next_run_saves_it_complete(tmp_path, exchange):
    out = tmp_path / "BTC.csv"
    api = exchange(now_ms=START_MS + 30 * HOUR_MS + 25 * MINUTE_MS)  # hour 30 is 25 minutes old
    assert fetch_prices_from(api, out) == 30
    hours, closes = saved_hours(out)
    assert hours == list(range(30)) and closes == [101.0 + hour for hour in range(30)]

    api.now_ms = START_MS + 33 * HOUR_MS + MINUTE_MS  # hours 30, 31, 32 have closed
    assert fetch_prices_from(api, out) == 3
    hours, closes = saved_hours(out)
    assert hours == list(range(33)) and closes == [101.0 + hour for hour in range(33)]  # hour 30 complete
    requests = len(api.klines_requests)

    api.now_ms = START_MS + 33 * HOUR_MS + 59 * MINUTE_MS  # only the open hour 33 is new
    assert fetch_prices_from(api, out) == 0
    assert saved_hours(out)[0] == list(range(33)) and len(api.klines_requests) == requests
    table, _ = price_bars.read_prices(out, "BTC")
    assert len(price_bars.clean_prices(table, max_gap_hours=0)) == 33


@pytest.mark.parametrize("now_offset_ms,closed_hours", [(0, 20), (-1, 19), (1, 20), (HOUR_MS - 1, 20)])
def test_an_hour_is_complete_only_from_its_closing_millisecond_on(tmp_path, exchange, now_offset_ms, closed_hours):
    """At exactly 20:00 the hour that opened at 19:00 has closed and the one opening at 20:00 is open."""
    api = exchange(now_ms=START_MS + 20 * HOUR_MS + now_offset_ms)
    out = tmp_path / "BTC.csv"
    assert fetch_prices_from(api, out, page_size=7) == closed_hours
    assert saved_hours(out) == (list(range(closed_hours)), [101.0 + hour for hour in range(closed_hours)])


def test_an_until_before_now_is_kept_and_the_open_hour_still_dropped_when_until_is_later(tmp_path, exchange):
    api = exchange(now_ms=START_MS + 12 * HOUR_MS + 30 * MINUTE_MS)
    out = tmp_path / "BTC.csv"
    assert fetch_prices_from(api, out, until_ms=START_MS + 5 * HOUR_MS) == 5
    assert fetch_prices_from(api, out, until_ms=START_MS + 13 * HOUR_MS) == 7  # hours 5..11, not the open 12
    assert saved_hours(out)[0] == list(range(12))


def test_rate_limits_are_retried_with_growing_waits_and_no_hour_is_lost(tmp_path, exchange):
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, [(429, {}), (429, {}), (418, {})]), Sleeps()
    out = tmp_path / "BTC.csv"
    assert fetch_prices_from(api, out, page_size=15, sleep=sleeps) == 40
    assert sleeps == [2, 4, 8]
    assert api.klines_requests == [START_MS] * 4 + [START_MS + 15 * HOUR_MS, START_MS + 30 * HOUR_MS]
    assert saved_hours(out) == (list(range(40)), [101.0 + hour for hour in range(40)])


def test_a_rate_limit_that_does_not_end_stops_after_the_retries_and_keeps_the_pages_before(tmp_path, exchange):
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, lambda number: (429, {}) if number > 1 else None), Sleeps()
    out = tmp_path / "BTC.csv"
    with pytest.raises(InputError, match=r"binance BTC/USDT from 2025-01-01 10:00: still rate limited after 6 retries"):
        fetch_prices_from(api, out, page_size=10, sleep=sleeps)
    assert sleeps == [2, 4, 8, 16, 32, 64]
    assert api.klines_requests == [START_MS] + [START_MS + 10 * HOUR_MS] * 7  # the first try and 6 retries
    assert saved_hours(out)[0] == list(range(10))  # the page before is saved: a rerun resumes after it


def test_the_retries_are_counted_per_request_not_per_run(tmp_path, exchange):
    """A rate limit before every one of 8 pages is 8 retries in all, more than RETRIES: still fine."""
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, lambda number: (429, {}) if number % 2 else None), Sleeps()
    out = tmp_path / "BTC.csv"
    assert fetch_prices_from(api, out, page_size=5, sleep=sleeps) == 40
    assert sleeps == [2] * 8 and len(sleeps) > fetch_prices.RETRIES


def test_a_rate_limit_waits_as_long_as_the_exchange_says(tmp_path, exchange):
    # Binance sends Retry-After with 418 and 429 and bans an address that comes back earlier.
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, [(418, {"Retry-After": "120"}), (429, {})]), Sleeps()
    assert fetch_prices_from(api, tmp_path / "BTC.csv", page_size=20, sleep=sleeps) == 40
    assert sleeps == [120.0, 4]


def test_a_passing_server_error_is_retried(tmp_path, exchange):
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, [(503, {}), (502, {})]), Sleeps()
    assert fetch_prices_from(api, tmp_path / "BTC.csv", page_size=20, sleep=sleeps) == 40
    assert sleeps == [2, 4]


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_stops_cleanly_after_a_bounded_number_of_tries(tmp_path, exchange, status):
    api, sleeps = exchange(START_MS + 40 * HOUR_MS, lambda number: (status, {})), Sleeps()
    with pytest.raises(InputError, match=r"binance BTC/USDT from 2025-01-01 00:00: still failing "
                                         r"\(ExchangeNotAvailable\) after 6 retries$"):
        fetch_prices_from(api, tmp_path / "BTC.csv", sleep=sleeps)
    assert sleeps == [2, 4, 8, 16, 32, 64]
    assert api.klines_requests == [START_MS] * 7  # the first try and 6 retries


# ---------------------------------------------------------------------------------------------------------------
# Whale transfers: Whale Alert-like pages by cursor

KEY = "test-key-5f3a9c"
PAGES = {None: (0, 100, "c1"), "c1": (100, 100, "c2"), "c2": (200, 30, "c3")}


class FakeWhaleAlert:
    """Three pages by cursor (100, 100, 30 transactions), after the scripted answers."""

    def __init__(self, start_server, statuses=()):
        self.script, self.cursors = status_script(statuses), []
        self.url = start_server(self.respond).url + "/v1"

    def respond(self, path, headers):
        cursor = {key: values[0] for key, values in parse_qs(urlsplit(path).query).items()}.get("cursor")
        self.cursors.append(cursor)
        scripted = self.script(len(self.cursors))
        if scripted is not None:
            status, extra = scripted
            return status, {"result": "error", "message": f"HTTP {status}"}, extra
        first, count, next_cursor = PAGES[cursor]
        return 200, {"result": "success", "cursor": next_cursor, "count": count,
                     "transactions": [{"blockchain": "bitcoin", "symbol": "btc", "hash": f"h{index}",
                                       "timestamp": 1740787200 + index * 60, "amount": 10, "amount_usd": 900000,
                                       "transaction_type": "transfer", "from": {"owner_type": "unknown"},
                                       "to": {"owner": "binance", "owner_type": "exchange"}}
                                      for index in range(first, first + count)]}, {}


@pytest.fixture
def whale_alert(local_api):
    return lambda statuses=(): FakeWhaleAlert(local_api, statuses)


def fetch_whales_from(api, out, sleep):
    return fetch_whales.fetch("BTC", 1740787200, 1740873600, 500000, out, KEY, api.url, sleep)


@pytest.mark.parametrize("retry_after,waits", [("7", [7.0, 7.0, 7.0]), ("1.5", [1.5, 1.5, 1.5]),
                                               ("0", [0.0, 0.0, 0.0])])
def test_a_429_waits_as_long_as_retry_after_says(tmp_path, whale_alert, retry_after, waits):
    api = whale_alert(lambda number: (429, {"Retry-After": retry_after}) if 2 <= number <= 4 else None)
    sleeps = Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert sleeps == waits
    assert api.cursors == [None, "c1", "c1", "c1", "c1", "c2"]
    assert len(whale_transfers.clean_whales(whale_transfers.read_whale_pages(tmp_path / "BTC"), "BTC")) == 230


def test_a_429_without_retry_after_backs_off_exponentially(tmp_path, whale_alert):
    api, sleeps = whale_alert([(429, {})] * 4), Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert sleeps == [1, 2, 4, 8]
    assert api.cursors == [None] * 5 + ["c1", "c2"]


@pytest.mark.parametrize("headers,waits", [({}, [1, 2, 4, 8, 16, 32]), ({"Retry-After": "3"}, [3.0] * 6)])
def test_a_429_that_does_not_end_stops_after_the_retries_and_keeps_the_pages_before(tmp_path, whale_alert,
                                                                                     headers, waits):
    api, sleeps = whale_alert(lambda number: (429, headers) if number > 1 else None), Sleeps()
    with pytest.raises(InputError, match=r"^page 2: HTTP 429 Too Many Requests from the Whale Alert API$"):
        fetch_whales_from(api, tmp_path / "BTC", sleeps)
    assert sleeps == waits
    assert api.cursors == [None] + ["c1"] * (fetch_whales.RETRIES + 1)
    assert sorted(path.name for path in (tmp_path / "BTC").iterdir()) == ["00001.json"]


def test_the_retries_are_counted_per_page_not_per_run(tmp_path, whale_alert):
    """Three 429s before each of the 3 pages: 9 retries in all, more than RETRIES; every page arrives."""
    api, sleeps = whale_alert(lambda number: (429, {}) if number % 4 else None), Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert sleeps == [1, 2, 4] * 3 and len(sleeps) > fetch_whales.RETRIES


@pytest.mark.parametrize("status", [500, 503])
def test_a_whale_alert_server_error_stops_cleanly_after_a_bounded_number_of_tries(tmp_path, whale_alert, status):
    api, sleeps = whale_alert(lambda number: (status, {})), Sleeps()
    with pytest.raises(InputError, match=rf"^page 1: HTTP {status} .* from the Whale Alert API$"):
        fetch_whales_from(api, tmp_path / "BTC", sleeps)
    assert len(api.cursors) <= fetch_whales.RETRIES + 1 and len(sleeps) <= fetch_whales.RETRIES


def test_a_retry_after_date_is_waited_until(tmp_path, whale_alert):
    soon = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30),
                                       usegmt=True)
    api, sleeps = whale_alert([(429, {"Retry-After": soon})]), Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


@pytest.mark.parametrize("retry_after", ["-5", "soon", ""])
def test_a_retry_after_that_is_no_wait_backs_off_exponentially(tmp_path, whale_alert, retry_after):
    api, sleeps = whale_alert([(429, {"Retry-After": retry_after})] * 2), Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert sleeps == [1, 2]


def test_a_retry_after_longer_than_ten_minutes_stops_with_the_wait_named(tmp_path, whale_alert):
    api, sleeps = whale_alert(lambda number: (429, {"Retry-After": "86400"}) if number > 1 else None), Sleeps()
    with pytest.raises(InputError, match=r"^page 2: HTTP 429 from the Whale Alert API, which asks to wait 86400 s "
                                         r"\(more than 600\): run again later to resume$"):
        fetch_whales_from(api, tmp_path / "BTC", sleeps)
    assert sleeps == []


def test_a_passing_whale_alert_server_error_is_retried(tmp_path, whale_alert):
    api, sleeps = whale_alert([(503, {}), (502, {})]), Sleeps()
    assert fetch_whales_from(api, tmp_path / "BTC", sleeps) == 3
    assert sleeps == [1, 2]
