"""The LSTM: windows built lazily from the row table, the model builder, seeded training, stable saving."""

import io
import json
import logging
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live
from dvclive.keras import DVCLiveCallback
from scmrepo.exceptions import SCMError

from whalecast import storage
from whalecast.errors import InputError
from whalecast.modeling.sequences import Samples, window_offsets
from whalecast.settings import at_least, choice, positive, section, within

log = logging.getLogger(__name__)


class _RetracingNotice(logging.Filter):
    """Every fold and seed is a new model, whose predict function TensorFlow traces once per batch shape;
    after a few models TensorFlow calls that "excessive retracing". Expected here, so not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_RetracingNotice())

CLASS_WEIGHTS = ("none", "balanced")
PREDICTION_BATCH = 1024
# A .keras file is a zip archive of config.json, metadata.json and the weights. What changes from one
# save of the same model to the next: zip dates, the save time, and Python object ids in the config.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
UNSTABLE_METADATA = ("date_saved",)
SHARED_OBJECT_ID = "shared_object_id"


@section("model")
class ModelSettings:
    """params.yaml model."""

    seed: int
    units: int = at_least(1)
    dropout: float = within(0, 1, high_excluded=True)
    learning_rate: float = positive()
    epochs: int = at_least(1)
    batch_size: int = at_least(1)
    patience: int = at_least(0)
    class_weight: str = choice(*CLASS_WEIGHTS)
    # Trained on the main split: seed, seed + 1, ...; the first is the saved headline model. A spread needs two.
    n_seeds: int = at_least(2)


def make_deterministic(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def window_dataset(samples: Samples, part: str, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Batches of a part's windows (the rows end + window_offsets, gathered on the fly) and their labels.

    Memory holds the row table once, not one copy of every row per window that contains it.
    """
    rows = tf.constant(samples.features, dtype=tf.float32)
    targets = tf.constant(samples.labels, dtype=tf.float32)
    offsets = tf.constant(window_offsets(samples.seq_len))
    ends = samples.ends[part]
    dataset = tf.data.Dataset.from_tensor_slices(ends.astype(np.int64))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(ends), seed=shuffle_seed, reshuffle_each_iteration=True)

    def gather_windows(batch_ends):
        return tf.gather(rows, batch_ends[:, None] + offsets), tf.gather(targets, batch_ends)

    return dataset.batch(batch_size).map(gather_windows).prefetch(tf.data.AUTOTUNE)


def build_model(seq_len: int, n_features: int, settings: ModelSettings) -> keras.Model:
    inputs = keras.Input(shape=(seq_len, n_features), name="hourly_features")
    hidden = keras.layers.LSTM(settings.units, name="lstm")(inputs)
    hidden = keras.layers.Dropout(settings.dropout, name="dropout")(hidden)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability_down")(hidden)
    model = keras.Model(inputs, outputs, name="whalecast_lstm")
    # A fixed optimizer name: Keras would number a second Adam in one process "adam_1" in the saved file.
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, name="adam"), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")])
    return model


def class_weights(train_labels: np.ndarray, setting: str) -> dict[int, float] | None:
    """'balanced' weighs each class by n / (2 * its count), as scikit-learn does."""
    if setting == "none":
        return None
    counts = np.bincount(train_labels.astype(int), minlength=2)
    return {label: len(train_labels) / (2 * count) for label, count in enumerate(counts)}


class EpochLog(keras.callbacks.Callback):
    """One log line per epoch instead of Keras's per-batch progress bar."""

    def __init__(self, epochs: int, name: str):
        super().__init__()
        self.epochs, self.name = epochs, name

    def on_epoch_end(self, epoch, logs=None):
        values = " ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items())
        log.info("%s epoch %d/%d: %s", self.name, epoch + 1, self.epochs, values)


def train(samples: Samples, settings: ModelSettings, seed: int, name: str = "lstm",
          live: Live | None = None) -> keras.Model:
    """A model fit on the training windows of `samples`, early-stopped on its validation windows.

    Training stops when the validation loss has not improved for `patience` epochs and keeps the best
    epoch's weights. The seed fixes the initial weights, dropout and the shuffle order.
    """
    keras.backend.clear_session()  # a fresh graph per model: earlier folds' and seeds' models are not kept
    make_deterministic(seed)
    train_windows = window_dataset(samples, "train", settings.batch_size, shuffle_seed=seed)
    validation_windows = window_dataset(samples, "validation", settings.batch_size)
    model = build_model(samples.seq_len, samples.features.shape[1], settings)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True),
        EpochLog(settings.epochs, name),
        *([DVCLiveCallback(live=live)] if live is not None else []),
    ]
    model.fit(train_windows, validation_data=validation_windows, epochs=settings.epochs,
              class_weight=class_weights(samples.labels_of("train"), settings.class_weight),
              callbacks=callbacks, shuffle=False, verbose=0)  # the dataset shuffles itself
    return model


def training_log(path: Path) -> Live:
    """dvclive's per-epoch log in `path`. It is a plots output declared in dvc.yaml, so dvclive writes no dvc.yaml of
    its own."""
    try:
        return Live(str(path), dvcyaml=None, save_dvc_exp=False, report=None)
    except SCMError as error:  # dvclive asks git for HEAD
        raise InputError(".", f"the git repository has no commit yet ({error}), and dvclive needs one for the "
                              "training log: commit the project first (git add -A && git commit)") from None


def save_model(model: keras.Model, path: Path) -> None:
    """Save as .keras so that equal weights give equal bytes: fixed zip dates, no save time, and
    shared-object ids (memory addresses) renumbered in order of appearance."""
    with storage.atomic_path(path) as temporary:
        model.save(temporary)
        with zipfile.ZipFile(temporary) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        metadata = json.loads(entries["metadata.json"])
        entries["metadata.json"] = json.dumps({key: value for key, value in metadata.items()
                                               if key not in UNSTABLE_METADATA}).encode()
        config = _renumber_shared_objects(json.loads(entries["config.json"]), {})
        entries["config.json"] = json.dumps(config).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(entries):
                archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), entries[name], zipfile.ZIP_DEFLATED)
        temporary.write_bytes(buffer.getvalue())
    log.info("wrote %s", path)


def _renumber_shared_objects(node, numbers: dict[int, int]):
    if isinstance(node, dict):
        return {key: (numbers.setdefault(value, len(numbers) + 1) if key == SHARED_OBJECT_ID
                      else _renumber_shared_objects(value, numbers)) for key, value in node.items()}
    if isinstance(node, list):
        return [_renumber_shared_objects(item, numbers) for item in node]
    return node


def load_model(path: Path, seq_len: int, n_features: int) -> keras.Model:
    """The saved model, checked to read windows of seq_len rows of n_features."""
    if not Path(path).exists():
        raise InputError(path, "file not found (run the stage that makes it: dvc repro)")
    try:
        model = keras.saving.load_model(path)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise InputError(path, f"not a readable Keras model: {error}") from None
    if tuple(model.input_shape[1:]) != (seq_len, n_features):
        raise InputError(path, f"the model reads windows of {model.input_shape[1]} hours x {model.input_shape[2]} "
                               f"features, not seq_len={seq_len} x {n_features}: run train again (dvc repro)")
    return model


def predict(model: keras.Model, samples: Samples, part: str) -> np.ndarray:
    """P(down) for every window of a part, in time order."""
    windows = window_dataset(samples, part, PREDICTION_BATCH)
    return model.predict(windows, verbose=0).ravel().astype(np.float64)


def predict_windows(model: keras.Model, windows: np.ndarray) -> np.ndarray:
    return model.predict(windows, batch_size=PREDICTION_BATCH, verbose=0).ravel().astype(np.float64)
