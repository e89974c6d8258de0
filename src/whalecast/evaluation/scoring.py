"""How good a model's P(down) is on a part of the hours: the classification metrics, the metrics document of the
test part with every AUC's interval and the LSTM's paired comparison with the best baseline, and the data of the
ROC, precision-recall, confusion-matrix and calibration plots.
"""

import logging

import numpy as np
import pandas as pd
from sklearn import calibration, metrics

from whalecast.evaluation import uncertainty
from whalecast.modeling.baselines import Baselines
from whalecast.modeling.sequences import Samples, utc_hour

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # a probability at or above it predicts "down"
CLASS_NAMES = ["up_or_flat", "down"]
CURVE_POINTS = 101  # thresholds at quantiles of the predictions: small files, readable `dvc plots diff`
CALIBRATION_BINS = 10


def classification_metrics(labels: np.ndarray, probability_down: np.ndarray) -> dict[str, float]:
    predicted = (probability_down >= THRESHOLD).astype(int)
    return {
        "accuracy": metrics.accuracy_score(labels, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(labels, predicted),
        "precision": metrics.precision_score(labels, predicted, zero_division=0),
        "recall": metrics.recall_score(labels, predicted, zero_division=0),
        "f1": metrics.f1_score(labels, predicted, zero_division=0),
        "roc_auc": metrics.roc_auc_score(labels, probability_down),
        "pr_auc": metrics.average_precision_score(labels, probability_down),
        "log_loss": metrics.log_loss(labels, probability_down, labels=[0, 1]),
        "brier": metrics.brier_score_loss(labels, probability_down),
    }


def best_baseline(samples: Samples, baselines: Baselines) -> str:
    """The baseline with the highest AUC on the validation part: chosen before the test part is looked at."""
    labels = samples.labels_of("validation")
    scores = {name: metrics.roc_auc_score(labels, p) for name, p in baselines.probabilities(samples, "validation").items()}
    return max(scores, key=scores.get)


def metrics_document(labels: np.ndarray, probabilities: dict[str, np.ndarray], weights: np.ndarray,
                     best: str, test_times: pd.Series) -> dict:
    """{base_rate, n_test, test_start, test_end, model: {metric: value}, comparison}, each AUC with its
    block-bootstrap interval. `comparison` sets the LSTM against the baseline `best` (weights: the resamples).
    """
    document = {"base_rate": float(labels.mean()), "n_test": int(len(labels)),
                "test_start": utc_hour(test_times.iloc[0]), "test_end": utc_hour(test_times.iloc[-1])}
    resampled = {model: uncertainty.resampled_auc(labels, p, weights) for model, p in probabilities.items()}
    for model, probability_down in probabilities.items():
        low, high = uncertainty.interval(resampled[model], "roc_auc")
        document[model] = {**classification_metrics(labels, probability_down),
                           "roc_auc_ci_low": low, "roc_auc_ci_high": high}
    document["comparison"] = {"best_baseline": best, **uncertainty.compare(
        document["lstm"]["roc_auc"] - document[best]["roc_auc"], resampled["lstm"] - resampled[best], "roc_auc")}
    return document


def seed_spread(labels: np.ndarray, probabilities_by_seed: list[np.ndarray]) -> dict:
    """Mean and standard deviation (ddof 1) of the test AUC and log loss of the LSTM over its seeds."""
    auc = [metrics.roc_auc_score(labels, p) for p in probabilities_by_seed]
    loss = [metrics.log_loss(labels, p, labels=[0, 1]) for p in probabilities_by_seed]
    return {"n_seeds": len(auc), "roc_auc_mean": float(np.mean(auc)), "roc_auc_std": float(np.std(auc, ddof=1)),
            "log_loss_mean": float(np.mean(loss)), "log_loss_std": float(np.std(loss, ddof=1))}


def log_headline(document: dict, models: list[str]) -> None:
    log.info("test part: %d hours, base rate (down) %.4f", document["n_test"], document["base_rate"])
    for model in models:
        scores = document[model]
        log.info("%-19s roc_auc %.4f [%.4f, %.4f]  accuracy %.4f  log_loss %.4f  brier %.4f", model,
                 scores["roc_auc"], scores["roc_auc_ci_low"], scores["roc_auc_ci_high"], scores["accuracy"],
                 scores["log_loss"], scores["brier"])
    comparison = document["comparison"]
    log.info("lstm - %s in roc_auc: %+.4f [%+.4f, %+.4f], p = %.3f", comparison["best_baseline"],
             comparison["roc_auc_difference"], comparison["roc_auc_difference_ci_low"],
             comparison["roc_auc_difference_ci_high"], comparison["p_value"])


def report_text(labels: np.ndarray, probability_down: np.ndarray, model: str) -> str:
    predicted = (probability_down >= THRESHOLD).astype(int)
    report = metrics.classification_report(labels, predicted, target_names=CLASS_NAMES, digits=4, zero_division=0)
    return f"{model} on the test part, predicting down when P(down) >= {THRESHOLD}\n\n{report}"


def plot_tables(labels: np.ndarray, probability_down: np.ndarray) -> dict[str, pd.DataFrame]:
    """Data of the ROC, precision-recall, confusion-matrix and calibration plots, one table each."""
    # Thresholds are predictions themselves: an interpolated quantile can land an ulp above a prediction and
    # skip its point. With at most CURVE_POINTS distinct predictions the table is the whole curve.
    thresholds = np.unique(probability_down)
    if len(thresholds) > CURVE_POINTS:
        thresholds = np.unique(np.quantile(probability_down, np.linspace(0, 1, CURVE_POINTS), method="nearest"))
    thresholds = thresholds[::-1]
    flagged = probability_down[None, :] >= thresholds[:, None]
    true_positives = (flagged & (labels == 1)).sum(axis=1)
    false_positives = (flagged & (labels == 0)).sum(axis=1)
    positives, negatives = (labels == 1).sum(), (labels == 0).sum()
    roc = pd.DataFrame({"threshold": thresholds, "fpr": false_positives / negatives,
                        "tpr": true_positives / positives})
    start = pd.DataFrame({"threshold": [np.inf], "fpr": [0.0], "tpr": [0.0]})
    precision_recall = pd.DataFrame({"threshold": thresholds, "recall": true_positives / positives,
                                     "precision": true_positives / (true_positives + false_positives)})
    fraction_down, mean_predicted = calibration.calibration_curve(labels, probability_down,
                                                                  n_bins=CALIBRATION_BINS, strategy="quantile")
    names = np.array(CLASS_NAMES)
    return {
        "roc": pd.concat([start, roc], ignore_index=True),
        "precision_recall": precision_recall,
        "confusion_matrix": pd.DataFrame({"actual": names[labels],
                                          "predicted": names[(probability_down >= THRESHOLD).astype(int)]}),
        "calibration": pd.DataFrame({"mean_predicted": mean_predicted, "fraction_down": fraction_down}),
    }
