"""Every file location of the pipeline, relative to the repository root (where DVC runs stages).

dvc.yaml repeats these paths as stage deps and outs; tests/test_pipeline_layout.py keeps the two in step.
"""

from pathlib import Path

PARAMS = Path("params.yaml")

RAW = Path("data/raw")
INTERIM = Path("data/interim")
FEATURES = Path("data/features")
SEQUENCES = Path("data/sequences")
MODELS = Path("models")
METRICS = Path("metrics")


def raw_prices(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "prices" / f"{currency}.csv"


def raw_prices_dir(currency: str, root: Path = RAW) -> Path:
    """A directory of price files, e.g. one per month."""
    return Path(root) / "prices" / currency


def raw_whales_json(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "whales" / f"{currency}.json"


def raw_whales_csv(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "whales" / f"{currency}.csv"


def raw_whales_pages(currency: str, root: Path = RAW) -> Path:
    """A directory of saved Whale Alert responses, one per cursor page."""
    return Path(root) / "whales" / currency


def prices(currency: str) -> Path:
    return INTERIM / "prices" / f"{currency}.parquet"


def whales(currency: str) -> Path:
    return INTERIM / "whales" / f"{currency}.parquet"


def features(currency: str) -> Path:
    return FEATURES / f"{currency}.parquet"


def sequences(currency: str) -> Path:
    return SEQUENCES / f"{currency}.parquet"


def scaler(currency: str) -> Path:
    return MODELS / currency / f"scaler_{currency}.json"


def model(currency: str) -> Path:
    return MODELS / currency / f"lstm_model_{currency}.keras"


def training_log(currency: str) -> Path:
    """dvclive directory of the per-epoch training curves."""
    return METRICS / "training" / currency


def metrics(currency: str) -> Path:
    return METRICS / f"{currency}.json"


def classification_report(currency: str) -> Path:
    return METRICS / f"{currency}_classification_report.txt"


def evaluation_plot(currency: str, name: str) -> Path:
    """Data of one test-part plot: roc, precision_recall, confusion_matrix or calibration."""
    return METRICS / "evaluation" / currency / f"{name}.csv"
