"""Stage evaluate: the trained LSTMs and the baselines on the test part of one currency.

Writes
- metrics/{CUR}.json: base_rate, n_test, test_start, test_end; per model (lstm, majority_class, last_move_repeats,
  logistic_regression, gradient_boosting) the classification metrics and a 95% block-bootstrap interval
  of roc_auc; `comparison`: the LSTM against the baseline with the best validation AUC (difference,
  interval, p-value);
  `lstm_seeds`: the spread of the LSTM's AUC and log loss over model.n_seeds seeds; `importance`: the AUC
  drop when a feature group is shuffled, for the LSTM and gradient boosting;
- metrics/{CUR}_classification_report.txt and the LSTM's ROC, precision-recall, confusion-matrix and
  calibration plot data in metrics/evaluation/{CUR}/*.csv;
- data/predictions/{CUR}.parquet: every model's P(down) per test hour, with close(T) and close(T + 1h).
"""

from whalecast import (evaluation, importance, lstm, params, paths, predictions, sequences, stage, storage,
                       uncertainty)
from whalecast.errors import InputError


def seed_models(currency: str, seq_len: int, n_features: int) -> list:
    """The models train wrote for the other seeds."""
    return [lstm.load_model(path, seq_len, n_features) for path in sorted(paths.seed_models(currency).glob("*.keras"))]


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    settings = params.build(evaluation.BaselineSettings, params.section(all_params, "baselines"), "baselines")
    bootstrap = params.build(uncertainty.BootstrapSettings, params.section(all_params, "bootstrap"), "bootstrap")
    shuffles = params.build(importance.ImportanceSettings, params.section(all_params, "importance"), "importance")
    samples = sequences.Samples.read(currency, seq_len)
    labels = samples.labels_of("test")
    try:
        weights = uncertainty.resample_weights(len(labels), bootstrap)
    except ValueError as error:
        raise InputError(paths.PARAMS, f"bootstrap: {error}") from None
    n_features = samples.features.shape[1]
    model = lstm.load_model(paths.model(currency), seq_len, n_features)
    baselines = evaluation.Baselines.fit(samples, settings)

    probabilities = {"lstm": lstm.predict(model, samples, "test", seq_len), **baselines.probabilities(samples, "test")}
    test_times = samples.timestamps.iloc[samples.ends["test"]].reset_index(drop=True)
    document = evaluation.metrics_document(labels, probabilities, weights,
                                           evaluation.best_baseline(samples, baselines), test_times)
    document["lstm_seeds"] = evaluation.seed_spread(labels, [probabilities["lstm"], *(
        lstm.predict(other, samples, "test", seq_len) for other in seed_models(currency, seq_len, n_features))])
    windows, last_rows = lstm.windows_of(samples, "test", seq_len), samples.features[samples.ends["test"]]
    boosting = baselines.last_row_models["gradient_boosting"]
    document["importance"] = {
        "lstm": importance.group_importance(lambda inputs: lstm.predict_windows(model, inputs), windows, labels,
                                            samples.groups, shuffles),
        "gradient_boosting": importance.group_importance(lambda inputs: boosting.predict_proba(inputs)[:, 1],
                                                         last_rows, labels, samples.groups, shuffles),
    }
    evaluation.log_headline(document, list(probabilities))

    prices = storage.read_parquet(paths.prices(currency), columns=["timestamp", "close"])
    storage.write_parquet(predictions.table(test_times, prices, labels, probabilities), paths.predictions(currency))
    for name, table in evaluation.plot_tables(labels, probabilities["lstm"]).items():
        storage.write_text(table.to_csv(index=False, float_format="%.6g"), paths.evaluation_plot(currency, name))
    storage.write_text(evaluation.report_text(labels, probabilities["lstm"], "LSTM"), paths.classification_report(currency))
    storage.write_metrics(document, paths.metrics(currency))


if __name__ == "__main__":
    stage.run(main)
