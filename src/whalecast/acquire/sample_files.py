"""Write the sample market as raw input files, in the formats that `data.source: files` reads.

    whalecast-sample-data --out data/raw --hours 2000 --whales-format json

writes data/raw/prices/{CUR}.csv, data/raw/whales/{CUR}.json (or .csv) and the news as a headlines CSV,
data/raw/events/<source>/{CUR}.csv for each source in params.yaml `sources`, for each currency in params.yaml,
from the same generator and params as `data.source: synthetic`, so both sources give the same features.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from whalecast import paths, settings
from whalecast.data import event_sources, sample_market
from whalecast.errors import InputError

log = logging.getLogger(__name__)


def write_prices_csv(prices: pd.DataFrame, path: Path) -> None:
    """Exchange style: the bar's open time in ISO-8601 with offset; floats written so they read back exactly."""
    out = prices[["timestamp", "open", "high", "low", "close", "volume"]].copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)


def write_whales_json(whales: pd.DataFrame, path: Path) -> None:
    """A Whale Alert API v1 /transactions response; `owner` is absent for unattributed wallets, as in the API,
    and `id` unless the records have one."""
    transactions = [
        {
            **({"id": row.id} if "id" in whales.columns else {}),
            "blockchain": row.blockchain,
            "symbol": row.symbol,
            "transaction_type": row.transaction_type,
            "hash": row.hash,
            "from": _party(row.from_owner, row.from_owner_type),
            "to": _party(row.to_owner, row.to_owner_type),
            "timestamp": int(row.timestamp.timestamp()),
            "amount": row.amount,
            "amount_usd": row.amount_usd,
            "transaction_count": 1,
        }
        for row in whales.itertuples(index=False)
    ]
    response = {"result": "success", "cursor": "0-0-0", "count": len(transactions), "transactions": transactions}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(response), encoding="utf-8")


def _party(owner, owner_type) -> dict:
    return {"owner_type": owner_type} if owner is None or pd.isna(owner) else {"owner": owner, "owner_type": owner_type}


def write_whales_csv(whales: pd.DataFrame, path: Path) -> None:
    out = whales.copy()
    out["timestamp"] = out["timestamp"].dt.as_unit("s").astype("int64")  # epoch seconds, like the API
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)


def write_news_csv(news: pd.DataFrame, path: Path) -> None:
    """A flat headlines CSV; the market-wide items are in every currency's file, with the same ids (ingest drops
    the repeats)."""
    out = news.copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    out.rename(columns={"timestamp": "published_at"}).to_csv(path, index=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=paths.RAW, help="raw data folder (default: data/raw)")
    parser.add_argument("--currencies", nargs="+", help="default: params.yaml currencies")
    parser.add_argument("--hours", type=int, help="default: params.yaml data.synthetic.hours")
    parser.add_argument("--seed", type=int, help="default: params.yaml data.synthetic.seed")
    parser.add_argument("--whales-format", choices=("json", "csv"), default="json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="sample-data: %(message)s")

    try:
        params = settings.read()
        overrides = {key: value for key, value in (("hours", args.hours), ("seed", args.seed)) if value is not None}
        market_settings = settings.build(sample_market.MarketSettings,
                                         {**settings.value(params, "data.synthetic"), **overrides}, "data.synthetic")
        currencies = args.currencies or settings.value(params, "currencies")
        declared = event_sources.parse(settings.value(params, "sources"))
    except InputError as error:
        sys.exit(f"sample-data: error: {error}")
    for currency in currencies:
        market = sample_market.generate_market(currency, market_settings)
        prices_path = paths.raw_prices(currency, args.out)
        whales_path = (paths.raw_whales_json if args.whales_format == "json" else paths.raw_whales_csv)(currency, args.out)
        write_prices_csv(market.prices, prices_path)
        (write_whales_json if args.whales_format == "json" else write_whales_csv)(market.whales, whales_path)
        log.info("%s: %d hourly bars -> %s, %d whale transfers -> %s",
                 currency, len(market.prices), prices_path, len(market.whales), whales_path)
        for name in declared:
            news_path = paths.raw_events(name, args.out) / f"{currency}.csv"
            write_news_csv(market.news, news_path)
            log.info("%s: %d news items -> %s", currency, len(market.news), news_path)


if __name__ == "__main__":
    main()
