"""Stage featurize: clean prices and whale transfers of one currency -> the hourly feature table.

Row T is the close time of an hourly bar; every feature at T summarises data stamped at or before T.
The features are the specs listed under `features` in params.yaml (see whalecast.features); a transfer
counts from its timestamp + whale_report_delay_seconds on.
"""

from whalecast import features, params, paths, stage, storage


def main(currency: str) -> None:
    all_params = params.load()
    specs = features.parse_specs(params.section(all_params, "features"))
    report_delay = features.parse_report_delay(params.section(all_params, "whale_report_delay_seconds"))
    prices = storage.read_parquet(paths.prices(currency))
    whales = storage.read_parquet(paths.whales(currency), columns=features.WHALE_INPUT_COLUMNS)
    table = features.build_feature_table(prices, whales, specs, paths.prices(currency), report_delay)
    storage.write_parquet(table, paths.features(currency))


if __name__ == "__main__":
    stage.run(main)
