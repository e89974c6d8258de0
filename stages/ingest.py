"""Stage ingest: the configured source -> clean hourly prices, whale transfers and news events for one currency.

What is read and how: whalecast.clean_data (data.source synthetic or files, data/raw/{prices,whales,events}).
"""

from whalecast import clean_data, params, paths, stage, storage


def main(currency: str) -> None:
    tables = clean_data.clean_tables(currency, params.load())
    storage.write_parquet(tables.prices, paths.prices(currency))
    storage.write_parquet(tables.whales, paths.whales(currency))
    storage.write_parquet(tables.events, paths.events(currency))


if __name__ == "__main__":
    stage.run(main)
