"""Every number evaluate writes, checked against scikit-learn on small hand-made arrays.

metrics/{CUR}.json (per model: the classification metrics and the AUC interval; the comparison with the best
baseline; the spread over seeds; the importance drops) and the plot data in metrics/evaluation/{CUR}/ (roc,
precision_recall, confusion_matrix, calibration) are built by whalecast.evaluation and whalecast.importance;
here those functions get fixed labels and probabilities (unbalanced, both classes, ties, values exactly at the
0.5 threshold) and every value, under the name the files use, is compared with scikit-learn's own. Then the
baselines: fit on the training part only, the majority class predicting the training base rate, and the best
baseline chosen on the validation part.
"""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import calibration, metrics
from sklearn.exceptions import UndefinedMetricWarning

from conftest import REPO, REPORTED_MODELS
from whalecast import storage
from whalecast.evaluation import importance, scoring
from whalecast.modeling.baselines import Baselines, BaselineSettings
from whalecast.modeling.sequences import Samples

# One test part of 30 hours, 10 of them down. Ties within and across classes (0.35, 0.5, ...), four values
# exactly at the threshold (two of each class: ">=" and ">" give other counts), and precision != recall.
LABELS = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1])
P_LSTM = np.array([0.20, 0.65, 0.35, 0.50, 0.50, 0.10, 0.45, 0.60, 0.35, 0.25,
                   0.55, 0.30, 0.80, 0.35, 0.15, 0.60, 0.40, 0.20, 0.70, 0.45,
                   0.30, 0.05, 0.90, 0.50, 0.55, 0.25, 0.40, 0.75, 0.65, 0.50])
# P(down) >= 0.5 is "down" (scoring.THRESHOLD, written out: the rule the classification report states).
PREDICTED = (P_LSTM >= 0.5).astype(int)
CLASS_NAMES = {0: "up_or_flat", 1: "down"}  # as the confusion-matrix file and the report name the classes
# The committed metrics file of the real pipeline: the names are an interface (report, dvc metrics diff).
COMMITTED = json.loads((REPO / "metrics" / "BTC.json").read_text())


def reference_metrics(labels, probability_down, weights):
    """The per-model entry of metrics/{CUR}.json, computed by scikit-learn."""
    predicted = (probability_down >= 0.5).astype(int)
    resampled = [metrics.roc_auc_score(labels, probability_down, sample_weight=w) for w in weights]
    return {
        "accuracy": metrics.accuracy_score(labels, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(labels, predicted),
        "precision": metrics.precision_score(labels, predicted, zero_division=0),  # none predicted down: 0
        "recall": metrics.recall_score(labels, predicted, zero_division=0),
        "f1": metrics.f1_score(labels, predicted, zero_division=0),
        "roc_auc": metrics.roc_auc_score(labels, probability_down),
        "pr_auc": metrics.average_precision_score(labels, probability_down),
        "log_loss": metrics.log_loss(labels, probability_down),
        "brier": metrics.brier_score_loss(labels, probability_down),
        "roc_auc_ci_low": np.percentile(resampled, 2.5),
        "roc_auc_ci_high": np.percentile(resampled, 97.5),
    }


@pytest.fixture(scope="module")
def scored_hours():
    """Probabilities of every reported model for the 30 hours, and 200 resamples (counts per hour)."""
    random = np.random.default_rng(0)
    probabilities = {
        "lstm": P_LSTM,
        "majority_class": np.full(30, 0.3),
        "last_move_repeats": (random.random(30) < 0.3 + 0.3 * LABELS).astype(float),
        "logistic_regression": np.round(np.clip(0.35 + 0.2 * LABELS + random.normal(0, 0.15, 30), 0.02, 0.98), 2),
        "gradient_boosting": np.round(np.clip(0.4 + 0.1 * LABELS + random.normal(0, 0.2, 30), 0.02, 0.98), 2),
    }
    weights = random.multinomial(30, np.full(30, 1 / 30), size=200).astype(np.int32)
    times = pd.Series(pd.date_range("2024-07-20 19:00", periods=30, freq="h", tz="UTC"))
    return probabilities, weights, times


@pytest.fixture  # per test: mutmut runs, for a mutant, only the tests whose own run reached it
def written_document(scored_hours, tmp_path_factory):
    """metrics_document as the stage writes it (storage.write_metrics: floats rounded to 6 digits), read back."""
    probabilities, weights, times = scored_hours
    document = scoring.metrics_document(LABELS, probabilities, weights, "last_move_repeats", times)
    path = tmp_path_factory.mktemp("metrics") / "BTC.json"
    storage.write_metrics(document, path)
    return json.loads(path.read_text())


def test_each_models_metrics_are_scikit_learns_under_the_names_of_the_metrics_file(scored_hours, written_document):
    probabilities, weights, _ = scored_hours
    # The LSTM's precision and recall differ, and so do its precision at ">= 0.5" and "> 0.5": a swap of the
    # two or another threshold rule changes a number.
    lstm = reference_metrics(LABELS, P_LSTM, weights)
    assert lstm["precision"] != lstm["recall"]
    assert lstm["precision"] != metrics.precision_score(LABELS, P_LSTM > 0.5)
    for model in REPORTED_MODELS:
        expected = reference_metrics(LABELS, probabilities[model], weights)
        # The same names, in the same order, as the committed file of the real pipeline.
        assert list(written_document[model]) == list(COMMITTED[model]) == list(expected)
        for name, value in expected.items():
            assert written_document[model][name] == pytest.approx(value, abs=1e-6), (model, name)


def test_the_headline_fields_describe_the_test_part(written_document):
    assert list(written_document)[:4] == list(COMMITTED)[:4] == ["base_rate", "n_test", "test_start", "test_end"]
    assert written_document["base_rate"] == pytest.approx(10 / 30, abs=1e-6)  # the test part's own, as labelled
    assert written_document["n_test"] == 30
    # The decision times of the first and last test hour, UTC.
    assert (written_document["test_start"], written_document["test_end"]) == ("2024-07-20T19:00Z", "2024-07-22T00:00Z")


def test_the_comparison_is_the_lstm_minus_the_given_best_baseline_on_the_same_resamples(scored_hours, written_document):
    probabilities, weights, _ = scored_hours
    best = probabilities["last_move_repeats"]
    observed = metrics.roc_auc_score(LABELS, P_LSTM) - metrics.roc_auc_score(LABELS, best)
    paired = np.array([metrics.roc_auc_score(LABELS, P_LSTM, sample_weight=w)
                       - metrics.roc_auc_score(LABELS, best, sample_weight=w) for w in weights])
    # Hall and Wilson: the share of resamples at least as far from the observed difference as it is from 0.
    # (No resample lies within 0.006 of that boundary here, so float noise cannot flip a count.)
    p_value = (1 + np.sum(np.abs(paired - observed) >= abs(observed))) / (1 + len(paired))
    comparison = written_document["comparison"]
    assert list(comparison) == list(COMMITTED["comparison"])
    assert comparison["best_baseline"] == "last_move_repeats"
    assert comparison["roc_auc_difference"] == pytest.approx(observed, abs=1e-6)
    assert comparison["roc_auc_difference_ci_low"] == pytest.approx(np.percentile(paired, 2.5), abs=1e-6)
    assert comparison["roc_auc_difference_ci_high"] == pytest.approx(np.percentile(paired, 97.5), abs=1e-6)
    assert comparison["p_value"] == pytest.approx(p_value, abs=1e-6)


def test_the_seed_spread_is_the_mean_and_sample_std_of_scikit_learns_auc_and_log_loss(scored_hours):
    probabilities, _, _ = scored_hours
    by_seed = [P_LSTM, probabilities["logistic_regression"], probabilities["gradient_boosting"]]
    auc = [metrics.roc_auc_score(LABELS, p) for p in by_seed]
    loss = [metrics.log_loss(LABELS, p) for p in by_seed]
    spread = scoring.seed_spread(LABELS, by_seed)
    assert list(spread) == list(COMMITTED["lstm_seeds"])
    assert spread == pytest.approx({"n_seeds": 3, "roc_auc_mean": np.mean(auc), "roc_auc_std": np.std(auc, ddof=1),
                                    "log_loss_mean": np.mean(loss), "log_loss_std": np.std(loss, ddof=1)}, abs=1e-12)


def test_importance_is_the_unshuffled_auc_minus_each_shuffled_auc():
    """Whatever the shuffles are: the drops are recomputed by scikit-learn from the inputs the model was given."""
    inputs = np.stack([P_LSTM, np.linspace(0, 1, 30)], axis=1)

    def model(x):
        return x[:, 0] + 0.1 * x[:, 1]

    given = []  # the unshuffled inputs, then one shuffled copy per repeat

    def recording_model(x):
        given.append(x.copy())
        return model(x)

    result = importance.group_importance(recording_model, inputs, LABELS, {"used": np.array([0])},
                                         importance.ImportanceSettings(seed=2, repeats=4))
    assert len(given) == 5 and np.array_equal(given[0], inputs)
    drops = [metrics.roc_auc_score(LABELS, model(inputs)) - metrics.roc_auc_score(LABELS, model(x)) for x in given[1:]]
    assert list(result["used"]) == list(COMMITTED["importance"]["lstm"]["whales"])
    assert result["used"] == pytest.approx({"roc_auc_drop_mean": np.mean(drops),
                                            "roc_auc_drop_std": np.std(drops, ddof=1)}, abs=1e-12)
    assert np.mean(drops) > 0  # the model uses the group: shuffling it costs AUC, a positive drop


def test_the_classification_report_rows_are_scikit_learns_per_class_scores():
    text = scoring.report_text(LABELS, P_LSTM, "LSTM")
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split()[:1] in (["down"],
                                                                                                     ["up_or_flat"])}
    for label, name in CLASS_NAMES.items():
        expected = [metrics.precision_score(LABELS, PREDICTED, pos_label=label),
                    metrics.recall_score(LABELS, PREDICTED, pos_label=label),
                    metrics.f1_score(LABELS, PREDICTED, pos_label=label)]
        assert [float(value) for value in rows[name][:3]] == pytest.approx(expected, abs=5e-5), name
        assert int(rows[name][3]) == (LABELS == label).sum()


@pytest.fixture  # per test: mutmut runs, for a mutant, only the tests whose own run reached it
def plots():
    return scoring.plot_tables(LABELS, P_LSTM)


def point_at(threshold, curve_thresholds):
    """Index of scikit-learn's curve point for the rule P >= threshold: the lowest score at or above it."""
    at_or_above = np.flatnonzero(curve_thresholds >= threshold)
    return at_or_above[np.argmin(curve_thresholds[at_or_above])]


def test_the_roc_points_are_scikit_learns_under_fpr_and_tpr(plots):
    roc = plots["roc"]
    assert list(roc.columns) == ["threshold", "fpr", "tpr"]  # dvc.yaml draws x: fpr, y: tpr
    fpr, tpr, thresholds = metrics.roc_curve(LABELS, P_LSTM, drop_intermediate=False)
    assert not np.allclose(fpr, tpr)  # the data tell the two columns apart
    for row in roc.itertuples():
        index = point_at(row.threshold, thresholds)
        assert (row.fpr, row.tpr) == pytest.approx((fpr[index], tpr[index])), row
    # From (0, 0) to (1, 1), every point of scikit-learn's curve on it, so the area is the reported AUC.
    assert roc.iloc[0].tolist() == [np.inf, 0, 0] and roc.iloc[-1][["fpr", "tpr"]].tolist() == [1, 1]
    assert set(zip(roc["fpr"], roc["tpr"])) == set(zip(fpr, tpr))
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(metrics.roc_auc_score(LABELS, P_LSTM))


def test_the_precision_recall_points_are_scikit_learns(plots):
    curve = plots["precision_recall"]
    assert list(curve.columns) == ["threshold", "recall", "precision"]  # dvc.yaml draws x: recall, y: precision
    precision, recall, thresholds = metrics.precision_recall_curve(LABELS, P_LSTM)
    for row in curve.itertuples():
        index = point_at(row.threshold, thresholds)
        assert (row.recall, row.precision) == pytest.approx((recall[index], precision[index])), row
    # Every point of scikit-learn's curve is on it (but its last, (0, 1), which has no threshold).
    assert set(zip(curve["recall"], curve["precision"])) == set(zip(recall[:-1], precision[:-1]))


def test_the_confusion_matrix_file_has_one_row_per_hour_and_scikit_learns_cells(plots):
    table = plots["confusion_matrix"]
    assert list(table.columns) == ["actual", "predicted"]
    assert table["actual"].tolist() == [CLASS_NAMES[label] for label in LABELS]
    assert table["predicted"].tolist() == [CLASS_NAMES[label] for label in PREDICTED]
    true_negatives, false_positives, false_negatives, true_positives = metrics.confusion_matrix(
        LABELS, PREDICTED, labels=[0, 1]).ravel()
    cells = table.value_counts()
    assert cells["down", "down"] == true_positives
    assert cells["up_or_flat", "down"] == false_positives
    assert cells["down", "up_or_flat"] == false_negatives
    assert cells["up_or_flat", "up_or_flat"] == true_negatives


def test_the_calibration_bins_are_scikit_learns_ten_quantile_bins(plots):
    table = plots["calibration"]
    assert list(table.columns) == ["mean_predicted", "fraction_down"]  # dvc.yaml: x mean_predicted, y fraction_down
    fraction_down, mean_predicted = calibration.calibration_curve(LABELS, P_LSTM, n_bins=10, strategy="quantile")
    # The data tell the columns apart (miscalibrated), and quantile bins from uniform ones.
    assert not np.allclose(fraction_down, mean_predicted)
    assert len(calibration.calibration_curve(LABELS, P_LSTM, n_bins=10, strategy="uniform")[0]) != len(fraction_down)
    np.testing.assert_allclose(table["mean_predicted"], mean_predicted)
    np.testing.assert_allclose(table["fraction_down"], fraction_down)


# The baselines, on a hand-made sequence table: 300 rows, the parts with very different base rates.
PARTS = {"train": np.arange(0, 180), "validation": np.arange(180, 240), "test": np.arange(240, 300)}
BASE_RATES = {"train": 0.25, "validation": 0.5, "test": 0.75}


def baseline_settings(**changes) -> BaselineSettings:
    """Built when a test asks, not at import (see conftest.news_settings)."""
    return BaselineSettings(**{"seed": 0, "logistic_regression_c": 1.0, "boosting_max_iter": 20,
                                          "boosting_learning_rate": 0.1, "boosting_max_leaf_nodes": 7, **changes})


def baseline_samples(**changes) -> Samples:
    """Rows whose labels have the part's base rate exactly and lean on feature 0; `changes` replace fields."""
    random = np.random.default_rng(0)
    labels = np.zeros(300, np.float32)
    for part, rows in PARTS.items():
        labels[random.choice(rows, int(len(rows) * BASE_RATES[part]), replace=False)] = 1
    features = np.stack([labels + random.normal(0, 0.8, 300), random.normal(0, 1, 300)], axis=1).astype(np.float32)
    fields = dict(features=features, labels=labels, last_move_down=random.random(300) < 0.5, ends=PARTS,
                  columns=["a", "b"], groups={"all": np.array([0, 1])},
                  timestamps=pd.Series(pd.date_range("2024-01-01", periods=300, freq="h", tz="UTC")), seq_len=1)
    return Samples(**{**fields, **changes})


def test_the_majority_class_baseline_predicts_the_training_base_rate_everywhere():
    samples = baseline_samples()
    assert samples.labels_of("train").mean() == 0.25 != samples.labels_of("test").mean()
    baselines = Baselines.fit(samples, baseline_settings())
    for part in PARTS:  # not the test part's 0.75 nor the validation part's 0.5
        np.testing.assert_array_equal(baselines.probabilities(samples, part)["majority_class"],
                                      np.full(len(PARTS[part]), 0.25))


def test_no_baseline_sees_the_validation_or_test_rows_when_fit():
    samples = baseline_samples()
    # Other labels and features in every row after the training part: a fit on training rows cannot tell.
    later = np.arange(180, 300)
    labels, features = samples.labels.copy(), samples.features.copy()
    labels[later] = 1 - labels[later]
    features[later] = np.random.default_rng(9).normal(0, 3, (len(later), 2))
    changed_later = Baselines.fit(baseline_samples(labels=labels, features=features), baseline_settings())
    fitted = Baselines.fit(samples, baseline_settings())
    for part in ("validation", "test"):
        for name, probability in fitted.probabilities(samples, part).items():
            np.testing.assert_array_equal(changed_later.probabilities(samples, part)[name], probability, err_msg=name)
    # ...while other training labels do change every fitted baseline: the check above is not vacuous.
    labels = samples.labels.copy()
    labels[:60] = 1 - labels[:60]
    changed_train = Baselines.fit(baseline_samples(labels=labels), baseline_settings())
    for name in ("majority_class", "logistic_regression", "gradient_boosting"):
        assert not np.array_equal(changed_train.probabilities(samples, "test")[name],
                                  fitted.probabilities(samples, "test")[name]), name


def test_last_move_repeats_predicts_down_exactly_when_the_last_move_was_down():
    samples = baseline_samples()
    probability = Baselines.fit(samples, baseline_settings()).probabilities(samples, "test")
    np.testing.assert_array_equal(probability["last_move_repeats"], samples.last_move_down[PARTS["test"]].astype(float))


def test_the_best_baseline_is_the_best_on_the_validation_part_not_the_test_part():
    samples = baseline_samples()
    # The last move "knows" every validation label, and every test label backwards.
    last_move_down = samples.last_move_down.copy()
    last_move_down[PARTS["validation"]] = samples.labels[PARTS["validation"]] == 1
    last_move_down[PARTS["test"]] = samples.labels[PARTS["test"]] == 0
    samples = baseline_samples(last_move_down=last_move_down)
    baselines = Baselines.fit(samples, baseline_settings())
    test_auc = {name: metrics.roc_auc_score(samples.labels_of("test"), p)
                for name, p in baselines.probabilities(samples, "test").items()}
    assert max(test_auc, key=test_auc.get) != "last_move_repeats"  # chosen on the test part, another would win
    assert scoring.best_baseline(samples, baselines) == "last_move_repeats"


# --- edges, in-process (mutation testing counts only tests that call the package in this process) -----------

@pytest.mark.parametrize("changes", [
    {"logistic_regression_c": 1e-9}, {"boosting_learning_rate": 1e-9}, {"boosting_max_iter": 1},
    {"boosting_max_leaf_nodes": 2},
])
def test_baseline_settings_at_their_bounds_are_accepted(changes):
    settings = baseline_settings(**changes)
    assert {name: getattr(settings, name) for name in changes} == changes


@pytest.mark.parametrize("changes, message", [
    ({"logistic_regression_c": 0.0}, "logistic_regression_c must be positive, got 0"),
    ({"boosting_learning_rate": 0.0}, "boosting_learning_rate must be positive, got 0"),
    ({"boosting_learning_rate": -0.1}, "boosting_learning_rate must be positive, got -0.1"),
    ({"boosting_max_iter": 0}, "boosting_max_iter must be at least 1, got 0"),
    ({"boosting_max_leaf_nodes": 1}, "boosting_max_leaf_nodes must be at least 2, got 1"),
])
def test_baseline_settings_beyond_their_bounds_are_refused(changes, message):
    with pytest.raises(ValueError) as raised:
        baseline_settings(**changes)
    assert str(raised.value) == message


def test_the_baseline_settings_reach_the_scikit_learn_estimators():
    settings = BaselineSettings(seed=7, logistic_regression_c=0.25, boosting_max_iter=3,
                                           boosting_learning_rate=0.3, boosting_max_leaf_nodes=5)
    baselines = Baselines.fit(baseline_samples(), settings)
    assert list(baselines.last_row_models) == ["logistic_regression", "gradient_boosting"]
    logistic = baselines.last_row_models["logistic_regression"].get_params()
    assert (logistic["C"], logistic["max_iter"]) == (0.25, 1000)
    boosting = baselines.last_row_models["gradient_boosting"]
    assert {name: boosting.get_params()[name] for name in ("max_iter", "learning_rate", "max_leaf_nodes",
                                                           "early_stopping", "random_state")} == {
        "max_iter": 3, "learning_rate": 0.3, "max_leaf_nodes": 5, "early_stopping": False, "random_state": 7}
    assert boosting.n_iter_ == 3  # no early stopping: every iteration is run
    assert baselines.base_rate == 0.25 and isinstance(baselines.base_rate, float)


def test_the_baseline_probabilities_are_per_window_of_the_part():
    samples = baseline_samples()
    baselines = Baselines.fit(samples, baseline_settings())
    probabilities = baselines.probabilities(samples, "validation")
    assert list(probabilities) == REPORTED_MODELS[1:]
    rows = samples.features[PARTS["validation"]]
    for name in ("logistic_regression", "gradient_boosting"):  # P(down): the second column
        np.testing.assert_array_equal(probabilities[name], baselines.last_row_models[name].predict_proba(rows)[:, 1])
    assert probabilities["last_move_repeats"].dtype == float and len(probabilities["majority_class"]) == 60


@pytest.mark.filterwarnings("ignore")  # scikit-learn warns that AUC is undefined for one class
def test_with_no_window_predicted_down_precision_recall_and_f1_are_zero_not_undefined():
    # Nothing at or above 0.5: no predicted positive (precision 0/0); only "up" hours (recall 0/0).
    scores = scoring.classification_metrics(np.array([0, 0, 0, 0]), np.array([0.1, 0.4, 0.3, 0.2]))
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)
    assert (scores["accuracy"], scores["balanced_accuracy"]) == (1.0, 1.0)
    # Both classes, still nothing predicted down: the down hours are all missed.
    scores = scoring.classification_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.4, 0.3, 0.2]))
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)
    assert scores["roc_auc"] == 0.75 and scores["accuracy"] == 0.5


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")  # balanced accuracy's, also expected
def test_a_test_part_of_one_class_has_no_auc_but_a_log_loss_over_both_classes():
    labels, probability = np.array([0, 0, 0, 0]), np.array([0.1, 0.6, 0.3, 0.5])
    # scikit-learn says AUC and average precision are undefined
    with (pytest.warns(UndefinedMetricWarning, match="ROC AUC score is not defined"),
          pytest.warns(UserWarning, match="No positive class found in y_true, recall is set to one")):
        scores = scoring.classification_metrics(labels, probability)
    assert list(scores) == ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
                            "log_loss", "brier"]
    assert math.isnan(scores["roc_auc"])
    assert (scores["accuracy"], scores["precision"], scores["recall"], scores["f1"]) == (0.5, 0.0, 0.0, 0.0)
    assert scores["log_loss"] == pytest.approx(-np.mean(np.log(1 - probability)), abs=1e-12)
    assert scores["brier"] == pytest.approx(np.mean(probability ** 2), abs=1e-12)


def test_the_classification_report_is_scikit_learns_with_four_digits_and_zero_for_undefined():
    labels, probability = np.array([0, 1, 0, 0, 1]), np.array([0.2, 0.3, 0.4, 0.1, 0.45])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "down" is never predicted: its precision is 0 by choice, not a warning
        text = scoring.report_text(labels, probability, "LSTM")
    header = "LSTM on the test part, predicting down when P(down) >= 0.5\n\n"
    assert text == header + metrics.classification_report(labels, np.zeros(5, int), target_names=["up_or_flat", "down"],
                                                           digits=4, zero_division=0)
    assert down_row(text) == ["down", "0.0000", "0.0000", "0.0000", "2"]
    # A probability of exactly 0.5 is "down"
    assert down_row(scoring.report_text(np.array([0, 1]), np.array([0.2, 0.5]), "m")) == [
        "down", "1.0000", "1.0000", "1.0000", "1"]


def down_row(text):
    return next(line.split() for line in text.splitlines() if line.split()[:1] == ["down"])


def test_the_roc_table_starts_at_the_origin_and_has_one_row_per_quantile_threshold():
    random = np.random.default_rng(5)
    probability = random.random(400)
    labels = (random.random(400) < probability).astype(int)
    roc = scoring.plot_tables(labels, probability)["roc"]
    assert roc.index.tolist() == list(range(scoring.CURVE_POINTS + 1))  # 101 distinct quantiles, then (0, 0)
    assert roc.iloc[0].tolist() == [np.inf, 0.0, 0.0]
    assert roc["threshold"].iloc[1] == probability.max() and roc["threshold"].iloc[-1] == probability.min()
    assert roc.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]


def test_a_constant_prediction_gives_a_roc_table_of_two_points():
    roc = scoring.plot_tables(np.array([0, 1, 1, 0]), np.full(4, 0.4))["roc"]
    assert roc.to_numpy().tolist() == [[np.inf, 0.0, 0.0], [0.4, 1.0, 1.0]]


def test_with_101_distinct_predictions_the_roc_table_is_scikit_learns_whole_curve():
    random = np.random.default_rng(3)
    probability = np.round(random.permutation(np.arange(101)) / 100 * 0.98 + 0.01, 4)
    labels = (random.random(101) < 0.3 + 0.4 * probability).astype(int)
    roc = scoring.plot_tables(labels, probability)["roc"]
    fpr, tpr, _ = metrics.roc_curve(labels, probability, drop_intermediate=False)
    assert len(roc) == len(fpr)
    np.testing.assert_array_equal(roc["fpr"], fpr)
    np.testing.assert_array_equal(roc["tpr"], tpr)


def test_the_headline_log_lines_show_each_number_of_the_document(caplog):
    scores = {"roc_auc": 0.61234, "roc_auc_ci_low": 0.55, "roc_auc_ci_high": 0.675, "accuracy": 0.6, "log_loss": 0.68,
              "brier": 0.24}
    document = {"n_test": 30, "base_rate": 1 / 3, "lstm": scores,
                "majority_class": {**scores, "roc_auc": 0.5, "accuracy": 0.7, "brier": 0.2222},
                "comparison": {"best_baseline": "majority_class", "roc_auc_difference": 0.11234,
                               "roc_auc_difference_ci_low": -0.01, "roc_auc_difference_ci_high": 0.2,
                               "p_value": 0.0456}}
    with caplog.at_level("INFO", logger="whalecast"):
        scoring.log_headline(document, ["lstm", "majority_class"])
    assert [record.getMessage() for record in caplog.records] == [
        "test part: 30 hours, base rate (down) 0.3333",
        "lstm                roc_auc 0.6123 [0.5500, 0.6750]  accuracy 0.6000  log_loss 0.6800  brier 0.2400",
        "majority_class      roc_auc 0.5000 [0.5500, 0.6750]  accuracy 0.7000  log_loss 0.6800  brier 0.2222",
        "lstm - majority_class in roc_auc: +0.1123 [-0.0100, +0.2000], p = 0.046",
    ]


def test_undefined_precision_recall_and_f1_are_set_to_zero_without_a_warning():
    """The stages count Python warnings in their log: a 0/0 set to 0 on purpose must not add one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scoring.classification_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.4, 0.3, 0.2]))  # 0/0 precision
        scoring.classification_metrics(np.array([0, 0, 0]), np.array([0.1, 0.2, 0.3]))  # 0/0 recall and f1
    assert not [str(warning.message) for warning in caught if "zero_division" in str(warning.message)]
    assert "Only one class is present in y_true. ROC AUC score is not defined in that case." in [
        str(warning.message) for warning in caught]  # the warnings were recorded: the check above is not vacuous


def test_a_resample_of_one_class_is_left_out_of_the_auc_interval_and_said_so(caplog):
    labels = np.array([0, 1, 0, 1, 0, 1])
    probabilities = {"lstm": np.array([0.2, 0.7, 0.4, 0.6, 0.3, 0.8]), "majority_class": np.full(6, 0.5)}
    weights = np.array([[1, 1, 1, 1, 1, 1], [2, 0, 2, 0, 2, 0], [0, 2, 1, 1, 1, 1]], dtype=np.int32)  # 2nd: no down
    times = pd.Series(pd.date_range("2024-07-20 19:00", periods=6, freq="h", tz="UTC"))
    with caplog.at_level("INFO", logger="whalecast"):
        document = scoring.metrics_document(labels, probabilities, weights, "majority_class", times)
    assert (document["lstm"]["roc_auc_ci_low"], document["lstm"]["roc_auc_ci_high"]) == (1.0, 1.0)
    assert [record.getMessage() for record in caplog.records] == [
        "bootstrap: roc_auc is undefined on 1 of 3 resamples, left out of its interval",
        "bootstrap: roc_auc is undefined on 1 of 3 resamples, left out of its interval",
        "bootstrap: roc_auc difference is undefined on 1 of 3 resamples, left out of its interval",
    ]


@pytest.mark.filterwarnings("ignore")  # AUC is undefined for one class
def test_the_seed_spread_of_a_one_class_part_keeps_the_log_loss():
    spread = scoring.seed_spread(np.array([0, 0, 0]), [np.array([0.2, 0.3, 0.4]), np.array([0.1, 0.1, 0.6])])
    assert math.isnan(spread["roc_auc_mean"]) and spread["n_seeds"] == 2
    losses = [-np.mean(np.log([0.8, 0.7, 0.6])), -np.mean(np.log([0.9, 0.9, 0.4]))]
    assert spread["log_loss_mean"] == pytest.approx(np.mean(losses), rel=1e-12)
    assert spread["log_loss_std"] == pytest.approx(np.std(losses, ddof=1), rel=1e-9)
