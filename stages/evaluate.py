"""Stage evaluate: the trained LSTMs and the baselines on the test part of one currency (whalecast.evaluation.holdout).

Writes
- metrics/{CUR}.json: base_rate, n_test, test_start, test_end; per model (lstm, majority_class, last_move_repeats,
  logistic_regression, gradient_boosting) the classification metrics and a 95% block-bootstrap interval of roc_auc;
  `comparison`: the LSTM against the baseline with the best validation AUC (difference, interval, p-value);
  `lstm_seeds`: the spread of the LSTM's AUC and log loss over model.n_seeds seeds; `importance`: the AUC drop when
  a feature group is shuffled, for the LSTM and gradient boosting;
- metrics/{CUR}_classification_report.txt and the LSTM's ROC, precision-recall, confusion-matrix and calibration
  plot data in metrics/evaluation/{CUR}/*.csv;
- data/predictions/{CUR}.parquet: every model's P(down) per test hour, with close(T) and close(T + 1h).
"""

from whalecast import paths, settings, stage, storage
from whalecast.evaluation import holdout, importance, predictions, scoring, uncertainty
from whalecast.modeling import lstm, sequences
from whalecast.modeling.baselines import BaselineSettings


def main(currency: str) -> None:
    params = settings.read()
    baselines, bootstrap = settings.load(BaselineSettings, params), settings.load(uncertainty.BootstrapSettings, params)
    shuffles = settings.load(importance.ImportanceSettings, params)
    samples = sequences.Samples.read(paths.sequences(currency))
    weights = uncertainty.resample_weights(len(samples.ends["test"]), bootstrap)
    shape = (samples.seq_len, samples.features.shape[1])
    model = lstm.load_model(paths.model(currency), *shape)
    others = [lstm.load_model(path, *shape) for path in sorted(paths.seed_models(currency).glob("*.keras"))]
    result = holdout.evaluate(samples, model, others, baselines, weights, shuffles)
    prices = storage.read_parquet(paths.prices(currency), columns=["timestamp", "close"])
    storage.write_parquet(predictions.table(result.times, prices, result.labels, result.probabilities),
                          paths.predictions(currency))
    for name, table in scoring.plot_tables(result.labels, result.probabilities["lstm"]).items():
        storage.write_text(table.to_csv(index=False, float_format="%.6g"), paths.evaluation_plot(currency, name))
    storage.write_text(scoring.report_text(result.labels, result.probabilities["lstm"], "LSTM"),
                       paths.classification_report(currency))
    storage.write_metrics(result.document, paths.metrics(currency))


if __name__ == "__main__":
    stage.run(main)
