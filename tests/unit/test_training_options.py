"""The training options of lstm.train, checked by what they do to a tiny real Keras model (seconds each).

Early stopping watches the validation loss, stops `patience` epochs after its best epoch and returns that
epoch's weights; class_weight "balanced" weighs the training loss by n / (2 * class count) of the training
labels. The per-epoch losses are read where the pipeline keeps them: the dvclive log that `live` receives
(metrics/training/{CUR}/ in the pipeline).
"""

import numpy as np
import pandas as pd
import pytest
from dvclive import Live
from sklearn import metrics

from whalecast.modeling import lstm
from whalecast.modeling.sequences import Samples

SEQ_LEN = 3
# Window ends of a hand-made table of 457 rows: 300 training, 150 validation and 5 test windows, in time order.
ENDS = {"train": np.arange(2, 302), "validation": np.arange(302, 452), "test": np.arange(452, 457)}
ROWS = 457
TINY = dict(units=4, dropout=0.0, batch_size=32, n_seeds=2)  # no dropout: the training loss is that of the weights


def hand_made_samples(features: np.ndarray, labels: np.ndarray) -> Samples:
    return Samples(features=features.astype(np.float32), labels=labels.astype(np.float32),
                   last_move_down=np.zeros(ROWS, bool), ends=ENDS, columns=["a", "b"],
                   groups={"all": np.array([0, 1])},
                   timestamps=pd.Series(pd.date_range("2024-01-01", periods=ROWS, freq="h", tz="UTC")),
                   seq_len=SEQ_LEN)


def train_logged(samples, settings, log_dir):
    """lstm.train with a dvclive log, as the train stage calls it; the model and its per-epoch losses."""
    live = Live(str(log_dir), dvcyaml=None, save_dvc_exp=False, report=None)
    model = lstm.train(samples, settings, seed=1, live=live)
    losses = {part: pd.read_csv(log_dir / "plots" / "metrics" / part / "loss.tsv", sep="\t")["loss"].to_numpy()
              for part in ("train", "eval")}  # dvclive's names for Keras's loss and val_loss
    return model, losses


@pytest.fixture(scope="module")
def overfitting_run(tmp_path_factory):
    """Labels are the sign of feature 0, but 30% of the validation labels are flipped. As the model grows sure
    of the rule its training loss keeps falling, while the validation loss falls, bottoms out and rises again
    (a model sure of every hour pays for the flipped 30%)."""
    random = np.random.default_rng(0)
    features = random.normal(size=(ROWS, 2))
    labels = (features[:, 0] > 0).astype(float)
    flipped = ENDS["validation"][random.random(len(ENDS["validation"])) < 0.3]
    labels[flipped] = 1 - labels[flipped]
    samples = hand_made_samples(features, labels)
    settings = lstm.ModelSettings(seed=1, learning_rate=0.01, epochs=30, patience=3, class_weight="none", **TINY)
    model, losses = train_logged(samples, settings, tmp_path_factory.mktemp("overfit"))
    return samples, settings, model, losses


def test_training_stops_patience_epochs_after_the_best_validation_loss(overfitting_run):
    _, settings, _, losses = overfitting_run
    validation, training = losses["eval"], losses["train"]
    best = int(np.argmin(validation))
    # The scenario: the training loss still falls after the validation loss's best epoch (a watch on it would
    # not stop training there).
    assert best > 0 and np.all(np.diff(training) < 0)
    # The first epoch `patience` epochs past the best validation loss so far ends training.
    stop = next(epoch for epoch in range(len(validation))
                if epoch - int(np.argmin(validation[:epoch + 1])) >= settings.patience)
    assert len(validation) == stop + 1 < settings.epochs


def test_the_returned_weights_are_those_of_the_best_validation_epoch(overfitting_run):
    samples, _, model, losses = overfitting_run
    # The validation loss of the returned model, recomputed from its predictions: the best epoch's...
    recomputed = metrics.log_loss(samples.labels_of("validation"), lstm.predict(model, samples, "validation"))
    assert recomputed == pytest.approx(losses["eval"].min(), abs=1e-5)
    # ...not the last epoch's, which training went on to.
    assert recomputed < losses["eval"][-1] - 0.02


@pytest.fixture(scope="module")
def first_epoch_losses(tmp_path_factory):
    """Per class_weight setting: one epoch at a learning rate too small to move any weight, so the logged
    training loss is that of the returned model on the training windows (Keras: the mean of class weight x
    cross-entropy). Returns the logged loss, the training labels and each window's cross-entropy.

    20% of the training labels are down, 50% of the validation labels (weights computed from the validation
    or from all labels would differ); the features lean on the label, so the untrained model's loss differs
    between the classes and the weighting shows."""
    random = np.random.default_rng(1)
    labels = np.zeros(ROWS)
    labels[ENDS["train"]] = random.random(len(ENDS["train"])) < 0.2
    labels[ENDS["validation"]] = random.random(len(ENDS["validation"])) < 0.5
    samples = hand_made_samples(random.normal(size=(ROWS, 2)) + 3 * labels[:, None], labels)
    result = {}
    for setting in lstm.CLASS_WEIGHTS:
        settings = lstm.ModelSettings(seed=1, learning_rate=1e-10, epochs=1, patience=1, class_weight=setting, **TINY)
        model, losses = train_logged(samples, settings, tmp_path_factory.mktemp(setting))
        train_labels, p_down = samples.labels_of("train"), lstm.predict(model, samples, "train")
        cross_entropy = -(train_labels * np.log(p_down) + (1 - train_labels) * np.log(1 - p_down))
        result[setting] = losses["train"][0], train_labels, cross_entropy
    return result


def test_without_class_weights_the_training_loss_is_the_plain_mean(first_epoch_losses):
    logged, _, cross_entropy = first_epoch_losses["none"]
    assert logged == pytest.approx(cross_entropy.mean(), rel=1e-5)


def test_balanced_class_weights_weigh_the_training_loss_by_the_training_class_counts(first_epoch_losses):
    logged, labels, cross_entropy = first_epoch_losses["balanced"]
    weight = len(labels) / (2 * np.bincount(labels, minlength=2)[labels])  # scikit-learn's "balanced"
    assert logged == pytest.approx((weight * cross_entropy).mean(), rel=1e-5)
    # The weighting moves the loss by far more than that tolerance: an unweighted loss cannot pass.
    assert abs((weight * cross_entropy).mean() - cross_entropy.mean()) > 100 * 1e-5 * logged
