"""Stage sequence: the hourly feature table of one currency -> scaled rows, labels and split window ends.

Output (data/sequences/{CUR}.parquet) is row-aligned with the feature table: timestamp, the scaled
features, `label` (1 = close(T + h) < close(T), missing when unknown), `last_move_down` for the
"last move repeats" baseline, and `part` (train / validation / test where a window of seq_len rows ends
there, else missing). The scaler, fit on the rows of training windows only, goes to models/{CUR}/ as JSON.
"""

# whalecast before pandas: it sets NumPy's environment, which NumPy reads once, when pandas imports it.
from whalecast import feature_groups, params, paths, scaling, sequences, stage, storage
from whalecast.errors import InputError

import pandas as pd


def read_features(currency: str) -> pd.DataFrame:
    table = storage.read_parquet(paths.features(currency))
    if "timestamp" not in table or len(table) == 0:
        raise InputError(paths.features(currency), "needs a timestamp column and at least one row")
    taken = [name for name in sequences.NOT_FEATURES if name in table]
    if taken:
        raise InputError(paths.features(currency), f"a feature is named '{taken[0]}', a name the sequence table "
                                                   f"keeps for itself: rename it in params.yaml features")
    nan_columns = table.columns[table.isna().any()]
    if len(nan_columns):
        first = table.loc[table[nan_columns[0]].isna(), "timestamp"].iloc[0]
        raise InputError(paths.features(currency), f"column {nan_columns[0]} has missing values "
                                                   f"(first at {first:%Y-%m-%d %H:%M} UTC); featurize must not leave NaNs")
    return table


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    target = params.build(sequences.TargetSettings, params.section(all_params, "target"), "target")
    split = params.build(sequences.SplitSettings, params.section(all_params, "split"), "split")
    scaling_settings = params.build(scaling.ScalingSettings, params.section(all_params, "scaling"), "scaling")
    switches = params.section(all_params, "feature_groups")

    table = read_features(currency)
    groups = feature_groups.read(table, paths.features(currency))
    enabled = feature_groups.select(groups, switches, paths.features(currency))
    prices = storage.read_parquet(paths.prices(currency), columns=["timestamp", "close", "filled"])
    training_hours = int(len(table) * split.train)
    if seq_len > training_hours:
        raise InputError(paths.PARAMS, f"seq_len={seq_len} is longer than the training part "
                                       f"({training_hours} of {len(table)} hours)")
    labels = sequences.label_rows(table["timestamp"], prices, target)
    ends = sequences.usable_window_ends(table["timestamp"], labels[sequences.LABEL], seq_len)
    try:
        parts = sequences.split_in_time(table["timestamp"], ends, split, seq_len + target.horizon_hours)
    except ValueError as error:
        raise InputError(paths.PARAMS, f"split: {error}") from None
    sequences.check_both_classes(labels[sequences.LABEL], parts, paths.prices(currency))

    feature_columns = feature_groups.columns(table.columns, enabled)
    training_rows = sequences.rows_of_windows(len(table), parts["train"], seq_len)
    scaler = scaling.Scaler.fit(table.loc[training_rows], feature_columns, scaling_settings)
    scaled = pd.DataFrame(scaler.transform(table), columns=feature_columns)
    output = pd.concat([table[["timestamp"]], scaled, labels], axis=1)
    output[sequences.PART] = sequences.part_column(len(table), parts)
    feature_groups.record(output, enabled)
    storage.write_parquet(output, paths.sequences(currency))
    scaler.save(paths.scaler(currency))


if __name__ == "__main__":
    stage.run(main)
