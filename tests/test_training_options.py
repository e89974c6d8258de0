"""The training options of lstm.train, checked by what they do to a tiny real Keras model (seconds each).

Early stopping watches the validation loss, stops `patience` epochs after its best epoch and returns that
epoch's weights; class_weight "balanced" weighs the training loss by n / (2 * class count) of the training
labels. The per-epoch losses are read where the pipeline keeps them: the dvclive log that `live` writes
(metrics/training/{CUR}/ in the pipeline).
"""

import numpy as np
import pandas as pd
import pytest
from dvclive import Live
from sklearn import metrics

from whalecast import lstm
from whalecast.sequences import Samples

SEQ_LEN = 3
TINY = dict(units=4, dropout=0.0, batch_size=32, n_seeds=2)  # no dropout: the training loss is that of the weights


def hand_made_samples(train_labels, validation_labels, features) -> Samples:
    """Windows of SEQ_LEN rows: the training ends first, then the validation ends, then a few test ends."""
    n_train, n_validation = len(train_labels), len(validation_labels)
    n_rows = SEQ_LEN - 1 + n_train + n_validation + 5
    labels = np.zeros(n_rows, np.float32)
    ends = {"train": np.arange(SEQ_LEN - 1, SEQ_LEN - 1 + n_train)}
    ends["validation"] = np.arange(ends["train"][-1] + 1, ends["train"][-1] + 1 + n_validation)
    ends["test"] = np.arange(ends["validation"][-1] + 1, n_rows)
    labels[ends["train"]], labels[ends["validation"]] = train_labels, validation_labels
    return Samples(features=features(labels).astype(np.float32), labels=labels,
                   last_move_down=np.zeros(n_rows, bool), ends=ends, columns=["a", "b"],
                   groups={"all": np.array([0, 1])},
                   timestamps=pd.Series(pd.date_range("2024-01-01", periods=n_rows, freq="h", tz="UTC")))


def train_logged(samples, settings, log_dir):
    """lstm.train with a dvclive log as train writes it; returns the model and its per-epoch losses."""
    live = Live(str(log_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    model = lstm.train(samples, SEQ_LEN, settings, seed=1, live=live)
    losses = {part: pd.read_csv(log_dir / "plots" / "metrics" / part / "loss.tsv", sep="\t")["loss"].to_numpy()
              for part in ("train", "eval")}  # dvclive's names for Keras's loss and val_loss
    return model, losses


@pytest.fixture(scope="module")
def overfitting_run(tmp_path_factory):
    """Training labels are a sign of feature 0; 30% of the validation labels are flipped. As the model grows sure
    of the rule the training loss keeps falling, while the validation loss falls, bottoms out and rises
    (a model sure of every hour pays for the flipped 30%)."""
    random = np.random.default_rng(0)
    rows = SEQ_LEN - 1 + 300 + 150 + 5
    inputs = random.normal(size=(rows, 2))
    rule = (inputs[:, 0] > 0).astype(np.float32)
    samples = hand_made_samples(rule[SEQ_LEN - 1:SEQ_LEN - 1 + 300],
                                np.where(random.random(150) < 0.3, 1 - rule[SEQ_LEN - 1 + 300:-5], rule[SEQ_LEN - 1 + 300:-5]),
                                lambda labels: inputs)
    settings = lstm.ModelSettings(seed=1, learning_rate=0.01, epochs=30, patience=3, class_weight="none", **TINY)
    model, losses = train_logged(samples, settings, tmp_path_factory.mktemp("overfit"))
    return samples, settings, model, losses


def test_the_run_overfits_as_intended(overfitting_run):
    """A guard for the data: without it the early-stopping checks below could pass by accident."""
    _, _, _, losses = overfitting_run
    best = int(np.argmin(losses["eval"]))
    assert best > 0 and losses["eval"][-1] > losses["eval"][best] + 0.02  # went on past a best in mid-run
    assert losses["train"][-1] < losses["train"][best] - 0.05  # ...while the training loss kept falling


def test_training_stops_patience_epochs_after_the_best_validation_loss(overfitting_run):
    _, settings, _, losses = overfitting_run
    validation = losses["eval"]
    # The first epoch that is `patience` epochs past the best validation loss so far ends training.
    stop = next(epoch for epoch in range(len(validation))
                if epoch - int(np.argmin(validation[:epoch + 1])) >= settings.patience)
    assert len(validation) == stop + 1 < settings.epochs  # stopped early, where the validation loss says


def test_the_returned_weights_are_those_of_the_best_validation_epoch(overfitting_run):
    samples, _, model, losses = overfitting_run
    # The validation loss of the returned model, recomputed from its predictions: the best epoch's, not the last.
    recomputed = metrics.log_loss(samples.labels_of("validation"), lstm.predict(model, samples, "validation", SEQ_LEN))
    assert recomputed == pytest.approx(losses["eval"].min(), abs=1e-5)
    assert recomputed < losses["eval"][-1] - 0.02


@pytest.fixture(scope="module")
def first_epoch_losses(tmp_path_factory):
    """One epoch at a learning rate too small to move any weight, so the logged training loss is the loss of
    the returned model on the training windows: Keras's mean of class weight x cross-entropy.

    20% of the training labels are down, 50% of the validation labels (weights computed from the validation
    or from all labels would differ); the features lean on the label, so the untrained model's loss differs
    between the classes and the weighting shows."""
    random = np.random.default_rng(1)
    train_labels, validation_labels = random.random(300) < 0.2, random.random(100) < 0.5
    samples = hand_made_samples(train_labels, validation_labels,
                                lambda labels: random.normal(size=(len(labels), 2)) + 3 * labels[:, None])
    result = {}
    for setting in lstm.CLASS_WEIGHTS:
        settings = lstm.ModelSettings(seed=1, learning_rate=1e-10, epochs=1, patience=1, class_weight=setting, **TINY)
        model, losses = train_logged(samples, settings, tmp_path_factory.mktemp(setting))
        labels, p_down = samples.labels_of("train"), lstm.predict(model, samples, "train", SEQ_LEN)
        cross_entropy = -(labels * np.log(p_down) + (1 - labels) * np.log(1 - p_down))
        result[setting] = losses["train"][0], labels, cross_entropy
    return result


def test_without_class_weights_the_training_loss_is_the_plain_mean(first_epoch_losses):
    logged, _, cross_entropy = first_epoch_losses["none"]
    assert logged == pytest.approx(cross_entropy.mean(), rel=1e-5)


def test_balanced_class_weights_weigh_the_training_loss_by_the_training_class_counts(first_epoch_losses):
    logged, labels, cross_entropy = first_epoch_losses["balanced"]
    counts = np.bincount(labels, minlength=2)
    weight = len(labels) / (2 * counts[labels])  # scikit-learn's "balanced", from the training labels only
    assert logged == pytest.approx((weight * cross_entropy).mean(), rel=1e-5)
    assert abs((weight * cross_entropy).mean() - cross_entropy.mean()) > 100 * 1e-5 * logged  # the weights matter
