"""Stage walk_forward: the LSTM and every baseline re-fit and tested on k chronological folds of one currency.

Reads the unscaled feature table (each fold fits its own scaler), and the labels, model columns and window length of
the sequence table (so a feature group switched off stays off). Writes metrics/{CUR}_walk_forward.json: per model
the mean and standard deviation across folds of roc_auc, log_loss, brier, accuracy and balanced_accuracy, and per
fold its spans (UTC), sizes and metrics; and metrics/walk_forward/{CUR}_auc_per_fold.csv for the plot of AUC per
fold per model. How folds are cut: whalecast.evaluation.walk_forward.
"""

from whalecast import paths, settings, stage, storage
from whalecast.evaluation import walk_forward
from whalecast.modeling import lstm, scaling, sequences
from whalecast.modeling.baselines import BaselineSettings


def main(currency: str) -> None:
    params = settings.read()
    chosen = [settings.load(cls, params) for cls in (sequences.TargetSettings, walk_forward.WalkForwardSettings,
                                                     scaling.ScalingSettings, lstm.ModelSettings, BaselineSettings)]
    rows = sequences.Samples.read(paths.sequences(currency))
    features = storage.read_parquet(paths.features(currency), columns=["timestamp", *rows.columns])
    result = walk_forward.run(features, rows, *chosen, paths.features(currency), paths.sequences(currency))
    storage.write_text(result.per_fold.to_csv(index=False, float_format="%.6g"), paths.walk_forward_plot(currency))
    storage.write_metrics(result.document, paths.walk_forward_metrics(currency))


if __name__ == "__main__":
    stage.run(main)
