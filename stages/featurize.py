"""Stage featurize: clean prices, whale transfers and event items of one currency -> the hourly feature table.

Row T is the close time of an hourly bar; every feature at T summarises data known at or before T. The features
are the specs under `features` in params.yaml (whalecast.features.feature_specs); a transfer counts from its
timestamp + whale_report_delay_seconds on, an item of a source from its timestamp + the source's delay_seconds.
A cross-asset spec (`currency: BTC`) reads that currency's ingested events.
"""

from whalecast import paths, settings, stage, storage
from whalecast.features import feature_table


def main(currency: str) -> None:
    prices = storage.read_parquet(paths.prices(currency))
    table = feature_table.table_for(currency, settings.read(), prices, feature_table.ingested_event_tables,
                                    paths.prices(currency))
    storage.write_parquet(table, paths.features(currency))


if __name__ == "__main__":
    stage.run(main)
