"""Stage train: the sequence table of one currency -> seeded, early-stopped Keras LSTMs.

The model reads windows of seq_len hourly rows (the length the sequence table records), gathered lazily from
data/sequences/{CUR}.parquet, and outputs the probability that the price goes down over the next horizon. Early
stopping watches the validation loss and restores the best epoch. The model of `model.seed` is the headline model:
models/{CUR}/lstm_model_{CUR}.keras, byte-identical for identical inputs, with its per-epoch loss and AUC in
metrics/training/{CUR}/ (dvclive). The same model with the next `model.n_seeds - 1` seeds goes to
models/{CUR}/seeds/, so that evaluate can tell how much of a result is the luck of one seed.
"""

from whalecast import paths, settings, stage
from whalecast.modeling import lstm, sequences


def main(currency: str) -> None:
    model = settings.load(lstm.ModelSettings, settings.read())
    samples = sequences.Samples.read(paths.sequences(currency))
    headline = lstm.train(samples, model, model.seed, live=lstm.training_log(paths.training_log(currency)))
    lstm.save_model(headline, paths.model(currency))
    seed_models = {seed: paths.seed_model(currency, seed) for seed in range(model.seed + 1, model.seed + model.n_seeds)}
    for seed, path in seed_models.items():
        lstm.save_model(lstm.train(samples, model, seed, name=f"seed {seed}"), path)
    for stale in set(paths.seed_models(currency).glob("lstm_model_*.keras")) - set(seed_models.values()):
        stale.unlink()  # the model of a seed an earlier n_seeds had


if __name__ == "__main__":
    stage.run(main)
