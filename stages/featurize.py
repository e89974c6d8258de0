"""Stage featurize: clean prices, whale transfers and news events of one currency -> the hourly feature table.

Row T is the close time of an hourly bar; every feature at T summarises data known at or before T.
The features are the specs listed under `features` in params.yaml (see whalecast.features); a transfer
counts from its timestamp + whale_report_delay_seconds on, an item of a source from its timestamp + the
source's delay_seconds. A cross-asset spec (`currency: BTC`) reads that currency's ingested events.
"""

from whalecast import features, params, paths, stage, storage
from whalecast.errors import InputError


def event_tables(currency: str, where: str) -> features.EventTables:
    """A currency's ingested whales and events; `where` names what asked for them, should they be missing."""
    for path in (paths.whales(currency), paths.events(currency)):
        if not path.exists():
            raise InputError(path, f"not found: {where} reads {currency}'s events, which ingest makes only for the "
                                   f"currencies in params.yaml `currencies`")
    return features.EventTables(storage.read_parquet(paths.whales(currency), columns=features.WHALE_INPUT_COLUMNS),
                                storage.read_parquet(paths.events(currency)))


def main(currency: str) -> None:
    prices = storage.read_parquet(paths.prices(currency))
    table = features.table_for(currency, params.load(), prices, event_tables, paths.prices(currency))
    storage.write_parquet(table, paths.features(currency))


if __name__ == "__main__":
    stage.run(main)
