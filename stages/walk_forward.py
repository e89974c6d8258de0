"""Stage walk_forward: the LSTM and every baseline re-fit and tested on k chronological folds of one currency.

Reads the unscaled feature table (each fold fits its own scaler), and the labels and model columns of the
sequence table (so a feature group switched off stays off). Writes metrics/{CUR}_walk_forward.json: per
model the mean and standard deviation across folds of roc_auc, log_loss, brier, accuracy and
balanced_accuracy, and per fold its spans (UTC), sizes and metrics; and metrics/walk_forward/{CUR}_auc_per_fold.csv
for the plot of AUC per fold per model. See whalecast.walk_forward for how folds are cut.
"""

# whalecast before pandas: it sets NumPy's environment, which NumPy reads once, when pandas imports it.
from whalecast import evaluation, lstm, params, paths, scaling, sequences, stage, storage, walk_forward
from whalecast.errors import InputError

import pandas as pd


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    target = params.build(sequences.TargetSettings, params.section(all_params, "target"), "target")
    settings = params.build(walk_forward.WalkForwardSettings, params.section(all_params, "walk_forward"),
                            "walk_forward")
    scaling_settings = params.build(scaling.ScalingSettings, params.section(all_params, "scaling"), "scaling")
    model_settings = params.build(lstm.ModelSettings, params.section(all_params, "model"), "model")
    baseline_settings = params.build(evaluation.BaselineSettings, params.section(all_params, "baselines"), "baselines")

    rows = sequences.Samples.read(currency, seq_len)
    features = storage.read_parquet(paths.features(currency), columns=["timestamp", *rows.columns])
    if not features["timestamp"].equals(rows.timestamps):
        raise InputError(paths.features(currency), "its rows are not those of the sequence table: run dvc repro")
    labels = pd.Series(rows.labels)
    labelled = sequences.usable_window_ends(rows.timestamps, labels, seq_len)
    folds = []
    for number, bounds in enumerate(walk_forward.fold_bounds(len(features), settings, seq_len), start=1):
        try:
            parts = sequences.split_by_rows(rows.timestamps, labelled, bounds, seq_len + target.horizon_hours)
        except ValueError as error:
            raise InputError(paths.PARAMS, f"walk_forward: fold {number}: {error}") from None
        sequences.check_both_classes(labels, parts, paths.sequences(currency), fold=f"fold {number} ")
        samples = walk_forward.fold_samples(features[rows.columns], rows, parts, seq_len, scaling_settings)
        model = lstm.train(samples, seq_len, model_settings, model_settings.seed, name=f"fold {number}")
        probabilities = {"lstm": lstm.predict(model, samples, "test", seq_len),
                         **evaluation.Baselines.fit(samples, baseline_settings).probabilities(samples, "test")}
        test_labels = samples.labels_of("test")
        scores = {name: {metric: value for metric, value in evaluation.classification_metrics(test_labels, p).items()
                         if metric in walk_forward.METRICS} for name, p in probabilities.items()}
        folds.append(walk_forward.fold_entry(number, rows.timestamps, parts, scores))

    summary = walk_forward.summary(folds)
    document = {**summary, **{f"fold_{n}": fold for n, fold in enumerate(folds, start=1)}}
    per_fold = pd.DataFrame([{"fold": n, "test_start": fold["test_start"], **{m: fold[m]["roc_auc"] for m in summary}}
                             for n, fold in enumerate(folds, start=1)])
    storage.write_text(per_fold.to_csv(index=False, float_format="%.6g"), paths.walk_forward_plot(currency))
    storage.write_metrics(document, paths.walk_forward_metrics(currency))


if __name__ == "__main__":
    stage.run(main)
