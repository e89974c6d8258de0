"""The LSTM: windows built lazily from the row table, the model builder, seeded training, stable saving."""

import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Set before TensorFlow loads. oneDNN picks kernels by CPU model, so its float rounding changes from one
# machine type to the next; turned off, a clone on another machine type is more likely to get the same weights.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from dvclive import Live  # noqa: E402
from dvclive.keras import DVCLiveCallback  # noqa: E402

from whalecast import storage  # noqa: E402
from whalecast.errors import InputError  # noqa: E402
from whalecast.sequences import Samples  # noqa: E402

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


@dataclass(frozen=True)
class ModelSettings:
    """params.yaml model."""

    seed: int
    units: int
    dropout: float
    learning_rate: float
    epochs: int
    batch_size: int
    patience: int
    class_weight: str
    n_seeds: int  # trained on the main split: seed, seed + 1, ...; the first is the saved headline model

    def __post_init__(self):
        for name in ("units", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_seeds < 2:
            raise ValueError(f"n_seeds must be at least 2 (a spread across seeds needs two), got {self.n_seeds}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.patience < 0:
            raise ValueError(f"patience cannot be negative, got {self.patience}")
        if self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {self.class_weight!r}")


def make_deterministic(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def window_offsets(seq_len: int) -> np.ndarray:
    """Row offsets of a window from the row it ends at: -seq_len + 1, ..., 0."""
    return np.arange(-seq_len + 1, 1, dtype=np.int64)


def window_dataset(features: np.ndarray, labels: np.ndarray, ends: np.ndarray, seq_len: int,
                   batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Batches of (features[end - seq_len + 1 .. end], labels[end]) gathered on the fly from the rows.

    Memory holds the row table once, not one copy of every row per window that contains it.
    """
    rows = tf.constant(features, dtype=tf.float32)
    targets = tf.constant(labels, dtype=tf.float32)
    offsets = tf.constant(window_offsets(seq_len))
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


def train(samples: Samples, seq_len: int, settings: ModelSettings, seed: int, name: str = "lstm",
          live: Live | None = None) -> keras.Model:
    """A model fit on the training windows of `samples`, early-stopped on its validation windows.

    Training stops when the validation loss has not improved for `patience` epochs and keeps the best
    epoch's weights. The seed fixes the initial weights, dropout and the shuffle order.
    """
    keras.backend.clear_session()  # a fresh graph per model: earlier folds' and seeds' models are not kept
    make_deterministic(seed)
    train_windows = window_dataset(samples.features, samples.labels, samples.ends["train"], seq_len,
                                   settings.batch_size, shuffle_seed=seed)
    validation_windows = window_dataset(samples.features, samples.labels, samples.ends["validation"], seq_len,
                                        settings.batch_size)
    model = build_model(seq_len, samples.features.shape[1], settings)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=settings.patience, restore_best_weights=True),
        EpochLog(settings.epochs, name),
        *([DVCLiveCallback(live=live)] if live is not None else []),
    ]
    model.fit(train_windows, validation_data=validation_windows, epochs=settings.epochs,
              class_weight=class_weights(samples.labels_of("train"), settings.class_weight),
              callbacks=callbacks, shuffle=False, verbose=0)  # the dataset shuffles itself
    return model


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


def predict(model: keras.Model, samples: Samples, part: str, seq_len: int) -> np.ndarray:
    """P(down) for every window of a part, in time order."""
    windows = window_dataset(samples.features, samples.labels, samples.ends[part], seq_len, PREDICTION_BATCH)
    return model.predict(windows, verbose=0).ravel().astype(np.float64)


def windows_of(samples: Samples, part: str, seq_len: int) -> np.ndarray:
    """The windows of a part as one (windows, seq_len, features) array, e.g. to permute feature groups."""
    return samples.features[samples.ends[part][:, None] + window_offsets(seq_len)]


def predict_windows(model: keras.Model, windows: np.ndarray) -> np.ndarray:
    return model.predict(windows, batch_size=PREDICTION_BATCH, verbose=0).ravel().astype(np.float64)
