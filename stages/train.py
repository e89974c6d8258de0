"""Stage train: the sequence table of one currency -> seeded, early-stopped Keras LSTMs.

The model reads windows of seq_len hourly rows, gathered lazily from data/sequences/{CUR}.parquet, and
outputs the probability that the price goes down over the next horizon. Early stopping watches the
validation loss and restores the best epoch. The model of `model.seed` is the headline model:
models/{CUR}/lstm_model_{CUR}.keras, byte-identical for identical inputs, with its per-epoch loss and AUC in
metrics/training/{CUR}/ (dvclive). The same model with the next `model.n_seeds - 1` seeds goes to
models/{CUR}/seeds/, so that evaluate can tell how much of a result is the luck of one seed.
"""

import shutil

from dvclive import Live

from whalecast import lstm, params, paths, sequences, stage


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    settings = params.build(lstm.ModelSettings, params.section(all_params, "model"), "model")
    samples = sequences.Samples.read(currency, seq_len)

    # The training log is a plots output declared in dvc.yaml, so dvclive writes no dvc.yaml of its own.
    live = Live(str(paths.training_log(currency)), dvcyaml=None, save_dvc_exp=False, report=None)
    model = lstm.train(samples, seq_len, settings, settings.seed, live=live)
    lstm.save_model(model, paths.model(currency))
    shutil.rmtree(paths.seed_models(currency), ignore_errors=True)  # no model of an earlier n_seeds stays
    paths.seed_models(currency).mkdir(parents=True)
    for seed in range(settings.seed + 1, settings.seed + settings.n_seeds):
        model = lstm.train(samples, seq_len, settings, seed, name=f"seed {seed}")
        lstm.save_model(model, paths.seed_model(currency, seed))


if __name__ == "__main__":
    stage.run(main)
