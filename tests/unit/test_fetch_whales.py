"""The Whale Alert fetcher against a local server that answers like the API: pages, a 429, a bad page."""

import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import BIN
from whalecast.acquire import fetch_whales
from whalecast.data import whale_transfers
from whalecast.errors import InputError

KEY = "test-key-5f3a9c"


def transactions(first, count):
    return [{"blockchain": "bitcoin", "symbol": "btc", "hash": f"h{index}", "timestamp": 1740787200 + index * 60,
             "amount": 10, "amount_usd": 900000, "transaction_type": "transfer",
             "from": {"owner_type": "unknown"}, "to": {"owner": "binance", "owner_type": "exchange"}}
            for index in range(first, first + count)]


class FakeWhaleAlert:
    """Three pages by cursor (100, 100, 30 transactions); optionally a 429 or a malformed body on a page."""

    PAGES = {None: (0, 100, "c1"), "c1": (100, 100, "c2"), "c2": (200, 30, "c3")}

    def __init__(self, local_server, rate_limit_once=False, malformed_cursor=None):
        self.requests, self.rate_limit_once, self.malformed_cursor = [], rate_limit_once, malformed_cursor
        self.url = local_server(self.respond).url + "/v1"

    def respond(self, path, headers):
        query = {key: values[0] for key, values in parse_qs(urlsplit(path).query).items()}
        self.requests.append({"path": urlsplit(path).path, **query})
        cursor = query.get("cursor")
        if headers.get("X-WA-API-KEY") != KEY:
            return 401, {"result": "error", "message": "invalid api_key"}, {}
        if cursor == "c1" and self.rate_limit_once:
            self.rate_limit_once = False
            return 429, {"result": "error", "message": "rate limited"}, {"Retry-After": "0"}
        if cursor is not None and cursor == self.malformed_cursor:
            return 200, b'{"result": "success", "transactions": [', {}
        first, count, next_cursor = self.PAGES.get(cursor, (0, 0, None))
        return 200, {"result": "success", "cursor": next_cursor, "count": count,
                     "transactions": transactions(first, count)}, {}


@pytest.fixture
def serve(local_server):
    return lambda **options: FakeWhaleAlert(local_server, **options)


def test_pages_are_fetched_by_cursor_through_a_rate_limit(tmp_path, serve):
    api, waits = serve(rate_limit_once=True), []
    written = fetch_whales.fetch("BTC", 1740787200, 1740873600, 500000, tmp_path / "BTC", KEY, api.url, waits.append)
    assert written == 3 and waits == [0.0]
    assert [request.get("cursor") for request in api.requests] == [None, "c1", "c1", "c2"]
    assert all(request["path"] == "/v1/transactions" and request["currency"] == "btc" for request in api.requests)
    assert all("api_key" not in request for request in api.requests)  # the key travels in a header only
    whales = whale_transfers.clean_whales(whale_transfers.read_whale_pages(tmp_path / "BTC"), "BTC")
    assert len(whales) == 230


def test_a_malformed_page_stops_cleanly_and_a_rerun_resumes_from_the_last_cursor(tmp_path, serve):
    broken = serve(malformed_cursor="c2")
    with pytest.raises(InputError, match=r"page 3: malformed JSON from the API"):
        fetch_whales.fetch("BTC", 1740787200, 1740873600, 500000, tmp_path / "BTC", KEY, broken.url)
    assert sorted(path.name for path in (tmp_path / "BTC").iterdir()) == ["00001.json", "00002.json"]
    healthy = serve()
    assert fetch_whales.fetch("BTC", 1740787200, 1740873600, 500000, tmp_path / "BTC", KEY, healthy.url) == 1
    assert [request.get("cursor") for request in healthy.requests] == ["c2"]
    assert len(whale_transfers.read_whale_pages(tmp_path / "BTC").frame) == 230


def test_the_command_reads_the_key_from_the_environment_and_never_writes_it(tmp_path, serve):
    api = serve()
    command = [str(BIN / "whalecast-fetch-whales"), "--currency", "btc", "--start", "2025-03-01", "--end",
               "2025-03-02", "--api-url", api.url]
    missing = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env={"PATH": str(BIN)})
    assert missing.returncode == 1 and "set the environment variable WHALE_ALERT_API_KEY" in missing.stderr
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": str(BIN), "WHALE_ALERT_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    assert "dvc add data/raw/whales/BTC" in result.stderr
    assert api.requests[0]["start"] == "1740787200" and api.requests[0]["end"] == "1740873600"
    written = [path.read_text() for path in (tmp_path / "data/raw/whales/BTC").iterdir()]
    assert len(written) == 3 and not any(KEY in text for text in written)
    assert KEY not in result.stdout + result.stderr
    wrong_key = subprocess.run(command, cwd=tmp_path / "data", capture_output=True, text=True,
                               env={"PATH": str(BIN), "WHALE_ALERT_API_KEY": "wrong"})
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.strip().splitlines()[-1] == ("fetch-whales: error: page 1: HTTP 401 Unauthorized from "
                                                        "the Whale Alert API")
