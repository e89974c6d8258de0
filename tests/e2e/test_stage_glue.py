"""The stage glue end to end on a tiny market: the real stage scripts write files, and every label, window,
part boundary and fit in them is checked against values computed here, independently, for every row.

One real `dvc repro` of two currencies other than BTC (ETH, and SOL, which the sample market has no profile
for) with a horizon of 3 hours and a minimum move is shared by all tests; a scratch copy of it re-runs the
sequence stage with a horizon of 1 hour, and other copies re-run the sequence stage (as a process) and the train
stage (in this process, as run_stage_in_process runs it) on poisoned inputs.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from threadpoolctl import threadpool_limits

from conftest import REPORTED_MODELS, TINY_MODEL, edit_params, run_stage_in_process, stages_run
from shared_repos import SHARED
from whalecast import paths
from whalecast.data import sample_market
from whalecast.modeling.baselines import Baselines, BaselineSettings
from whalecast.modeling.sequences import Samples

GLUE = SHARED["glue"]  # the params of the shared repository these tests read
CURRENCIES, MARKET_HOURS, SEQ_LEN = GLUE["currencies"], GLUE["data.synthetic.hours"], GLUE["seq_len"]
HORIZON, MIN_MOVE = GLUE["target.horizon_hours"], GLUE["target.min_move"]  # the scratch copy: (1, SHORT_MIN_MOVE)
SHORT_MIN_MOVE = 0.003
FRACTIONS = {"train": 0.7, "validation": 0.15, "test": 0.15}  # params.yaml split (not changed here)
STAGES = ["ingest", "featurize", "sequence", "train", "evaluate", "walk_forward", "backtest"]
ONE_HOUR = pd.Timedelta(hours=1)


# ---------------------------------------------------------------------------------------------------------------
# Shared stage runs


def scratch_copy(source: Path, destination: Path) -> Path:
    """The repro's project with its outputs, without git and DVC, to re-run single stages in."""
    return Path(shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".git", ".dvc", "__pycache__")))


def start_stage(project: Path, stage: str, currency: str) -> subprocess.Popen:
    """A stage as dvc.yaml runs it: with the project's own src/ first on the path."""
    environment = {**os.environ, "PYTHONPATH": "src", "DVC_NO_ANALYTICS": "1"}
    return subprocess.Popen([sys.executable, f"stages/{stage}.py", currency], cwd=project, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, f"{process.args} failed:\n{stdout}\n{stderr}"


def run_stage_here(project: Path, stage: str, currency: str) -> None:
    finish(start_stage(project, stage, currency))


@pytest.fixture(scope="module")
def pipeline(glue):
    """A git repository of the project for ETH and SOL, after a real `dvc repro`, and that repro's output."""
    return glue


@pytest.fixture(scope="module")
def horizon_one(pipeline, tmp_path_factory):
    """A copy of the repro with target horizon 1 hour and another minimum move, the sequence stage re-run."""
    project = scratch_copy(pipeline[0], tmp_path_factory.mktemp("horizon_one") / "project")
    edit_params(project, **{"target.horizon_hours": 1, "target.min_move": SHORT_MIN_MOVE})
    for process in [start_stage(project, "sequence", currency) for currency in CURRENCIES]:
        finish(process)
    return project


@pytest.fixture(params=["horizon_3", "horizon_1"])
def case(request):
    """(project, horizon, min_move): the repro's sequence tables, and those of its horizon-1 copy."""
    if request.param == "horizon_3":
        return request.getfixturevalue("pipeline")[0], HORIZON, MIN_MOVE
    return request.getfixturevalue("horizon_one"), 1, SHORT_MIN_MOVE


# ---------------------------------------------------------------------------------------------------------------
# Independent computations


def generated_market(project: Path, currency: str) -> pd.DataFrame:
    """The raw bars of the sample market as the project's data.synthetic makes them (bar open times)."""
    settings = yaml.safe_load((project / "params.yaml").read_text())["data"]["synthetic"]
    assert settings["hours"] == MARKET_HOURS
    return sample_market.generate_market(currency, sample_market.MarketSettings(**settings)).prices


def read(project: Path, currency: str):
    return (pd.read_parquet(project / paths.sequences(currency)), pd.read_parquet(project / paths.features(currency)))


def part_rows(table: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: np.flatnonzero((table["part"] == name).to_numpy()) for name in FRACTIONS}


def expected_parts(n_rows: int, horizon: int) -> dict[str, np.ndarray]:
    """params.yaml split: the fractions cut the hourly rows in time order; the windows ending in the last
    seq_len + horizon hours of an earlier part are purged; the last `horizon` rows have no label yet.
    (Every row of the sample market is a consecutive hour and labelled but for the last ones; checked.)"""
    first_validation = int(n_rows * FRACTIONS["train"])
    first_test = first_validation + int(n_rows * FRACTIONS["validation"])
    embargo = SEQ_LEN + horizon
    return {"train": np.arange(SEQ_LEN - 1, first_validation - embargo + 1),
            "validation": np.arange(first_validation, first_test - embargo + 1),
            "test": np.arange(first_test, n_rows - horizon)}


def training_rows(train_ends: np.ndarray, n_rows: int) -> np.ndarray:
    """Every row read by at least one training window (the window of end e: rows e - seq_len + 1 .. e)."""
    rows = np.zeros(n_rows, bool)
    for end in train_ends:
        rows[end - SEQ_LEN + 1: end + 1] = True
    return rows


def scaling_of(features: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> dict:
    """params.yaml scaling: columns with 'whale' in their name get sign(x) * log1p(|x|), then every column is
    standardised with the mean and (population) standard deviation of `rows`; a constant column keeps std 1."""
    result = {}
    for column in columns:
        values = features[column].to_numpy(np.float64)
        signed_log = "whale" in column
        if signed_log:
            values = np.sign(values) * np.log1p(np.abs(values))
        mean, std = values[rows].mean(), values[rows].std()
        result[column] = {"signed_log": signed_log, "mean": mean, "std": std if std > 0 else 1.0,
                          "scaled": (values - mean) / (std if std > 0 else 1.0)}
    return result


def hash_tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


# ---------------------------------------------------------------------------------------------------------------
# Every currency through the whole pipeline


def test_the_sample_market_makes_any_currency_and_each_is_its_own(pipeline):
    eth, sol = (generated_market(pipeline[0], currency) for currency in CURRENCIES)
    assert len(sol) == MARKET_HOURS and sol["close"].notna().all() and (sol["close"] > 0).all()
    assert not np.allclose(eth["close"] / eth["close"].iloc[0], sol["close"] / sol["close"].iloc[0])


def test_repro_runs_every_stage_for_every_currency_and_their_outputs_are_distinct(pipeline):
    project, result = pipeline
    assert stages_run(result) == [f"{stage}@{currency}" for stage in STAGES for currency in CURRENCIES] + ["report"]
    per_currency = [paths.prices, paths.whales, paths.features, paths.sequences, paths.scaler, paths.model,
                    paths.metrics, paths.classification_report, paths.predictions, paths.walk_forward_metrics,
                    paths.walk_forward_plot, paths.backtest_metrics, paths.equity_plot]
    for path in per_currency:
        eth, sol = ((project / path(currency)).read_bytes() for currency in CURRENCIES)
        assert eth != sol, path("ETH")
    for currency in CURRENCIES:
        assert len(list((project / paths.seed_models(currency)).glob("*.keras"))) == TINY_MODEL["model.n_seeds"] - 1
        whales = pd.read_parquet(project / paths.whales(currency))
        assert len(whales) > 0 and set(whales["blockchain"]) == {sample_market.profile_for(currency).blockchain}
        test = json.loads((project / paths.metrics(currency)).read_text())
        assert all(model in test for model in REPORTED_MODELS)
        assert test["n_test"] == len(expected_parts(MARKET_HOURS - 24, HORIZON)["test"])
        walk_forward = json.loads((project / paths.walk_forward_metrics(currency)).read_text())
        assert all(model in walk_forward for model in REPORTED_MODELS)
        assert all(model in json.loads((project / paths.backtest_metrics(currency)).read_text())
                   for model in REPORTED_MODELS)
        for name in ("roc", "calibration", "equity", "auc_per_fold"):
            assert (project / paths.figure(currency, name)).read_bytes()[:4] == b"\x89PNG"
    summary = (project / paths.summary()).read_text()
    for currency in CURRENCIES:
        test = json.loads((project / paths.metrics(currency)).read_text())
        assert summary.count(f"### {currency}\n") == 1 and summary.count(f"## {currency} in detail\n") == 1
        assert f"Test part: {test['n_test']:,} hours, {test['test_start'][:10]}" in summary
    assert summary.index("### ETH") < summary.index("### SOL")


def test_interim_prices_are_the_generated_bars_unshifted(pipeline):
    project = pipeline[0]
    for currency in CURRENCIES:
        raw = generated_market(project, currency)
        interim = pd.read_parquet(project / paths.prices(currency))
        np.testing.assert_array_equal(interim["timestamp"], raw["timestamp"])
        np.testing.assert_allclose(interim["close"], raw["close"], rtol=1e-12)
        assert not interim["filled"].any()  # a clean market: every bar is a real one


# ---------------------------------------------------------------------------------------------------------------
# Labels, windows and parts, every row


def test_every_label_is_the_move_over_the_horizon_from_the_generated_prices(case):
    project, horizon, min_move = case
    for currency in CURRENCIES:
        table, features = read(project, currency)
        raw = generated_market(project, currency)
        raw_close, start = raw["close"].to_numpy(), raw["timestamp"].iloc[0]
        # Row T is the close of the bar that opened at T - 1h: raw bar index (T - start) / 1h - 1.
        bar = ((table["timestamp"] - start) // ONE_HOUR).to_numpy() - 1
        assert bar[0] >= horizon and (np.diff(bar) == 1).all()
        now = raw_close[bar]
        known = bar + horizon < len(raw_close)
        later = np.where(known, raw_close[np.minimum(bar + horizon, len(raw_close) - 1)], np.nan)
        expected = pd.array(np.where(later < now * (1 - min_move), 1, 0), dtype="Int8")
        expected[~known] = pd.NA
        assert (~known).sum() == horizon  # only the last `horizon` rows have no close(T + h) yet
        pd.testing.assert_series_equal(table["label"].astype("Int8"), pd.Series(expected, name="label"))
        earlier = raw_close[bar - horizon]
        np.testing.assert_array_equal(table["last_move_down"], now < earlier * (1 - min_move))
        # The minimum move decides some labels: plain "down" would be wrong for them.
        assert ((later < now) & ~(later < now * (1 - min_move)))[known].sum() > 5
        assert table["timestamp"].equals(features["timestamp"])


def test_the_parts_are_cut_where_the_fractions_say_with_an_embargo_of_exactly_seq_len_plus_horizon(case):
    project, horizon, _ = case
    embargo = pd.Timedelta(hours=SEQ_LEN + horizon)
    for currency in CURRENCIES:
        table, _ = read(project, currency)
        assert (table["timestamp"].diff().iloc[1:] == ONE_HOUR).all()
        parts, expected = part_rows(table), expected_parts(len(table), horizon)
        for name in FRACTIONS:
            np.testing.assert_array_equal(parts[name], expected[name], err_msg=f"{currency} {name}")
        times = table["timestamp"]
        for earlier, later in (("train", "validation"), ("validation", "test")):
            last, first = parts[earlier][-1], parts[later][0]
            assert times[first] - times[last] == embargo, (currency, earlier, later)
            # The last label of the earlier part (close(T + h)) is the hour before the later part's first window.
            assert last + horizon + 1 == first - SEQ_LEN + 1
        assert table["part"].isna().sum() == len(table) - sum(map(len, expected.values()))


def test_the_test_part_in_the_metrics_is_the_test_part_of_the_table(pipeline):
    project = pipeline[0]
    for currency in CURRENCIES:
        table, _ = read(project, currency)
        test = json.loads((project / paths.metrics(currency)).read_text())
        test_rows = part_rows(table)["test"]
        assert test["n_test"] == len(test_rows)
        assert (test["test_start"], test["test_end"]) == tuple(
            f"{table['timestamp'][row]:%Y-%m-%dT%H:%MZ}" for row in (test_rows[0], test_rows[-1]))
        frame = pd.read_parquet(project / paths.predictions(currency))
        np.testing.assert_array_equal(frame["timestamp"], table["timestamp"][test_rows])
        np.testing.assert_array_equal(frame["label"], table["label"][test_rows].astype(int))


def test_every_window_the_model_reads_ends_at_its_decision_time_and_spans_seq_len_hours(pipeline, monkeypatch):
    from whalecast.modeling import lstm

    project = pipeline[0]
    monkeypatch.chdir(project)
    for currency in CURRENCIES:
        samples = Samples.read(paths.sequences(currency))
        assert samples.seq_len == SEQ_LEN
        table = pd.read_parquet(paths.sequences(currency))
        hours = ((samples.timestamps - samples.timestamps.iloc[0]) // ONE_HOUR).to_numpy(np.float32)
        # Feature "row r" = the hour of row r, so a window shows which hours it read.
        marked = dataclasses.replace(samples, features=hours[:, None])
        for part in FRACTIONS:
            ends = samples.ends[part]
            expected = hours[ends][:, None] + np.arange(-SEQ_LEN + 1, 1)  # seq_len consecutive hours ending at T
            np.testing.assert_array_equal(marked.windows(part)[:, :, 0], expected)
            batches = list(lstm.window_dataset(marked, part, batch_size=64))
            np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches])[:, :, 0], expected)
            np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]),
                                          table["label"].to_numpy()[ends].astype(np.float32))
            np.testing.assert_array_equal(samples.labels_of(part), table["label"].to_numpy()[ends].astype(int))


def test_walk_forward_folds_are_cut_as_documented_with_an_embargo_of_exactly_seq_len_plus_horizon(pipeline):
    project = pipeline[0]
    settings = {"folds": TINY_MODEL["walk_forward.folds"], "first_train": 0.5, "validation": 0.2}  # params.yaml
    embargo = SEQ_LEN + HORIZON
    for currency in CURRENCIES:
        table, _ = read(project, currency)
        times, n_rows = table["timestamp"], len(table)
        document = json.loads((project / paths.walk_forward_metrics(currency)).read_text())
        first_test = int(n_rows * settings["first_train"])
        edges = [first_test + k * (n_rows - first_test) // settings["folds"] for k in range(settings["folds"] + 1)]
        for number in range(1, settings["folds"] + 1):
            test_start, test_stop = edges[number - 1], edges[number]
            first_validation = test_start - int(test_start * settings["validation"])  # expanding: rows 0 ..
            expected = {"train": np.arange(SEQ_LEN - 1, first_validation - embargo + 1),
                        "validation": np.arange(first_validation, test_start - embargo + 1),
                        "test": np.arange(test_start, min(test_stop, n_rows - HORIZON))}
            fold = document[f"fold_{number}"]
            for name, rows in expected.items():
                assert (fold[f"{name}_start"], fold[f"{name}_end"], fold[f"n_{name}"]) == (
                    f"{times[rows[0]]:%Y-%m-%dT%H:%MZ}", f"{times[rows[-1]]:%Y-%m-%dT%H:%MZ}", len(rows)), \
                    (currency, number, name)
            for earlier, later in (("train", "validation"), ("validation", "test")):
                gap = pd.Timestamp(fold[f"{later}_start"]) - pd.Timestamp(fold[f"{earlier}_end"])
                assert gap == pd.Timedelta(hours=embargo), (currency, number, earlier, later)


# ---------------------------------------------------------------------------------------------------------------
# No fit sees the test part


def test_the_scaler_is_the_training_windows_statistics_and_scales_every_row(pipeline):
    project = pipeline[0]
    for currency in CURRENCIES:
        table, features = read(project, currency)
        scaler = json.loads((project / paths.scaler(currency)).read_text())
        assert yaml.safe_load((project / "params.yaml").read_text())["scaling"]["signed_log_columns"] == ["*whale*"]
        columns = [name for name in table.columns if name not in ("timestamp", "label", "last_move_down", "part")]
        assert list(scaler) == columns and set(columns) == set(features.columns) - {"timestamp"}
        rows = training_rows(part_rows(table)["train"], len(table))
        expected = scaling_of(features, rows, columns)
        for column in columns:
            saved, mine = scaler[column], expected[column]
            assert saved["signed_log"] == mine["signed_log"], column
            assert saved["mean"] == pytest.approx(mine["mean"], rel=1e-9, abs=1e-12), column
            assert saved["std"] == pytest.approx(mine["std"], rel=1e-9, abs=1e-12), column
            np.testing.assert_allclose(table[column], mine["scaled"], rtol=1e-5, atol=1e-5, err_msg=column)
        # Statistics of all rows differ, so the check above tells the two apart.
        everything = scaling_of(features, np.ones(len(table), bool), columns)
        assert max(abs(everything[c]["mean"] - expected[c]["mean"]) / expected[c]["std"] for c in columns) > 0.05


def test_walk_forward_fold_scalers_are_fit_on_their_own_training_windows(pipeline, monkeypatch):
    from whalecast import settings
    from whalecast.evaluation import walk_forward
    from whalecast.modeling import scaling, sequences

    monkeypatch.chdir(pipeline[0])
    params = settings.read()
    folds = settings.load(walk_forward.WalkForwardSettings, params)
    scaling_settings = settings.load(scaling.ScalingSettings, params)
    rows = Samples.read(paths.sequences("ETH"))
    features = pd.read_parquet(paths.features("ETH"))[rows.columns]
    # The folds as the walk_forward stage cuts them (their bounds are tested elsewhere); the fit on each is checked.
    labelled = sequences.usable_window_ends(rows.timestamps, pd.Series(rows.labels), SEQ_LEN)
    for bounds in walk_forward.fold_bounds(len(features), folds, SEQ_LEN):
        parts = sequences.split_by_rows(rows.timestamps, labelled, bounds, SEQ_LEN + HORIZON)
        fold = walk_forward.fold_samples(features, rows, parts, scaling_settings)
        expected = scaling_of(features, training_rows(parts["train"], len(features)), rows.columns)
        scaled = np.column_stack([expected[column]["scaled"] for column in rows.columns])
        np.testing.assert_allclose(fold.features, scaled, rtol=1e-4, atol=1e-4)


def test_the_sequence_stage_reads_nothing_of_the_test_part_for_its_fits_or_earlier_labels(pipeline, tmp_path):
    project = scratch_copy(pipeline[0], tmp_path / "project")
    currency = "ETH"
    table, features = read(project, currency)
    scaler_bytes = (project / paths.scaler(currency)).read_bytes()
    parts = part_rows(table)
    last_validation = parts["validation"][-1]
    # Poison every feature row after the training windows, and every price after the last validation label.
    poisoned = features.copy()
    after_training = np.arange(parts["train"][-1] + 1, len(features))
    rng = np.random.default_rng(0)
    poisoned.iloc[after_training, 1:] = rng.normal(5, 50, (len(after_training), features.shape[1] - 1))
    poisoned.to_parquet(project / paths.features(currency), index=False)
    prices = pd.read_parquet(project / paths.prices(currency))
    late = (prices["timestamp"] + ONE_HOUR > table["timestamp"][last_validation + HORIZON]).to_numpy()
    prices.loc[late, "close"] = prices.loc[late, "close"].to_numpy() * rng.uniform(0.8, 1.2, late.sum())
    prices.to_parquet(project / paths.prices(currency), index=False)
    run_stage_here(project, "sequence", currency)

    assert (project / paths.scaler(currency)).read_bytes() == scaler_bytes
    rerun, _ = read(project, currency)
    kept = parts["train"][-1] + 1
    pd.testing.assert_frame_equal(rerun.iloc[:kept], table.iloc[:kept])  # scaled training rows, labels, parts
    pd.testing.assert_series_equal(rerun["label"].iloc[:last_validation + 1], table["label"].iloc[:last_validation + 1])
    pd.testing.assert_series_equal(rerun["part"], table["part"])
    assert (rerun["label"] != table["label"]).sum() > 10  # the poison did reach the test labels

    # A training row does change the scaler: the check above can fail.
    poisoned.iloc[parts["train"][5], 1:] += 1e6
    poisoned.to_parquet(project / paths.features(currency), index=False)
    run_stage_here(project, "sequence", currency)
    assert (project / paths.scaler(currency)).read_bytes() != scaler_bytes


@pytest.fixture(scope="module")
def poisoned_training(pipeline, tmp_path_factory):
    """Two copies of the repro re-running train for ETH: one with every row after the last validation window
    poisoned (the test part's features, labels and last moves, and the embargo rows between), one with a
    single training row changed."""
    currency, source = "ETH", pipeline[0]
    table = pd.read_parquet(source / paths.sequences(currency))
    parts = part_rows(table)
    columns = [name for name in table.columns if name not in ("timestamp", "label", "last_move_down", "part")]
    rng = np.random.default_rng(1)

    test_poisoned = table.copy()
    after = np.arange(parts["validation"][-1] + 1, len(table))
    test_poisoned.loc[after, columns] = rng.normal(3, 10, (len(after), len(columns))).astype(np.float32)
    labelled = after[test_poisoned["label"].iloc[after].notna().to_numpy()]
    test_poisoned.loc[labelled, "label"] = (1 - test_poisoned.loc[labelled, "label"]).astype("Int8")
    test_poisoned.loc[after, "last_move_down"] = ~test_poisoned.loc[after, "last_move_down"]

    train_poisoned = table.copy()
    row = parts["train"][len(parts["train"]) // 2]
    train_poisoned.loc[row, columns] += np.float32(4)
    train_poisoned.loc[row, "label"] = 1 - train_poisoned.loc[row, "label"]

    projects = {}
    for name, frame in (("test", test_poisoned), ("train", train_poisoned)):
        projects[name] = scratch_copy(source, tmp_path_factory.mktemp(f"poisoned_{name}") / "project")
        frame.to_parquet(projects[name] / paths.sequences(currency), index=False)
        run_stage_in_process(projects[name], "train", currency)
    return {"original": source, **projects}


def model_files(project: Path) -> dict[str, bytes]:
    return {"model": (project / paths.model("ETH")).read_bytes(), **hash_tree(project / paths.seed_models("ETH"))}


def test_training_never_sees_the_test_part(poisoned_training):
    original = model_files(poisoned_training["original"])
    assert len(original) == TINY_MODEL["model.n_seeds"]
    assert model_files(poisoned_training["test"]) == original  # byte for byte, every seed
    changed = model_files(poisoned_training["train"])
    assert all(changed[name] != original[name] for name in original)  # so the check can fail


def baseline_fits(project: Path, monkeypatch) -> dict[str, np.ndarray]:
    """What evaluate fits on the training part, and its predictions for fixed probe inputs."""
    from whalecast import settings

    monkeypatch.chdir(project)
    samples = Samples.read(paths.sequences("ETH"))
    with threadpool_limits(limits=1, user_api="openmp"):  # no OpenMP spinning against TensorFlow's idle threads
        baselines = Baselines.fit(samples, settings.load(BaselineSettings, settings.read()))
    probe = np.random.default_rng(2).normal(0, 1.5, (500, samples.features.shape[1])).astype(np.float32)
    logistic = baselines.last_row_models["logistic_regression"]
    return {"base_rate": np.array([baselines.base_rate]), "logistic": np.r_[logistic.coef_.ravel(), logistic.intercept_],
            **{name: model.predict_proba(probe)[:, 1] for name, model in baselines.last_row_models.items()}}


def test_the_baselines_never_see_the_test_part(poisoned_training, monkeypatch):
    original = baseline_fits(poisoned_training["original"], monkeypatch)
    for name, values in baseline_fits(poisoned_training["test"], monkeypatch).items():
        np.testing.assert_array_equal(values, original[name], err_msg=name)
    changed = baseline_fits(poisoned_training["train"], monkeypatch)
    for name in ("logistic", "logistic_regression", "gradient_boosting"):
        assert not np.array_equal(changed[name], original[name]), name
