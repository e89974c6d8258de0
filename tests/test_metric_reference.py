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

import numpy as np
import pandas as pd
import pytest
from sklearn import calibration, metrics

from conftest import REPO, REPORTED_MODELS
from whalecast import evaluation, importance, storage
from whalecast.sequences import Samples

# One test part of 30 hours, 10 of them down. Ties within and across classes (0.35, 0.5, ...), four values
# exactly at the threshold (two of each class: ">=" and ">" give other counts), and precision != recall.
LABELS = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1])
P_LSTM = np.array([0.20, 0.65, 0.35, 0.50, 0.50, 0.10, 0.45, 0.60, 0.35, 0.25,
                   0.55, 0.30, 0.80, 0.35, 0.15, 0.60, 0.40, 0.20, 0.70, 0.45,
                   0.30, 0.05, 0.90, 0.50, 0.55, 0.25, 0.40, 0.75, 0.65, 0.50])
# P(down) >= 0.5 is "down" (evaluation.THRESHOLD, written out: the rule the classification report states).
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


@pytest.fixture(scope="module")
def written_document(scored_hours, tmp_path_factory):
    """metrics_document as the stage writes it (storage.write_metrics: floats rounded to 6 digits), read back."""
    probabilities, weights, times = scored_hours
    document = evaluation.metrics_document(LABELS, probabilities, weights, "last_move_repeats", times)
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
    spread = evaluation.seed_spread(LABELS, by_seed)
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
    text = evaluation.report_text(LABELS, P_LSTM, "LSTM")
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.split()[:1] in (["down"],
                                                                                                     ["up_or_flat"])}
    for label, name in CLASS_NAMES.items():
        expected = [metrics.precision_score(LABELS, PREDICTED, pos_label=label),
                    metrics.recall_score(LABELS, PREDICTED, pos_label=label),
                    metrics.f1_score(LABELS, PREDICTED, pos_label=label)]
        assert [float(value) for value in rows[name][:3]] == pytest.approx(expected, abs=5e-5), name
        assert int(rows[name][3]) == (LABELS == label).sum()


@pytest.fixture(scope="module")
def plots():
    return evaluation.plot_tables(LABELS, P_LSTM)


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
BASELINE_SETTINGS = evaluation.BaselineSettings(seed=0, logistic_regression_c=1.0, boosting_max_iter=20,
                                                boosting_learning_rate=0.1, boosting_max_leaf_nodes=7)
PARTS = {"train": np.arange(0, 180), "validation": np.arange(180, 240), "test": np.arange(240, 300)}
BASE_RATES = {"train": 0.25, "validation": 0.5, "test": 0.75}


def baseline_samples(**changes) -> Samples:
    """Rows whose labels have the part's base rate exactly and lean on feature 0; `changes` replace fields."""
    random = np.random.default_rng(0)
    labels = np.zeros(300, np.float32)
    for part, rows in PARTS.items():
        labels[random.choice(rows, int(len(rows) * BASE_RATES[part]), replace=False)] = 1
    features = np.stack([labels + random.normal(0, 0.8, 300), random.normal(0, 1, 300)], axis=1).astype(np.float32)
    fields = dict(features=features, labels=labels, last_move_down=random.random(300) < 0.5, ends=PARTS,
                  columns=["a", "b"], groups={"all": np.array([0, 1])},
                  timestamps=pd.Series(pd.date_range("2024-01-01", periods=300, freq="h", tz="UTC")))
    return Samples(**{**fields, **changes})


def test_the_majority_class_baseline_predicts_the_training_base_rate_everywhere():
    samples = baseline_samples()
    assert samples.labels_of("train").mean() == 0.25 != samples.labels_of("test").mean()
    baselines = evaluation.Baselines.fit(samples, BASELINE_SETTINGS)
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
    changed_later = evaluation.Baselines.fit(baseline_samples(labels=labels, features=features), BASELINE_SETTINGS)
    fitted = evaluation.Baselines.fit(samples, BASELINE_SETTINGS)
    for part in ("validation", "test"):
        for name, probability in fitted.probabilities(samples, part).items():
            np.testing.assert_array_equal(changed_later.probabilities(samples, part)[name], probability, err_msg=name)
    # ...while other training labels do change every fitted baseline: the check above is not vacuous.
    labels = samples.labels.copy()
    labels[:60] = 1 - labels[:60]
    changed_train = evaluation.Baselines.fit(baseline_samples(labels=labels), BASELINE_SETTINGS)
    for name in ("majority_class", "logistic_regression", "gradient_boosting"):
        assert not np.array_equal(changed_train.probabilities(samples, "test")[name],
                                  fitted.probabilities(samples, "test")[name]), name


def test_last_move_repeats_predicts_down_exactly_when_the_last_move_was_down():
    samples = baseline_samples()
    probability = evaluation.Baselines.fit(samples, BASELINE_SETTINGS).probabilities(samples, "test")
    np.testing.assert_array_equal(probability["last_move_repeats"], samples.last_move_down[PARTS["test"]].astype(float))


def test_the_best_baseline_is_the_best_on_the_validation_part_not_the_test_part():
    samples = baseline_samples()
    # The last move "knows" every validation label, and every test label backwards.
    last_move_down = samples.last_move_down.copy()
    last_move_down[PARTS["validation"]] = samples.labels[PARTS["validation"]] == 1
    last_move_down[PARTS["test"]] = samples.labels[PARTS["test"]] == 0
    samples = baseline_samples(last_move_down=last_move_down)
    baselines = evaluation.Baselines.fit(samples, BASELINE_SETTINGS)
    test_auc = {name: metrics.roc_auc_score(samples.labels_of("test"), p)
                for name, p in baselines.probabilities(samples, "test").items()}
    assert max(test_auc, key=test_auc.get) != "last_move_repeats"  # chosen on the test part, another would win
    assert evaluation.best_baseline(samples, baselines) == "last_move_repeats"
