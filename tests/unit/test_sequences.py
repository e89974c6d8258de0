"""Labels, window ends, the embargoed time split and the training-only scaler (no TensorFlow here)."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_MODEL, edit_params, run_stage_in_process
from whalecast import paths, settings, storage
from whalecast.features import feature_groups
from whalecast.modeling import scaling, sequences
from whalecast.errors import InputError

START = pd.Timestamp("2024-01-01", tz="UTC")


def hourly_prices(closes, filled=()):
    """Bars opening at START, START + 1h, ...; the bar opening at t closes at t + 1h."""
    times = START + pd.to_timedelta(np.arange(len(closes)), unit="h")
    return pd.DataFrame({"timestamp": times, "close": closes, "filled": [i in filled for i in range(len(closes))]})


def close_times(n, first=1):
    return pd.Series(START + pd.to_timedelta(np.arange(first, first + n), unit="h"))


def test_labels_on_a_hand_computed_example():
    prices = hourly_prices([100, 101, 100.5, 100.5, 99, 99.5])  # closes at 01:00 .. 06:00
    labels = sequences.label_rows(close_times(6), prices, sequences.TargetSettings(horizon_hours=1, min_move=0))
    # 101 < 100? no; 100.5 < 101 yes; 100.5 < 100.5 no (flat is not down); 99 < 100.5 yes; 99.5 < 99 no; unknown
    assert labels["label"].tolist() == [0, 1, 0, 1, 0, pd.NA]
    # The previous 1-hour move: unknown before the first bar, then down at 03:00 and 05:00
    assert labels["last_move_down"].tolist() == [False, False, True, False, True, False]


def test_a_longer_horizon_and_a_minimum_move():
    prices = hourly_prices([100, 101, 100.5, 100.5, 99, 99.5])
    labels = sequences.label_rows(close_times(6), prices, sequences.TargetSettings(horizon_hours=2, min_move=0.01))
    # close(T + 2h) < close(T) * 0.99: 100.5 vs 100 no; 100.5 vs 101 no (-0.5%); 99 vs 100.5 yes (-1.5%); 99.5 vs 100.5 no
    assert labels["label"].tolist() == [0, 0, 1, 0, pd.NA, pd.NA]


def test_a_label_that_falls_on_a_filled_bar_is_unknown():
    prices = hourly_prices([100, 101, 101, 102, 99], filled={2})  # the bar closing at 03:00 had no trade
    labels = sequences.label_rows(close_times(5), prices, sequences.TargetSettings(horizon_hours=1, min_move=0))
    assert labels["label"].tolist() == [0, pd.NA, 0, 1, pd.NA]


def test_windows_never_span_a_gap_or_end_on_an_unknown_label():
    times = pd.concat([close_times(5), close_times(5, first=8)], ignore_index=True)  # 3 hours missing
    labels = pd.Series([0, 1, 0, 1, 0, 1, 0, 1, 0, pd.NA], dtype="Int8")
    ends = sequences.usable_window_ends(times, labels, seq_len=3)
    assert ends.tolist() == [2, 3, 4, 7, 8]


@pytest.mark.parametrize("seq_len,horizon", [(1, 1), (24, 1), (36, 4)])
def test_no_window_or_label_crosses_a_part_boundary(seq_len, horizon):
    times = close_times(2000)
    labels = pd.Series(np.arange(2000) % 2, dtype="Int8")
    ends = sequences.usable_window_ends(times, labels, seq_len)
    split = sequences.SplitSettings(train=0.6, validation=0.2, test=0.2)
    parts = sequences.split_in_time(times, ends, split, embargo_hours=seq_len + horizon)
    used = {name: set(sequences.rows_of_windows(2000, ends, seq_len).nonzero()[0]) | set(ends + horizon)
            for name, ends in parts.items()}  # every feature row a window reads, and every label's close row
    assert not used["train"] & used["validation"] and not used["validation"] & used["test"]
    assert not used["train"] & used["test"]
    for earlier, later in (("train", "validation"), ("validation", "test")):
        assert parts[later][0] - parts[earlier][-1] == seq_len + horizon  # the embargo is exactly the minimum
        assert max(used[earlier]) < min(used[later])
    # The fractions cut the rows; the embargo comes out of the end of the earlier part.
    assert (parts["validation"][0], parts["test"][0], parts["test"][-1]) == (1200, 1600, 1999)


def test_the_test_part_does_not_depend_on_seq_len():
    times = close_times(3000)
    labels = pd.Series(np.arange(3000) % 2, dtype="Int8")
    split = sequences.SplitSettings(train=0.7, validation=0.15, test=0.15)
    test_parts = [sequences.split_in_time(times, sequences.usable_window_ends(times, labels, seq_len), split,
                                          embargo_hours=seq_len + 1)["test"] for seq_len in (6, 24, 96)]
    assert all(np.array_equal(part, test_parts[0]) for part in test_parts)


def test_rows_of_windows_and_the_part_column():
    mask = sequences.rows_of_windows(10, np.array([3, 4, 8]), seq_len=2)
    assert mask.nonzero()[0].tolist() == [2, 3, 4, 7, 8]
    parts = {"train": np.array([3, 4]), "validation": np.array([6]), "test": np.array([9])}
    assert sequences.part_column(10, parts).tolist() == [np.nan] * 3 + ["train"] * 2 + [np.nan, "validation",
                                                                                          np.nan, np.nan, "test"]


@pytest.mark.parametrize("fractions,message", [
    ((0.7, 0.2, 0.2), "must sum to 1, got 1.1"),
    ((0.8, 0.2, 0.0), "test must be a fraction between 0 and 1"),
    ((1.0, 0.0, 0.0), "train must be a fraction between 0 and 1"),
])
def test_split_fractions_are_checked(fractions, message):
    with pytest.raises(ValueError, match=message):
        sequences.SplitSettings(*fractions)


def test_the_scaler_signed_logs_whale_columns_and_standardises_with_given_rows(tmp_path):
    frame = pd.DataFrame({"whale_inflow": [0.0, 9.0, 99.0, -9.0], "log_return": [1.0, 3.0, 5.0, 7.0],
                          "flat": [2.0, 2.0, 2.0, 2.0]})
    scaler = scaling.Scaler.fit(frame.iloc[:2], list(frame.columns), scaling.ScalingSettings(["*whale*"]))
    assert scaler.signed_log == [True, False, False]
    assert scaler.mean == pytest.approx([np.log(10) / 2, 2.0, 2.0]) and scaler.std[2] == 1.0
    scaled = scaler.transform(frame)
    np.testing.assert_allclose(scaled[:2, :2], [[-1, -1], [1, 1]], rtol=1e-6)
    assert scaled[3, 0] == pytest.approx((-np.log(10) - np.log(10) / 2) / (np.log(10) / 2))
    scaler.save(tmp_path / "scaler.json")
    np.testing.assert_array_equal(scaling.Scaler.load(tmp_path / "scaler.json").transform(frame), scaled)


@pytest.fixture
def sequenced(project):
    edit_params(project, **{"currencies": ["BTC"], "data.synthetic.hours": 1000, **TINY_MODEL})
    for stage in ("ingest", "featurize", "sequence"):
        run_stage_in_process(project, stage)
    return project


def test_the_sequence_stage_fits_its_scaler_on_training_windows_only(sequenced):
    features = pd.read_parquet(sequenced / paths.features("BTC"))
    output = pd.read_parquet(sequenced / paths.sequences("BTC"))
    scaler = json.loads((sequenced / paths.scaler("BTC")).read_text())
    train_ends = np.flatnonzero(output["part"] == "train")
    training_rows = np.arange(train_ends[0] - TINY_MODEL["seq_len"] + 1, train_ends[-1] + 1)
    volatility = features["price_volatility_last_24_hours"]
    assert scaler["price_volatility_last_24_hours"]["mean"] == pytest.approx(volatility.iloc[training_rows].mean())
    assert output["price_volatility_last_24_hours"].iloc[training_rows].mean() == pytest.approx(0, abs=1e-5)

    # Change every row after the training windows: the scaler and the scaled training rows stay the same.
    changed = features.copy()
    later = np.arange(train_ends[-1] + 1, len(features))
    changed.iloc[later, 1:] = changed.iloc[later, 1:] * 1000 + 5
    changed.to_parquet(sequenced / paths.features("BTC"), index=False)
    run_stage_in_process(sequenced, "sequence")
    assert json.loads((sequenced / paths.scaler("BTC")).read_text()) == scaler
    rerun = pd.read_parquet(sequenced / paths.sequences("BTC"))
    pd.testing.assert_frame_equal(rerun.iloc[: train_ends[-1] + 1], output.iloc[: train_ends[-1] + 1])


def test_the_sequence_table_is_row_aligned_and_does_not_grow_with_seq_len(sequenced):
    output = pd.read_parquet(sequenced / paths.sequences("BTC"))
    features = pd.read_parquet(sequenced / paths.features("BTC"))
    prices = pd.read_parquet(sequenced / paths.prices("BTC"))
    assert output["timestamp"].equals(features["timestamp"])
    # Row T is labelled with the bar that closes at T + 1h against the one that closes at T.
    close_at = prices.set_index(prices["timestamp"] + pd.Timedelta(hours=1))["close"]
    row = 500
    expected = int(close_at[output["timestamp"][row] + pd.Timedelta(hours=1)] < close_at[output["timestamp"][row]])
    assert output["label"][row] == expected
    edit_params(sequenced, seq_len=48)
    run_stage_in_process(sequenced, "sequence")
    longer = pd.read_parquet(sequenced / paths.sequences("BTC"))
    assert longer.shape == output.shape
    assert (longer["part"] == "train").sum() < (output["part"] == "train").sum()


GROUPS = {"prices": ["log_return_sum_1h", "price_volatility_last_24_hours"], "whales": ["whale_inflow_count_6h"]}


@pytest.mark.parametrize("switches,message", [
    ({"prices": True, "whale": False}, "'whale' is not a feature group of data/features/BTC.parquet (its groups: "
                                       "prices, whales)"),
    ({"prices": True}, "group 'whales' is not switched: add `whales: true` (or false)"),
    ({"prices": True, "whales": "no"}, "whales must be true or false, got 'no'"),
    ({"prices": False, "whales": False}, "every group is switched off (prices, whales)"),
    (["prices"], "must map each feature group to true or false"),
])
def test_feature_group_switches_are_checked(switches, message):
    with pytest.raises(InputError, match=re.escape(message)) as raised:
        feature_groups.select(GROUPS, switches, "data/features/BTC.parquet")
    assert str(raised.value).startswith("params.yaml: feature_groups:")


def test_a_group_switched_off_leaves_the_sequence_table_and_nothing_else_changes(sequenced):
    with_whales = pd.read_parquet(sequenced / paths.sequences("BTC"))
    edit_params(sequenced, **{"feature_groups.whales": False})
    result = run_stage_in_process(sequenced, "sequence")
    assert "feature groups: whales (18 columns) OFF, prices (12 columns) on" in result.stderr
    without = pd.read_parquet(sequenced / paths.sequences("BTC"))
    groups = feature_groups.read(without, "sequences")
    assert list(groups) == ["prices", "news"] and not [name for name in without if "whale" in name]
    assert list(without.columns) == [name for name in with_whales.columns if name not in
                                     feature_groups.read(with_whales, "sequences")["whales"]]
    kept = groups["prices"] + groups["news"]
    assert list(json.loads((sequenced / paths.scaler("BTC")).read_text())) == kept
    pd.testing.assert_frame_equal(without[kept], with_whales[kept])
    pd.testing.assert_series_equal(without["label"], with_whales["label"])


# --- edges, in-process (mutation testing counts only tests that call the package in this process) -----------

def messages(caplog, logger):
    return [record.getMessage() for record in caplog.records if record.name.startswith(logger)]


def test_labels_are_int8_on_every_row_and_unknown_where_no_real_close_follows(caplog):
    """Rows past the last bar (and a close on a filled bar) get <NA>; a move smaller than min_move is not down."""
    prices = hourly_prices([100, 99.5, 98, 98, 99], filled={3})  # closes at 01:00 .. 05:00; 04:00 is filled
    with caplog.at_level("INFO", logger="whalecast"):
        labels = sequences.label_rows(close_times(8), prices, sequences.TargetSettings(horizon_hours=1, min_move=0.01))
    assert str(labels["label"].dtype) == "Int8" and labels["last_move_down"].dtype == bool
    assert list(labels.columns) == ["label", "last_move_down"] and len(labels) == 8
    # 99.5 < 100 * 0.99? no; 98 < 99.5 * 0.99 = 98.505 yes; close(04:00) is filled; 99 < 98 * 0.99 no; then unknown
    assert labels["label"].tolist() == [0, 1, pd.NA, 0, pd.NA, pd.NA, pd.NA, pd.NA]
    # 02:00 fell 0.5% (less than min_move: not down), 03:00 fell 1.5%
    assert labels["last_move_down"].tolist() == [False, False, True, False, False, False, False, False]
    assert messages(caplog, "whalecast.modeling.sequences") == [
        "label: close(T+1h) < close(T) * (1 - 0.01); 4 rows at the end have no close(T+h) yet, 1 more fall on a "
        "filled (no-trade) bar; all 5 are unlabelled"]


def test_a_move_of_exactly_min_move_is_not_down():
    prices = hourly_prices([100.0, 50.0, 25.0])  # each hour halves: exactly close * (1 - 0.5)
    labels = sequences.label_rows(close_times(3), prices, sequences.TargetSettings(horizon_hours=1, min_move=0.5))
    assert labels["label"].tolist() == [0, 0, pd.NA]
    assert labels["last_move_down"].tolist() == [False, False, False]


@pytest.mark.parametrize("horizon_hours, min_move", [(1, 0.0), (1, 0.999), (48, 0.5)])
def test_target_settings_at_their_bounds_are_accepted(horizon_hours, min_move):
    target = sequences.TargetSettings(horizon_hours=horizon_hours, min_move=min_move)
    assert (target.horizon_hours, target.min_move) == (horizon_hours, min_move)


@pytest.mark.parametrize("horizon_hours, min_move, message", [
    (0, 0.0, "horizon_hours must be at least 1, got 0"),
    (1, -0.001, "min_move must be in 0..1 (a fraction of the price), 1 excluded, got -0.001"),
    (1, 1.0, "min_move must be in 0..1 (a fraction of the price), 1 excluded, got 1"),
])
def test_target_settings_beyond_their_bounds_are_refused_by_name(horizon_hours, min_move, message):
    with pytest.raises(InputError) as raised:
        settings.build(sequences.TargetSettings, {"horizon_hours": horizon_hours, "min_move": min_move}, "target")
    assert str(raised.value) == f"params.yaml: target.{message}"


@pytest.mark.parametrize("fractions", [(0.98, 0.01, 0.01), (0.7, 0.2, 0.1), (0.5, 0.3, 0.2 + 5e-10)])
def test_split_fractions_inside_their_bounds_are_accepted(fractions):
    """0.7 + 0.2 + 0.1 is 0.9999999999999999 in floats; up to 1e-9 off 1 is accepted."""
    assert sequences.SplitSettings(*fractions) == sequences.SplitSettings(**dict(zip(sequences.PARTS, fractions)))


@pytest.mark.parametrize("fractions, message", [
    ((0.0, 0.5, 0.5), ".train must be a fraction between 0 and 1 (exclusive), got 0"),
    ((0.5, 1.0, 0.5), ".validation must be a fraction between 0 and 1 (exclusive), got 1"),
    ((0.5, 0.5, -0.0001), ".test must be a fraction between 0 and 1 (exclusive), got -0.0001"),
    ((0.5, 0.3, 0.2 + 2e-9), ": train + validation + test must sum to 1, got 1"),
    ((0.5, 0.3, 0.1), ": train + validation + test must sum to 1, got 0.9"),
])
def test_split_fractions_beyond_their_bounds_are_refused_by_name(fractions, message):
    with pytest.raises(InputError) as raised:
        settings.build(sequences.SplitSettings, dict(zip(sequences.PARTS, fractions)), "split")
    assert str(raised.value) == f"params.yaml: split{message}"


def test_windows_of_one_hour_end_on_every_labelled_row(caplog):
    times = close_times(10)
    labels = pd.Series([0, 1, 0, 1, pd.NA, 1, 0, 1, 0, 1], dtype="Int8")
    with caplog.at_level("INFO", logger="whalecast"):
        ends = sequences.usable_window_ends(times, labels, seq_len=1)
        # 10 rows: validation starts at row 6, test at row 8; embargo seq_len + horizon = 2 hours
        parts = sequences.split_in_time(times, ends, sequences.SplitSettings(0.6, 0.2, 0.2), embargo_hours=2)
    assert ends.tolist() == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert {name: part.tolist() for name, part in parts.items()} == {"train": [0, 1, 2, 3], "validation": [6],
                                                                      "test": [8, 9]}
    assert messages(caplog, "whalecast.modeling.sequences") == [
        "9 rows end a labelled window of 1 consecutive hours (0 windows span a gap, 0 rows are warm-up)",
        "split in time: train 4 (2024-01-01 01:00 to 2024-01-01 04:00), validation 1 (2024-01-01 07:00 to "
        "2024-01-01 07:00), test 2 (2024-01-01 09:00 to 2024-01-01 10:00); 2 windows purged for the 2-hour embargoes",
    ]


def test_the_window_count_log_tells_gaps_warm_up_and_unlabelled_rows_apart(caplog):
    times = pd.concat([close_times(4), close_times(4, first=7)], ignore_index=True)  # 05:00 and 06:00 missing
    labels = pd.Series([0, 1, pd.NA, 1, 0, 1, 0, pd.NA], dtype="Int8")
    with caplog.at_level("INFO", logger="whalecast"):
        ends = sequences.usable_window_ends(times, labels, seq_len=2)
    assert ends.tolist() == [1, 3, 5, 6]
    assert messages(caplog, "whalecast.modeling.sequences") == [
        "4 rows end a labelled window of 2 consecutive hours (1 windows span a gap, 1 rows are warm-up)"]


BOUNDS = {"train": (0, 6), "validation": (6, 8), "test": (8, 10)}


def test_without_an_embargo_the_parts_are_adjacent_and_miss_no_row():
    parts = sequences.split_by_rows(close_times(10), np.arange(10), BOUNDS, embargo_hours=0)
    assert {name: part.tolist() for name, part in parts.items()} == {
        "train": [0, 1, 2, 3, 4, 5], "validation": [6, 7], "test": [8, 9]}


def test_an_embargo_is_purged_from_the_end_of_the_earlier_part():
    parts = sequences.split_by_rows(close_times(10), np.arange(10), BOUNDS, embargo_hours=2)
    # the last end kept is 2 hours before the first end of the next part
    assert {name: part.tolist() for name, part in parts.items()} == {
        "train": [0, 1, 2, 3, 4], "validation": [6], "test": [8, 9]}


@pytest.mark.parametrize("embargo, emptied", [(7, "train"), (3, "validation")])
def test_an_embargo_longer_than_a_part_is_an_error_naming_the_part(embargo, emptied):
    with pytest.raises(ValueError) as raised:
        sequences.split_by_rows(close_times(10), np.arange(10), BOUNDS, embargo_hours=embargo)
    assert str(raised.value) == (f"the {emptied} part is empty after an embargo of {embargo} hours (10 usable "
                                 f"windows in all): use more data or change the fractions")


def test_an_empty_last_part_is_an_error_too():
    with pytest.raises(ValueError, match="^the test part is empty after an embargo of 0 hours \\(8 usable"):
        sequences.split_by_rows(close_times(10), np.arange(8), BOUNDS, embargo_hours=0)


def test_parts_with_both_classes_pass_the_class_check():
    labels = pd.Series([0, 1, 1, 0, 1, 0, pd.NA], dtype="Int8")
    assert sequences.check_both_classes(labels, {"train": np.array([0, 1]), "test": np.array([2, 3])},
                                        "data/interim/prices/BTC.parquet") is None


@pytest.mark.parametrize("rows, fold, counts", [
    ([0, 3, 5], "", "3 up/flat, 0 down"),
    ([1, 2, 4], "fold 2 ", "0 up/flat, 3 down"),
])
def test_a_part_with_one_class_is_named_with_its_counts(rows, fold, counts):
    labels = pd.Series([0, 1, 1, 0, 1, 0], dtype="Int8")
    parts = {"train": np.array([0, 1]), "validation": np.array(rows)}
    with pytest.raises(InputError) as raised:
        if fold:
            sequences.check_both_classes(labels, parts, "data/sequences/BTC.parquet", fold=fold)
        else:
            sequences.check_both_classes(labels, parts, "data/sequences/BTC.parquet")
    assert str(raised.value) == (f"data/sequences/BTC.parquet: the {fold}validation part has only one class "
                                 f"({counts}): a classifier cannot be fit or scored on it (see also target.min_move "
                                 f"and target.horizon_hours)")


@pytest.mark.parametrize("seq_len", [1, 24, 10_000])
def test_a_whole_positive_seq_len_is_accepted(seq_len):
    assert settings.load(sequences.WindowSettings, {"seq_len": seq_len, "other": "keys"}).seq_len == seq_len


@pytest.mark.parametrize("seq_len, problem", [(0, "must be at least 1, got 0"), (-3, "must be at least 1, got -3"),
                                              (True, "must be int, got True"), (24.0, "must be int, got 24.0"),
                                              ("24", "must be int, got '24'"), (None, "must be int, got None")])
def test_any_other_seq_len_is_refused(seq_len, problem):
    with pytest.raises(InputError) as raised:
        settings.load(sequences.WindowSettings, {"seq_len": seq_len})
    assert str(raised.value) == f"params.yaml: seq_len {problem}"


def write_sequence_table(currency="BTC"):
    """A small sequence table as the sequence stage writes it for windows of 3 rows: the first training window
    ends at row 2."""
    table = pd.DataFrame({
        "timestamp": close_times(8),
        "price_a": np.arange(8, dtype=float) / 4,
        "whale_b": -np.arange(8, dtype=float),
        "label": pd.array([0, 1, 1, 0, 1, 0, 1, pd.NA], dtype="Int8"),
        "last_move_down": [False, True, False, False, True, True, False, True],
        "part": pd.Categorical([None, None, "train", "train", None, "validation", "test", None],
                               categories=list(sequences.PARTS)),
    })
    feature_groups.record(table, {"whales": ["whale_b"], "prices": ["price_a"]})
    table.attrs[sequences.SEQ_LEN_ATTRIBUTE] = 3
    storage.write_parquet(table, paths.sequences(currency))
    return table


def test_samples_read_the_sequence_table_as_arrays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = write_sequence_table()
    samples = sequences.Samples.read(paths.sequences("BTC"))
    assert samples.seq_len == 3
    assert samples.columns == ["price_a", "whale_b"]
    assert samples.features.dtype == np.float32 and samples.features.shape == (8, 2)
    np.testing.assert_array_equal(samples.features, table[["price_a", "whale_b"]].to_numpy(np.float32))
    assert samples.labels.dtype == np.float32
    np.testing.assert_array_equal(samples.labels, np.array([0, 1, 1, 0, 1, 0, 1, np.nan], np.float32))
    assert samples.last_move_down.dtype == bool
    assert samples.last_move_down.tolist() == table["last_move_down"].tolist()
    assert {name: ends.tolist() for name, ends in samples.ends.items()} == {"train": [2, 3], "validation": [5],
                                                                            "test": [6]}
    assert {name: rows.tolist() for name, rows in samples.groups.items()} == {"whales": [1], "prices": [0]}
    assert samples.timestamps.tolist() == table["timestamp"].tolist()
    assert samples.labels_of("train").tolist() == [1, 0] and samples.labels_of("train").dtype.kind == "i"


def test_samples_refuse_a_table_that_does_not_say_its_window_length(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = write_sequence_table()
    del table.attrs[sequences.SEQ_LEN_ATTRIBUTE]
    storage.write_parquet(table, paths.sequences("BTC"))
    with pytest.raises(InputError) as raised:
        sequences.Samples.read(paths.sequences("BTC"))
    assert str(raised.value) == ("data/sequences/BTC.parquet: no seq_len recorded in the file: run the sequence stage "
                                 "again (dvc repro)")


def test_a_part_s_windows_are_the_seq_len_rows_ending_at_each_of_its_ends(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_sequence_table()
    samples = sequences.Samples.read(paths.sequences("BTC"))
    assert samples.window_rows("train").tolist() == [[0, 1, 2], [1, 2, 3]]  # ends 2 and 3, three rows each
    assert samples.window_rows("test").tolist() == [[4, 5, 6]]
    np.testing.assert_array_equal(samples.windows("validation"), samples.features[[3, 4, 5]][None])


def test_the_scaler_output_is_float32_standardised_with_the_training_rows():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 10.0], "whale_x": [0.0, np.e - 1, 0.0, -(np.e ** 2 - 1)],
                          "flat": [5.0, 5.0, 5.0, 7.5]})
    scaler = scaling.Scaler.fit(frame.iloc[:3], list(frame.columns), scaling.ScalingSettings(["whale_*"]))
    a_std, whale_std = np.std([1.0, 2.0, 3.0]), np.std([0.0, 1.0, 0.0])
    assert scaler.mean == pytest.approx([2.0, 1 / 3, 5.0], abs=1e-12)
    assert scaler.std == pytest.approx([a_std, whale_std, 1.0], abs=1e-12)  # a constant column: divided by 1
    scaled = scaler.transform(frame)
    assert scaled.dtype == np.float32 and scaled.shape == (4, 3)
    expected = np.array([[(x - 2.0) / a_std for x in frame["a"]],
                         [(y - 1 / 3) / whale_std for y in (0.0, 1.0, 0.0, -2.0)],  # sign(x) log1p(|x|) first
                         [0.0, 0.0, 0.0, 2.5]]).T
    np.testing.assert_allclose(scaled, expected.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_one_constant_feature_is_warned_about_in_the_singular_and_a_quiet_fit_says_nothing(caplog):
    frame = pd.DataFrame({"moves": [1.0, 2.0], "flat": [2.5, 2.5]})
    settings = scaling.ScalingSettings(signed_log_columns=[])
    with caplog.at_level("INFO", logger="whalecast"):
        scaling.Scaler.fit(frame, list(frame.columns), settings)
        scaling.Scaler.fit(frame, list(frame.columns), settings, warn_constant=False)
        scaling.Scaler.fit(frame[["moves"]], ["moves"], settings)
    assert messages(caplog, "whalecast.modeling.scaling") == [
        "1 feature constant over the training part (no information for the models; a spec that matches no data?): "
        "flat (2.5)"]


def test_signed_log_column_patterns_must_be_text():
    assert scaling.ScalingSettings(["*whale*", "volume"]).signed_log_columns == ["*whale*", "volume"]
    with pytest.raises(ValueError) as raised:
        scaling.ScalingSettings(["*whale*", 3])
    assert str(raised.value) == "signed_log_columns must be a list of column-name patterns, got ['*whale*', 3]"


def test_samples_refuse_a_sequence_table_without_its_feature_groups(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = write_sequence_table()
    del table.attrs[feature_groups.ATTRIBUTE]
    storage.write_parquet(table, paths.sequences("BTC"))
    with pytest.raises(InputError) as raised:
        sequences.Samples.read(paths.sequences("BTC"))
    assert str(raised.value) == ("data/sequences/BTC.parquet: no feature groups recorded in the file: run featurize "
                                 "again (dvc repro)")


def test_the_constant_features_are_listed_with_their_value_and_a_spread_of_one_is_not_constant(caplog):
    frame = pd.DataFrame({"spread_one": [0.0, 2.0], "flat": [2.5, 2.5], "zero": [0.0, 0.0]})
    with caplog.at_level("INFO", logger="whalecast"):
        scaler = scaling.Scaler.fit(frame, list(frame.columns), scaling.ScalingSettings([]))
    assert scaler.std == [1.0, 1.0, 1.0]
    assert messages(caplog, "whalecast.modeling.scaling") == [
        "2 features constant over the training part (no information for the models; a spec that matches no data?): "
        "flat (2.5), zero (0)"]


def test_a_single_training_row_makes_every_feature_constant(caplog):
    frame = pd.DataFrame({"a": [3.0, 5.0], "b": [-1.0, 1.0]})
    with caplog.at_level("INFO", logger="whalecast"):
        scaler = scaling.Scaler.fit(frame.iloc[:1], ["a", "b"], scaling.ScalingSettings([]))
    assert messages(caplog, "whalecast.modeling.scaling")[0].endswith("data?): a (3), b (-1)")
    np.testing.assert_array_equal(scaler.transform(frame), np.array([[0, 0], [2, 2]], np.float32))


def test_whole_number_columns_are_signed_logged_as_floats(tmp_path):
    frame = pd.DataFrame({"whale_count": [0, 9, 99]})  # int64, as a count column could be
    scaler = scaling.Scaler.fit(frame, ["whale_count"], scaling.ScalingSettings(["whale_*"]))
    logs = np.log([1.0, 10.0, 100.0])
    assert scaler.mean == pytest.approx([logs.mean()], rel=1e-12) and scaler.std == pytest.approx([logs.std()])
    np.testing.assert_allclose(scaler.transform(frame)[:, 0], (logs - logs.mean()) / logs.std(), rtol=1e-6)


def test_the_scaler_file_is_one_indented_json_entry_per_column(tmp_path):
    scaler = scaling.Scaler(["a", "whale_b"], [False, True], [0.5, 2.0], [1.0, 4.0])
    scaler.save(tmp_path / "scaler.json")
    assert (tmp_path / "scaler.json").read_text(encoding="utf-8") == (
        '{\n "a": {\n  "signed_log": false,\n  "mean": 0.5,\n  "std": 1.0\n },\n'
        ' "whale_b": {\n  "signed_log": true,\n  "mean": 2.0,\n  "std": 4.0\n }\n}\n')
    assert scaling.Scaler.load(tmp_path / "scaler.json") == scaler
