"""Stage evaluate: the trained LSTM and the baselines on the test part of one currency.

Writes metrics/{CUR}.json ({base_rate, n_test, model: {metric: value}} for lstm, majority_class,
last_move_repeats, logistic_regression, gradient_boosting), the LSTM's scikit-learn classification report
metrics/{CUR}_classification_report.txt, and its ROC, precision-recall, confusion-matrix and calibration
plot data in metrics/evaluation/{CUR}/*.csv for `dvc plots show` / `dvc plots diff`.
"""

import json

from whalecast import evaluation, lstm, params, paths, sequences, stage, storage

PREDICTION_BATCH = 1024


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    settings = params.build(evaluation.BaselineSettings, params.section(all_params, "baselines"), "baselines")
    samples = sequences.Samples.read(currency, seq_len)
    model = lstm.load_model(paths.model(currency), seq_len, samples.features.shape[1])

    test_windows = lstm.window_dataset(samples.features, samples.labels, samples.ends["test"], seq_len,
                                       PREDICTION_BATCH)
    probabilities = {"lstm": lstm.predict(model, test_windows),
                     **evaluation.baseline_probabilities(samples, settings)}
    labels = samples.labels_of("test")
    document = evaluation.metrics_document(labels, probabilities)
    evaluation.log_headline(document, list(probabilities))

    for name, table in evaluation.plot_tables(labels, probabilities["lstm"]).items():
        storage.write_text(table.to_csv(index=False, float_format="%.6g"), paths.evaluation_plot(currency, name))
    storage.write_text(evaluation.report_text(labels, probabilities["lstm"], "LSTM"), paths.classification_report(currency))
    storage.write_text(json.dumps(document, indent=2) + "\n", paths.metrics(currency))


if __name__ == "__main__":
    stage.run(main)
