"""whalecast-fetch-prices: hourly OHLCV from an exchange through ccxt -> data/raw/prices/{CUR}.csv.

Pages forward from --since with the exchange's page size, within ccxt's rate limiter (plus a back-off
and retry when the exchange still answers "too many requests" or fails for a moment, as long as its
Retry-After says, up to 10 minutes), and writes the generic price layout
(`timestamp` = bar open time, ISO-8601 UTC). Only closed hours are written. A second run resumes after
the last hour in the file. The file is replaced atomically after every page, so an interruption loses at
most the page in flight.
"""

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import pandas as pd
from tqdm import tqdm

from whalecast import cli, paths, storage
from whalecast.acquire import backoff
from whalecast.data.price_bars import PRICE_COLUMNS
from whalecast.errors import InputError

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
RETRIES = 6


def fetch(exchange: ccxt.Exchange, symbol: str, since_ms: int, until_ms: int, out: Path, page_size: int,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Append the closed hourly bars of [since, until) not yet in `out`; returns how many were added."""
    existing = read_written(out)
    if len(existing):
        last_ms = int(pd.Timestamp(existing["timestamp"].iloc[-1]).timestamp() * 1000)
        since_ms = max(since_ms, last_ms + HOUR_MS)
        log.info("resuming after %s, the last hour in %s", existing["timestamp"].iloc[-1], out)
    until_ms = min(until_ms, exchange.milliseconds() // HOUR_MS * HOUR_MS)  # an hour opening before now's hour has closed
    added = 0
    with tqdm(total=max(0, (until_ms - since_ms) // HOUR_MS), desc=f"{symbol} hours", unit=" h", disable=None) as progress:
        while since_ms < until_ms:
            candles = [candle for candle in _page(exchange, symbol, since_ms, page_size, sleep) if candle[0] < until_ms]
            candles = [candle for candle in candles if candle[0] >= since_ms]
            if not candles:
                break
            page = pd.DataFrame(candles, columns=PRICE_COLUMNS)
            page["timestamp"] = pd.to_datetime(page["timestamp"], unit="ms", utc=True).map(pd.Timestamp.isoformat)
            existing = pd.concat([existing, page], ignore_index=True)
            storage.write_text(existing.to_csv(index=False), out)
            added += len(page)
            progress.update(len(page))
            since_ms = int(candles[-1][0]) + HOUR_MS
    return added


def read_written(out: Path) -> pd.DataFrame:
    """The bars already in `out` (none when there is no file), to resume after the last. Refused when that bar's
    time is a number (an epoch export, not the ISO-8601 text this fetcher writes): read as a time, it is 1970."""
    if not out.exists():
        return pd.DataFrame(columns=PRICE_COLUMNS)
    not_ours = "not a price file this fetcher wrote: fetch into a new file"
    try:
        existing = pd.read_csv(out)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(out, f"not a readable CSV ({str(error).strip()}), {not_ours}") from None
    if "timestamp" not in existing.columns:
        raise InputError(out, f"no column 'timestamp' in its header, {not_ours}")
    if len(existing) and pd.to_numeric(existing["timestamp"].iloc[-1:], errors="coerce").notna().all():
        raise InputError(out, f"the last timestamp, {existing['timestamp'].iloc[-1]}, is a number, not the ISO-8601 "
                              "time this fetcher writes and resumes after: fetch into a new file")
    return existing


def _page(exchange: ccxt.Exchange, symbol: str, since_ms: int, page_size: int, sleep) -> list:
    where = f"{exchange.id} {symbol} from {pd.Timestamp(since_ms, unit='ms', tz='UTC'):%Y-%m-%d %H:%M}"
    retries = 0
    while True:
        try:
            candles = exchange.fetch_ohlcv(symbol, "1h", since=since_ms, limit=page_size)
            if not candles:  # ccxt answers [] for a body that is not JSON at all: tell that from "no more data"
                json.loads(exchange.last_http_response or "[]")
            return candles
        except json.JSONDecodeError:
            raise InputError(where, f"malformed answer from the exchange ({exchange.last_http_response[:60]!r}); "
                                    "the hours before it are saved, run again to resume") from None
        except ccxt.NetworkError as error:  # rate limits (418, 429), 5xx, timeouts: the next try may pass
            problem = "rate limited" if isinstance(error, ccxt.DDoSProtection) else f"failing ({type(error).__name__})"
            retries += 1
            if retries > RETRIES:
                raise InputError(where, f"still {problem} after {RETRIES} retries") from None
            wait = backoff.wait_seconds(exchange.last_response_headers, 2 ** retries, where, f"{exchange.id} {problem}")
            log.info("%s: %s, waiting %.0f s (retry %d of %d)", where, problem, wait, retries, RETRIES)
            sleep(wait)
        except ccxt.BadSymbol:
            raise InputError(where, f"{exchange.id} has no market {symbol}") from None
        except ccxt.BaseError as error:
            raise InputError(where, f"{type(error).__name__}: {str(error)[:200]}") from None


def connect(exchange_id: str, api_url: str | None = None) -> ccxt.Exchange:
    if exchange_id not in ccxt.exchanges:
        raise InputError(exchange_id, "not an exchange ccxt knows (see ccxt.exchanges)")
    exchange = getattr(ccxt, exchange_id)({"enableRateLimit": True})
    if api_url:  # every API host of the exchange -> one server (the tests' local one)
        exchange.urls["api"] = _redirect(exchange.urls["api"], api_url.rstrip("/"))
    return exchange


def _redirect(node, base: str):
    if isinstance(node, dict):
        return {key: _redirect(value, base) for key, value in node.items()}
    if isinstance(node, str) and node.startswith("http"):
        return base + urlsplit(node).path
    return node


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchange", default="binance", help="a ccxt exchange id (default binance)")
    parser.add_argument("--symbol", required=True, help="market, e.g. BTC/USDT")
    parser.add_argument("--currency", help="file name: data/raw/prices/{CUR}.csv (default: the symbol's base)")
    parser.add_argument("--since", type=cli.utc_epoch_seconds, required=True, help="UTC date or time, e.g. 2023-01-01")
    parser.add_argument("--until", type=cli.utc_epoch_seconds, default=2**52, help="UTC date or time (default: now)")
    parser.add_argument("--page-size", type=int, default=1000, help="candles per request (default 1000)")
    parser.add_argument("--out", type=Path, help="default: data/raw/prices/{CUR}.csv")
    parser.add_argument("--api-url", help=argparse.SUPPRESS)  # tests point it at a local server
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="fetch-prices: %(message)s")
    currency = (args.currency or args.symbol.split("/")[0]).upper()
    out = args.out or paths.raw_prices(currency)
    try:
        added = fetch(connect(args.exchange, args.api_url), args.symbol, args.since * 1000, args.until * 1000, out,
                      args.page_size)
    except InputError as error:
        sys.exit(f"fetch-prices: error: {error}")
    log.info("%d closed hours added to %s. Track it with DVC:  dvc add %s   (and, as every hour in it is "
             "closed, set data.partial_candle: keep)", added, out, out)


if __name__ == "__main__":
    main()
