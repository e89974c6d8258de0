"""Stage ingest: the configured source -> clean hourly prices and whale transfers for one currency.

data.source: synthetic generates the built-in sample market (offline, seeded); files reads
data/raw/prices/{CUR}.csv and data/raw/whales/{CUR}.json or .csv.
"""

from dataclasses import dataclass

from whalecast import ingest, params, paths, readers, stage, storage, synthetic

SOURCES = ("synthetic", "files")


@dataclass(frozen=True)
class DataSettings:
    """params.yaml data."""

    source: str
    max_gap_hours: int
    synthetic: dict

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.max_gap_hours < 0:
            raise ValueError(f"max_gap_hours cannot be negative, got {self.max_gap_hours}")


def load_raw(currency: str, settings: DataSettings) -> tuple[readers.RawTable, readers.RawTable]:
    if settings.source == "files":
        return readers.read_csv(paths.raw_prices(currency)), readers.read_whales(currency)
    market_settings = params.build(synthetic.MarketSettings, settings.synthetic, "data.synthetic")
    return synthetic.generate_market(currency, market_settings).raw_tables()


def main(currency: str) -> None:
    settings = params.build(DataSettings, params.section(params.load(), "data"), "data")
    raw_prices, raw_whales = load_raw(currency, settings)
    prices = ingest.clean_prices(raw_prices, max_gap_hours=settings.max_gap_hours)
    whales = ingest.clean_whales(raw_whales, currency)
    # Both tables are checked before either is written, so bad input leaves no output behind.
    storage.write_parquet(prices, paths.prices(currency))
    storage.write_parquet(whales, paths.whales(currency))


if __name__ == "__main__":
    stage.run(main)
