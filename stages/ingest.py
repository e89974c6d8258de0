"""Stage ingest: the configured source -> clean hourly prices, whale transfers and event items of one currency.

What is read and how: whalecast.data.clean (data.source synthetic or files, data/raw/{prices,whales,events}).
"""

from whalecast import paths, settings, stage, storage
from whalecast.data import clean


def main(currency: str) -> None:
    tables = clean.clean_tables(currency, settings.read())
    storage.write_parquet(tables.prices, paths.prices(currency))
    storage.write_parquet(tables.whales, paths.whales(currency))
    storage.write_parquet(tables.events, paths.events(currency))


if __name__ == "__main__":
    stage.run(main)
