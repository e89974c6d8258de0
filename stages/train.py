"""Stage train: the sequence table of one currency -> seeded, early-stopped Keras LSTMs.

The model reads windows of seq_len hourly rows, gathered lazily from data/sequences/{CUR}.parquet, and
outputs the probability that the price goes down over the next horizon. Early stopping watches the
validation loss and restores the best epoch. The model of `model.seed` is the headline model:
models/{CUR}/lstm_model_{CUR}.keras, byte-identical for identical inputs, with its per-epoch loss and AUC in
metrics/training/{CUR}/ (dvclive). The same model with the next `model.n_seeds - 1` seeds goes to
models/{CUR}/seeds/, so that evaluate can tell how much of a result is the luck of one seed.
"""

# whalecast before dvclive: it sets NumPy's environment, which NumPy reads once, when dvclive imports it.
from whalecast import lstm, params, paths, sequences, stage
from whalecast.errors import InputError

from dvclive import Live
from scmrepo.exceptions import SCMError


def training_log(currency: str) -> Live:
    """The per-epoch log. It is a plots output declared in dvc.yaml, so dvclive writes no dvc.yaml of its own."""
    try:
        return Live(str(paths.training_log(currency)), dvcyaml=None, save_dvc_exp=False, report=None)
    except SCMError as error:  # dvclive asks git for HEAD
        raise InputError(".", f"the git repository has no commit yet ({error}), and dvclive needs one for the "
                              "training log: commit the project first (git add -A && git commit)") from None


def main(currency: str) -> None:
    all_params = params.load()
    seq_len = sequences.check_seq_len(params.section(all_params, "seq_len"))
    settings = params.build(lstm.ModelSettings, params.section(all_params, "model"), "model")
    samples = sequences.Samples.read(currency, seq_len)

    model = lstm.train(samples, seq_len, settings, settings.seed, live=training_log(currency))
    lstm.save_model(model, paths.model(currency))
    seed_models = {seed: paths.seed_model(currency, seed) for seed in range(settings.seed + 1, settings.seed + settings.n_seeds)}
    for seed, path in seed_models.items():
        lstm.save_model(lstm.train(samples, seq_len, settings, seed, name=f"seed {seed}"), path)
    for stale in set(paths.seed_models(currency).glob("lstm_model_*.keras")) - set(seed_models.values()):
        stale.unlink()  # the model of a seed an earlier n_seeds had


if __name__ == "__main__":
    stage.run(main)
