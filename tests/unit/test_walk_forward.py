"""Walk-forward folds: contiguous test blocks, training strictly before them with the embargo, a scaler per fold
fit on its own training windows."""

import numpy as np
import pandas as pd
import pytest

from whalecast.evaluation import walk_forward
from whalecast.modeling import scaling, sequences

START = pd.Timestamp("2024-01-01", tz="UTC")


def settings(**changes):
    return walk_forward.WalkForwardSettings(**{"folds": 4, "window": "expanding", "first_train": 0.5,
                                               "validation": 0.2, **changes})


@pytest.mark.parametrize("window", ["expanding", "rolling"])
def test_test_blocks_are_contiguous_equal_and_cover_the_rest(window):
    folds = walk_forward.fold_bounds(1003, settings(window=window), seq_len=24)
    tests = [fold["test"] for fold in folds]
    assert tests[0][0] == 501 and tests[-1][1] == 1003
    assert all(earlier[1] == later[0] for earlier, later in zip(tests, tests[1:]))  # contiguous, no overlap
    assert {stop - start for start, stop in tests} <= {125, 126}
    for fold in folds:
        assert fold["train"][1] == fold["validation"][0] and fold["validation"][1] == fold["test"][0]
        train_rows = fold["test"][0] - (fold["train"][0] - 23)  # the first training window starts 23 rows earlier
        assert fold["validation"][1] - fold["validation"][0] == int(train_rows * 0.2)
    starts = [fold["train"][0] - 23 for fold in folds]
    if window == "expanding":
        assert starts == [0, 0, 0, 0]
    else:  # as long as the first block, sliding with the test blocks
        assert [fold["test"][0] - start for fold, start in zip(folds, starts)] == [501] * 4


@pytest.mark.parametrize("window,seq_len,horizon", [("expanding", 24, 1), ("rolling", 12, 4), ("expanding", 1, 1)])
def test_nothing_of_a_test_block_is_used_by_its_fold_fit(window, seq_len, horizon):
    n = 1500
    times = pd.Series(START + pd.to_timedelta(np.arange(n), unit="h"))
    labels = pd.Series(np.arange(n) % 2, dtype="Int8")
    labels[n - horizon:] = pd.NA
    ends = sequences.usable_window_ends(times, labels, seq_len)
    for bounds in walk_forward.fold_bounds(n, settings(window=window), seq_len):
        parts = sequences.split_by_rows(times, ends, bounds, seq_len + horizon)
        # Rows read by the windows of a part, and the rows whose close makes their labels.
        read = {name: set(np.flatnonzero(sequences.rows_of_windows(n, part, seq_len))) | set(part + horizon)
                for name, part in parts.items()}
        assert max(read["train"]) < min(read["validation"]) and max(read["validation"]) < min(read["test"])
        assert parts["test"][0] - parts["validation"][-1] == seq_len + horizon
        assert parts["validation"][0] - parts["train"][-1] == seq_len + horizon
        assert min(parts["train"]) - seq_len + 1 >= bounds["train"][0] - seq_len + 1 >= 0


def test_each_fold_fits_its_scaler_on_its_training_windows_only():
    n, seq_len = 400, 5
    times = pd.Series(START + pd.to_timedelta(np.arange(n), unit="h"))
    features = pd.DataFrame({"a": np.arange(n, dtype=float), "whale_b": np.linspace(0, 1e6, n)})
    rows = sequences.Samples(features=features.to_numpy(np.float32), labels=np.ones(n, np.float32),
                             last_move_down=np.zeros(n, bool), ends={}, columns=["a", "whale_b"],
                             groups={"x": np.array([0, 1])}, timestamps=times, seq_len=seq_len)
    parts = {"train": np.arange(10, 200), "validation": np.arange(210, 250), "test": np.arange(260, 300)}
    fold = walk_forward.fold_samples(features, rows, parts, scaling.ScalingSettings(["*whale*"]))
    assert fold.features[6:200, 0].mean() == pytest.approx(0, abs=1e-5)  # rows 6..199 are in training windows
    changed = features.copy()
    changed.iloc[200:] = -1e9  # everything after the training windows
    refit = walk_forward.fold_samples(changed, rows, parts, scaling.ScalingSettings(["*whale*"]))
    np.testing.assert_array_equal(refit.features[:200], fold.features[:200])
    assert refit.ends is parts and refit.groups is rows.groups


def test_the_summary_is_mean_and_sample_std_across_folds():
    folds = [{"test_start": "2024", "m": {metric: value for metric in walk_forward.METRICS}} for value in (0.5, 0.6, 0.7)]
    summary = walk_forward.summary(folds)["m"]
    assert summary["roc_auc_mean"] == pytest.approx(0.6) and summary["roc_auc_std"] == pytest.approx(0.1)
    assert list(summary) == [f"{metric}_{stat}" for metric in walk_forward.METRICS for stat in ("mean", "std")]


@pytest.mark.parametrize("changes,message", [
    ({"folds": 1}, "folds must be at least 2"),
    ({"window": "sliding"}, "window must be one of expanding, rolling"),
    ({"first_train": 1.0}, "first_train must be a fraction between 0 and 1"),
    ({"validation": 0}, "validation must be a fraction between 0 and 1"),
])
def test_settings_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        settings(**changes)
