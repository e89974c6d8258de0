"""Labels, window ends, the embargoed time split and the training-only scaler (no TensorFlow here)."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_MODEL, edit_params, run_stage
from whalecast import feature_groups, paths, scaling, sequences
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
        run_stage(project, stage)
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
    run_stage(sequenced, "sequence")
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
    run_stage(sequenced, "sequence")
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
    result = run_stage(sequenced, "sequence")
    assert "feature groups: whales (18 columns) OFF, prices (12 columns) on" in result.stderr
    without = pd.read_parquet(sequenced / paths.sequences("BTC"))
    groups = feature_groups.read(without, "sequences")
    assert list(groups) == ["prices"] and not [name for name in without if "whale" in name]
    assert list(without.columns) == [name for name in with_whales.columns if name not in
                                     feature_groups.read(with_whales, "sequences")["whales"]]
    assert list(json.loads((sequenced / paths.scaler("BTC")).read_text())) == groups["prices"]
    pd.testing.assert_frame_equal(without[groups["prices"]], with_whales[groups["prices"]])
    pd.testing.assert_series_equal(without["label"], with_whales["label"])
