"""Stage sequence: the hourly feature table of one currency -> scaled rows, labels and split window ends.

Output (data/sequences/{CUR}.parquet) is row-aligned with the feature table: timestamp, the scaled features of the
groups switched on, `label` (1 = close(T + h) < close(T), missing when unknown), `last_move_down` for the "last move
repeats" baseline, and `part` (train / validation / test where a window of seq_len rows ends there, else missing);
it records seq_len and the feature groups. The scaler, fit on the rows of training windows only, goes to
models/{CUR}/ as JSON. How: whalecast.modeling.sequences.
"""

from whalecast import paths, settings, stage, storage
from whalecast.modeling import scaling, sequences


def main(currency: str) -> None:
    params = settings.read()
    features = storage.read_parquet(paths.features(currency))
    prices = storage.read_parquet(paths.prices(currency), columns=["timestamp", "close", "filled"])
    result = sequences.sequence_table(
        features, prices, settings.load(sequences.WindowSettings, params), settings.load(sequences.TargetSettings, params),
        settings.load(sequences.SplitSettings, params), settings.load(scaling.ScalingSettings, params),
        settings.value(params, "feature_groups"), paths.features(currency), paths.prices(currency))
    storage.write_parquet(result.table, paths.sequences(currency))
    result.scaler.save(paths.scaler(currency))


if __name__ == "__main__":
    stage.run(main)
