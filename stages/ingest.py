"""Stage ingest: the configured source -> clean hourly prices and whale transfers for one currency.

data.source: synthetic generates the built-in sample market (offline, seeded); files reads
data/raw/prices/{CUR}.csv and data/raw/whales/{CUR}.json or .csv.
"""

from whalecast import ingest, params, paths, stage, storage, synthetic
from whalecast.errors import InputError

SOURCES = ("synthetic", "files")


def load_raw(currency: str, data_params: dict) -> tuple[ingest.RawTable, ingest.RawTable]:
    source = data_params.get("source")
    if source == "synthetic":
        market = synthetic.generate_market(currency, **data_params["synthetic"])
        origin = f"synthetic {currency} market"
        return ingest.RawTable(market.prices, origin), ingest.RawTable(market.whales, origin)
    if source == "files":
        return ingest.read_csv(paths.raw_prices(currency)), ingest.read_whales(currency)
    raise InputError(paths.PARAMS, f"data.source must be one of {', '.join(SOURCES)}, got {source!r}")


def main(currency: str) -> None:
    data_params = params.section(params.load(), "data")
    raw_prices, raw_whales = load_raw(currency, data_params)
    prices = ingest.clean_prices(raw_prices, max_gap_hours=data_params["max_gap_hours"])
    whales = ingest.clean_whales(raw_whales, currency)
    # Both tables are checked before either is written, so bad input leaves no output behind.
    storage.write_parquet(prices, paths.prices(currency))
    storage.write_parquet(whales, paths.whales(currency))


if __name__ == "__main__":
    stage.run(main)
