"""Stage train: the sequence table of one currency -> a seeded, early-stopped Keras LSTM.

The model reads windows of seq_len hourly rows, gathered lazily from data/sequences/{CUR}.parquet, and
outputs the probability that the price goes down over the next horizon. Early stopping watches the
validation loss and restores the best epoch. Per-epoch loss and AUC go to metrics/training/{CUR}/
(dvclive); the model to models/{CUR}/lstm_model_{CUR}.keras, byte-identical for identical inputs.
"""

from dvclive import Live

from whalecast import lstm, params, paths, sequences, stage


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    settings = params.build(lstm.ModelSettings, params.section(all_params, "model"), "model")
    samples = sequences.Samples.read(currency, seq_len)

    lstm.make_deterministic(settings.seed)
    train_windows = lstm.window_dataset(samples.features, samples.labels, samples.ends["train"], seq_len,
                                        settings.batch_size, shuffle_seed=settings.seed)
    validation_windows = lstm.window_dataset(samples.features, samples.labels, samples.ends["validation"],
                                             seq_len, settings.batch_size)
    model = lstm.build_model(seq_len, samples.features.shape[1], settings)
    # The training log is a plots output declared in dvc.yaml, so dvclive writes no dvc.yaml of its own.
    live = Live(str(paths.training_log(currency)), dvcyaml=None, save_dvc_exp=False, report=None)
    class_weight = lstm.class_weights(samples.labels_of("train"), settings.class_weight)
    lstm.fit(model, train_windows, validation_windows, settings, class_weight, live)
    lstm.save_model(model, paths.model(currency))


if __name__ == "__main__":
    stage.run(main)
