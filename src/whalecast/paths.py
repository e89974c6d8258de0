"""Every file location of the pipeline, relative to the repository root (where DVC runs stages).

dvc.yaml repeats these paths as stage deps and outs; tests/test_pipeline_layout.py keeps the two in step.
"""

from pathlib import Path

PARAMS = Path("params.yaml")

RAW = Path("data/raw")
INTERIM = Path("data/interim")
FEATURES = Path("data/features")
SEQUENCES = Path("data/sequences")
PREDICTIONS = Path("data/predictions")
MODELS = Path("models")
METRICS = Path("metrics")
REPORTS = Path("reports")


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


def raw_events(source: str, root: Path = RAW) -> Path:
    """The files of an event source (params.yaml sources): one file or several, e.g. saved API pages."""
    return Path(root) / "events" / source


def prices(currency: str) -> Path:
    return INTERIM / "prices" / f"{currency}.parquet"


def whales(currency: str) -> Path:
    return INTERIM / "whales" / f"{currency}.parquet"


def events(currency: str) -> Path:
    """The items of every event source that concern the currency, with a `source` column."""
    return INTERIM / "events" / f"{currency}.parquet"


def features(currency: str) -> Path:
    return FEATURES / f"{currency}.parquet"


def sequences(currency: str) -> Path:
    return SEQUENCES / f"{currency}.parquet"


def scaler(currency: str) -> Path:
    return MODELS / currency / f"scaler_{currency}.json"


def model(currency: str) -> Path:
    return MODELS / currency / f"lstm_model_{currency}.keras"


def seed_models(currency: str) -> Path:
    """The LSTMs of the other seeds (model.n_seeds), for the seed spread; one file per seed."""
    return MODELS / currency / "seeds"


def seed_model(currency: str, seed: int) -> Path:
    return seed_models(currency) / f"lstm_model_{currency}_seed_{seed}.keras"


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


def predictions(currency: str) -> Path:
    """Every model's P(down) on the test part, with the prices to recompute any metric or backtest."""
    return PREDICTIONS / f"{currency}.parquet"


def walk_forward_metrics(currency: str) -> Path:
    return METRICS / f"{currency}_walk_forward.json"


# Plot data in these directories is drawn by dvc.yaml's top-level plots, one plot per file, one line per model.
WALK_FORWARD_PLOTS = METRICS / "walk_forward"
BACKTEST_PLOTS = METRICS / "backtest"


def walk_forward_plot(currency: str) -> Path:
    """ROC AUC of every model in every fold."""
    return WALK_FORWARD_PLOTS / f"{currency}_auc_per_fold.csv"


def backtest_metrics(currency: str) -> Path:
    return METRICS / f"{currency}_backtest.json"


def equity_plot(currency: str) -> Path:
    """Daily equity of every strategy and buy-and-hold over the test part."""
    return BACKTEST_PLOTS / f"{currency}_equity.csv"


def summary() -> Path:
    return REPORTS / "summary.md"


def headline_metrics() -> Path:
    """The dozen values per currency a review needs: `dvc metrics diff --targets reports/headline.json`."""
    return REPORTS / "headline.json"


def headline_figure() -> Path:
    """Every model's test ROC AUC with its interval and its walk-forward mean, per currency: the README's picture."""
    return FIGURES / "headline.png"


FIGURES = REPORTS / "figures"


def figure(currency: str, name: str) -> Path:
    return FIGURES / f"{currency}_{name}.png"
