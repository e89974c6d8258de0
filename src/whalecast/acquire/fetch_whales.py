"""whalecast-fetch-whales: Whale Alert API v1 /transactions -> data/raw/whales/{CUR}/, one file per page.

The pages are the raw API responses, the layout ingest reads as a directory of cursor pages. A run that
stops (network, rate limit, Ctrl-C) resumes from the cursor of the last page on disk. The API key comes
from the environment variable WHALE_ALERT_API_KEY only and travels in a request header, so it appears in
no file, URL, log line or dvc.lock. An HTTP 429 (rate limit) or a passing server error (5xx) waits as the
server asks (Retry-After, up to 10 minutes) or backs off exponentially, then retries.
"""

import argparse
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from whalecast import cli, paths, storage
from whalecast.acquire import backoff
from whalecast.errors import InputError

log = logging.getLogger(__name__)

API_URL = "https://api.whale-alert.io/v1"
KEY_VARIABLE = "WHALE_ALERT_API_KEY"
PAGE_LIMIT = 100  # the API's maximum transactions per page
RETRIES = 6
RETRIED_STATUSES = {429, 500, 502, 503, 504}  # a rate limit, or a server that may answer on the next try


def fetch(currency: str, start: int, end: int, min_value: int, out: Path, api_key: str, api_url: str = API_URL,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Fetch every page from `start` to `end` (epoch seconds) into `out`; returns the pages written."""
    out.mkdir(parents=True, exist_ok=True)
    done = sorted(out.glob("*.json"))
    cursor = _cursor_of(done[-1]) if done else None
    if cursor:
        log.info("resuming after %d pages on disk, from cursor %s", len(done), cursor)
    written = 0
    with tqdm(desc=f"{currency} whale transactions", unit=" tx", disable=None) as progress:
        while True:
            query = {"start": start, "end": end, "min_value": min_value, "currency": currency.lower(),
                     "limit": PAGE_LIMIT, **({"cursor": cursor} if cursor else {})}
            page_number = len(done) + written + 1
            response = _get_page(f"{api_url}/transactions?{urllib.parse.urlencode(query)}", api_key, page_number, sleep)
            transactions = response.get("transactions") or []
            if not transactions:
                break
            storage.write_text(json.dumps(response), out / f"{page_number:05d}.json")
            written += 1
            progress.update(len(transactions))
            cursor = response.get("cursor")
            if not cursor or len(transactions) < PAGE_LIMIT:
                break
    return written


def _cursor_of(page: Path) -> str | None:
    try:
        return json.loads(page.read_text(encoding="utf-8")).get("cursor")
    except (json.JSONDecodeError, AttributeError):
        raise InputError(page, "not a saved API response: delete it to fetch that page again") from None


def _get_page(url: str, api_key: str, page_number: int, sleep: Callable[[float], None]) -> dict:
    request = urllib.request.Request(url, headers={"X-WA-API-KEY": api_key, "Accept": "application/json"})
    where = f"page {page_number}"
    for attempt in range(RETRIES + 1):
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                body = reply.read()
            break
        except urllib.error.HTTPError as error:
            if error.code not in RETRIED_STATUSES or attempt == RETRIES:
                raise InputError(where, f"HTTP {error.code} {error.reason} from the Whale Alert API") from None
            wait = backoff.wait_seconds(error.headers, 2 ** attempt, where,
                                        f"HTTP {error.code} from the Whale Alert API")
            log.info("%s: HTTP %d, waiting %.0f s (retry %d of %d)", where, error.code, wait, attempt + 1, RETRIES)
            sleep(wait)
        except urllib.error.URLError as error:
            raise InputError(where, f"cannot reach {urllib.parse.urlsplit(url).netloc}: {error.reason}") from None
    try:
        response = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(where, f"malformed JSON from the API ({error}); pages before it are kept, run again "
                                "to resume") from None
    if not isinstance(response, dict) or response.get("result") != "success":
        message = response.get("message", "") if isinstance(response, dict) else ""
        raise InputError(where, f"the API did not answer success: {message or str(response)[:200]}")
    if not isinstance(response.get("transactions", []), list):
        raise InputError(where, "the API answer has no list of transactions")
    return response


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--currency", required=True, help="e.g. BTC")
    parser.add_argument("--start", type=cli.utc_epoch_seconds, required=True, help="UTC date or time, e.g. 2025-03-01")
    parser.add_argument("--end", type=cli.utc_epoch_seconds, required=True, help="UTC date or time (exclusive)")
    parser.add_argument("--min-value", type=int, default=500_000, help="smallest transfer in USD (default 500000)")
    parser.add_argument("--out", type=Path, help="default: data/raw/whales/{CUR}/")
    parser.add_argument("--api-url", default=API_URL, help=argparse.SUPPRESS)  # tests point it at a local server
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="fetch-whales: %(message)s")
    out = args.out or paths.raw_whales_pages(args.currency.upper())
    api_key = os.environ.get(KEY_VARIABLE, "").strip()
    if not api_key:
        sys.exit(f"fetch-whales: error: set the environment variable {KEY_VARIABLE} to your Whale Alert API key")
    try:
        written = fetch(args.currency.upper(), args.start, args.end, args.min_value, out, api_key, args.api_url)
    except InputError as error:
        sys.exit(f"fetch-whales: error: {error}")
    pages = len(list(out.glob("*.json")))
    log.info("%d new pages, %d in %s. Track them with DVC:  dvc add %s", written, pages, out, out)


if __name__ == "__main__":
    main()
