"""Every file location of the pipeline, relative to the repository root (where DVC runs stages).

dvc.yaml repeats these paths as stage deps and outs; tests/test_pipeline_layout.py keeps the two in step.
"""

from pathlib import Path

PARAMS = Path("params.yaml")

RAW = Path("data/raw")
INTERIM = Path("data/interim")
FEATURES = Path("data/features")


def raw_prices(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "prices" / f"{currency}.csv"


def raw_whales_json(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "whales" / f"{currency}.json"


def raw_whales_csv(currency: str, root: Path = RAW) -> Path:
    return Path(root) / "whales" / f"{currency}.csv"


def prices(currency: str) -> Path:
    return INTERIM / "prices" / f"{currency}.parquet"


def whales(currency: str) -> Path:
    return INTERIM / "whales" / f"{currency}.parquet"


def features(currency: str) -> Path:
    return FEATURES / f"{currency}.parquet"
