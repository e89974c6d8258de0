"""The report's static figures (PNG, matplotlib), so that a reader on a code-review page sees the curves
without running anything (`dvc plots show` renders HTML that fetches its plotting library from the internet).

Files are byte-stable: the same data give the same PNG (no software or date stamp in the metadata).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn import calibration, metrics  # noqa: E402

from whalecast import paths, storage  # noqa: E402
from whalecast.evaluation import predictions  # noqa: E402
from whalecast.evaluation.scoring import CALIBRATION_BINS  # noqa: E402

SIZE, DPI = (6.4, 4.2), 100
# One colour per model in every figure.
COLOURS = {"lstm": "tab:red", "majority_class": "tab:gray", "last_move_repeats": "tab:olive",
           "logistic_regression": "tab:blue", "gradient_boosting": "tab:green", "buy_and_hold": "black"}


def save(figure, path: Path) -> None:
    with storage.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(figure)


def roc(currency: str, labels: np.ndarray, probabilities: dict[str, np.ndarray], test: dict, path: Path) -> None:
    figure, axes = plt.subplots(figsize=SIZE)
    for model, probability_down in probabilities.items():
        fpr, tpr, _ = metrics.roc_curve(labels, probability_down)
        scores = test[model]
        interval = f"[{scores['roc_auc_ci_low']:.3f}, {scores['roc_auc_ci_high']:.3f}]"
        axes.plot(fpr, tpr, color=COLOURS.get(model), linewidth=1.2, label=f"{model}: {scores['roc_auc']:.3f} {interval}")
    axes.plot([0, 1], [0, 1], color="lightgray", linewidth=0.8, linestyle="--")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{currency}: ROC on the test part")
    axes.legend(title="ROC AUC [95% interval]", fontsize=8, title_fontsize=8, loc="lower right")
    save(figure, path)


def calibration_curves(currency: str, labels: np.ndarray, probabilities: dict[str, np.ndarray], path: Path) -> None:
    """Reliability diagram of the models that output probabilities (not the 0/1 rule, not the constant)."""
    figure, axes = plt.subplots(figsize=SIZE)
    for model, probability_down in probabilities.items():
        if len(np.unique(probability_down)) <= 2:
            continue
        fraction_down, mean_predicted = calibration.calibration_curve(labels, probability_down,
                                                                      n_bins=CALIBRATION_BINS, strategy="quantile")
        axes.plot(mean_predicted, fraction_down, marker="o", markersize=3, color=COLOURS.get(model), label=model)
    low, high = axes.get_xlim()
    axes.plot([low, high], [low, high], color="lightgray", linewidth=0.8, linestyle="--", label="perfectly calibrated")
    axes.set(xlabel="mean predicted P(down), per decile of predictions", ylabel="share of hours that went down",
             title=f"{currency}: calibration on the test part")
    axes.legend(fontsize=8)
    save(figure, path)


def equity(currency: str, curves: pd.DataFrame, fee_bps: float, path: Path) -> None:
    figure, axes = plt.subplots(figsize=SIZE)
    dates = pd.to_datetime(curves["timestamp"])
    for name in curves.columns.drop(["day", "timestamp"]):
        axes.plot(dates, curves[name], color=COLOURS.get(name), linewidth=1.2 if name == "lstm" else 0.9, label=name)
    axes.axhline(1.0, color="lightgray", linewidth=0.8)
    axes.set(ylabel="equity (start = 1)", title=f"{currency}: backtest after {fee_bps:g} bps per side, test part")
    axes.set_yscale("log")
    axes.legend(fontsize=8)
    figure.autofmt_xdate()
    save(figure, path)


def headline(results: dict[str, dict], walk_forward: dict[str, dict], path: Path) -> None:
    """Every model's test ROC AUC with its 95% interval and its walk-forward mean, one panel per currency.
    results and walk_forward: per currency, the metrics file and the walk-forward metrics file."""
    figure, panels = plt.subplots(1, len(results), figsize=(SIZE[0] * max(1, len(results)) / 1.6, SIZE[1]),
                                  sharex=True, sharey=True, squeeze=False)
    for axes, (currency, test) in zip(panels[0], results.items()):
        models = [name for name, value in test.items() if isinstance(value, dict) and "roc_auc" in value]
        for row, model in enumerate(models):
            scores, folds = test[model], walk_forward[currency][model]
            axes.errorbar(scores["roc_auc"], row, xerr=[[scores["roc_auc"] - scores["roc_auc_ci_low"]],
                                                        [scores["roc_auc_ci_high"] - scores["roc_auc"]]],
                          fmt="o", color=COLOURS.get(model), capsize=3, label="test part [95% interval]" if row == 0
                          else None)
            axes.plot(folds["roc_auc_mean"], row, marker="D", markerfacecolor="none", color=COLOURS.get(model),
                      linestyle="none", label="walk-forward mean" if row == 0 else None)
        axes.axvline(0.5, color="lightgray", linewidth=0.8, linestyle="--")
        axes.set_yticks(range(len(models)), models)
        axes.set(xlabel="ROC AUC (0.5: a coin)", title=currency)
    panels[0][0].invert_yaxis()  # once: the panels share the axis; the LSTM on top
    figure.legend(*panels[0][0].get_legend_handles_labels(), fontsize=8, loc="lower center", ncol=2, frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    save(figure, path)


def auc_per_fold(currency: str, per_fold: pd.DataFrame, path: Path) -> None:
    figure, axes = plt.subplots(figsize=SIZE)
    for model in per_fold.columns.drop(["fold", "test_start"]):
        axes.plot(per_fold["fold"], per_fold[model], marker="o", color=COLOURS.get(model), label=model)
    axes.axhline(0.5, color="lightgray", linewidth=0.8, linestyle="--")
    axes.set_xticks(per_fold["fold"], [f"{fold}\n{start[:10]}" for fold, start in zip(per_fold["fold"],
                                                                                        per_fold["test_start"])])
    axes.set(xlabel="fold (first test hour)", ylabel="test ROC AUC", title=f"{currency}: walk-forward ROC AUC per fold")
    axes.legend(fontsize=8)
    save(figure, path)


def draw_currency(currency: str, test: dict, fee_bps: float) -> None:
    """The four figures of one currency, from its predictions, metrics (`test`) and plot data."""
    frame, probabilities = predictions.read(paths.predictions(currency))
    labels = frame["label"].to_numpy()
    roc(currency, labels, probabilities, test, paths.figure(currency, "roc"))
    calibration_curves(currency, labels, probabilities, paths.figure(currency, "calibration"))
    equity(currency, pd.read_csv(paths.equity_plot(currency)), fee_bps, paths.figure(currency, "equity"))
    auc_per_fold(currency, pd.read_csv(paths.walk_forward_plot(currency)), paths.figure(currency, "auc_per_fold"))
