"""Shared test helpers: the project's own sample-market generator, and stage runs in a scratch project."""

import io
import json
import logging
import os
import runpy
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from whalecast import paths, settings
from whalecast.data import event_sources, news_items, price_bars, sample_market, whale_transfers

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Model settings small enough for a test to train in seconds (edit_params keys).
TINY_MODEL = {"seq_len": 12, "model.units": 4, "model.epochs": 2, "model.batch_size": 64, "model.patience": 1,
              "model.n_seeds": 2, "baselines.boosting_max_iter": 20, "importance.repeats": 2, "walk_forward.folds": 2}
# The models in metrics/{CUR}.json, in order: the LSTM, then the baselines (key names are an interface).
REPORTED_MODELS = ["lstm", "majority_class", "last_move_repeats", "logistic_regression", "gradient_boosting"]
# The end-to-end repositories: a small market, one currency.
HOURS = 1000
UP_TO_DATE = "Data and pipelines are up to date."
# The stages after featurize, in the order `dvc repro` runs them for one currency.
AFTER_SEQUENCE = ["sequence@BTC", "train@BTC", "evaluate@BTC", "walk_forward@BTC", "backtest@BTC", "report"]
# What a clone needs to run the pipeline (the package itself is installed in the venv).
PROJECT_FILES = [".dvc/config", ".dvcignore", "dvc.yaml", "params.yaml", "stages", "src", "data/raw"]


# Binance's description of BTC/USDT, as ccxt loads it: the fake exchanges of the fetch and predict tests serve it.
MARKET = {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "baseAssetPrecision": 8,
          "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "MARKET"], "filters": [],
          "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "permissions": ["SPOT"],
          "permissionSets": [["SPOT"]]}

# A tiny valid price file and whale response, for tests that break one thing about them.
GOOD_PRICES = (
    "timestamp,open,high,low,close,volume\n"
    + "".join(f"2024-03-01T{hour:02d}:00:00Z,100,101,99,100.5,10\n" for hour in range(5))
)
GOOD_WHALES = json.dumps({"result": "success", "count": 1, "transactions": [{
    "timestamp": 1709254800, "symbol": "btc", "amount": 10, "amount_usd": 600000,
    "from": {"owner_type": "unknown"}, "to": {"owner": "binance", "owner_type": "exchange"},
}]})


def files_project(project, prices=GOOD_PRICES, whales=GOOD_WHALES, whales_name="BTC.json"):
    edit_params(project, **{"data.source": "files", "currencies": ["BTC"]})
    for relative, text in ((paths.raw_prices("BTC"), prices), (paths.RAW / "whales" / whales_name, whales)):
        if text is not None:
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_text(text)
    return project


def assert_clean_failure(result, project, *fragments, outputs=(paths.INTERIM, paths.FEATURES)):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "error:" in lines[-1] and all(fragment in lines[-1] for fragment in fragments), lines[-1]
    assert not [line for line in lines if "error" in line.lower()][1:], "more than one error line"
    for produced in outputs:
        produced = project / produced
        # An output may be a single file, under which rglob finds nothing.
        leftovers = [p for p in [produced, *produced.rglob("*")] if p.is_file()]
        assert not leftovers, leftovers


def small_market(hours=400, seed=11, whale_transfers_per_day=60, whale_effect=0.15, currency="BTC", news_per_day=24,
                 market_wide_news_per_day=12, news_effect=0.0):
    return sample_market.generate_market(currency, sample_market.MarketSettings(
        seed=seed, start="2024-01-01", hours=hours,
        whale_transfers_per_day=whale_transfers_per_day, whale_effect=whale_effect, news_per_day=news_per_day,
        market_wide_news_per_day=market_wide_news_per_day, news_effect=news_effect,
    ))


def news_settings(**changes) -> event_sources.SourceSettings:
    """The news source of the tests, with `changes`. Built when a test asks, not at import: mutmut's setup check
    makes every package call fail, and one at import would stop the collection instead of failing the tests."""
    return event_sources.SourceSettings(**{"format": "auto", "market_wide": True, "scorer": "vaderSentiment==3.3.2",
                                     "delay_seconds": 0, **changes})


def clean_events(market, settings=None):
    """The market's news through ingest's cleaning, as source `news` (as the featurize stage sees it)."""
    return news_items.clean_news(market.raw_tables()[2], market.currency, "news", settings or news_settings())


def clean_market(market):
    """The generated market through ingest's cleaning, as the featurize stage sees it."""
    raw_prices, raw_whales, _ = market.raw_tables()
    prices = price_bars.clean_prices(raw_prices, max_gap_hours=72)
    whales = whale_transfers.clean_whales(raw_whales, market.currency)
    return prices, whales


def copy_project(destination: Path) -> Path:
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def edit_params(project: Path, **changes) -> dict:
    """Set params.yaml keys; a dotted key such as data.source reaches into sections."""
    return settings.update_file(project / "params.yaml", changes)


def run(args, cwd: Path, check=True, timeout=300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_stage(project: Path, stage: str, currency="BTC", check=True) -> subprocess.CompletedProcess:
    return run([sys.executable, f"stages/{stage}.py", currency], cwd=project, check=check)


def run_stage_in_process(project: Path, stage: str, currency="BTC", check=True) -> subprocess.CompletedProcess:
    """run_stage, in this process: a model stage's TensorFlow import (4 s) is paid once per test process, not once
    per run. Only what Python writes to stderr is seen, not what a library writes there from C, so every model
    stage is also run as a process elsewhere."""
    script = f"stages/{stage}.py"
    stderr = io.StringIO()
    root, package = logging.getLogger(), logging.getLogger("whalecast")
    handlers, level = root.handlers[:], package.level
    handlers_of_signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setattr(sys, "argv", [script, currency])
        patch.setattr(sys, "stderr", stderr)
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as exit:
            code = exit.code
        finally:  # what stage.run set up for its process
            root.handlers = handlers
            package.setLevel(level)
            logging.captureWarnings(False)
            for number, handler in handlers_of_signals.items():
                signal.signal(number, handler)
    if check and code != 0:
        raise AssertionError(f"{script} {currency} failed ({code}):\n{stderr.getvalue()}")
    return subprocess.CompletedProcess([sys.executable, script, currency], code, "", stderr.getvalue())


# The shared repositories (tests/shared_repos.py) the end-to-end modules clone, by the fixture that clones each.
SHARED_REPOSITORIES = {"repo": "pipeline", "glue": "glue"}


def shared_root(config: pytest.Config) -> Path:
    """Where this pytest run makes its shared repositories: one folder for all its xdist workers. pytest names no
    public handle for its temporary folder outside a fixture; the hook below needs it before any fixture runs."""
    base = config._tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-repos"


def pytest_collection_finish(session: pytest.Session) -> None:
    """The first worker starts making the shared repositories its run's tests need, while the first modules run."""
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0" or session.config.option.collectonly:
        return
    needed = sorted({SHARED_REPOSITORIES[name] for item in session.items for name in getattr(item, "fixturenames", ())
                     if name in SHARED_REPOSITORIES})
    if needed:
        import shared_repos

        session.config.stash[BACKGROUND] = shared_repos.start_in_background(needed, shared_root(session.config))


BACKGROUND = pytest.StashKey[list]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    import shared_repos

    shared_repos.stop(session.config.stash.get(BACKGROUND, []))


@pytest.fixture(scope="session")
def shared_repository(request) -> Callable[[str], Path]:
    """The shared repository of a name, made (or waited for) on first use."""
    import shared_repos

    return lambda name: shared_repos.reproduced(name, shared_root(request.config))


@pytest.fixture(scope="module")
def repo(shared_repository, tmp_path_factory) -> Path:
    """A git repository of the tiny project after a real `dvc repro` (BTC), one clone per test module, for real
    `dvc` commands: the shared repository "pipeline", cloned."""
    import shared_repos

    return shared_repos.clone(shared_repository("pipeline"), tmp_path_factory.mktemp("clone") / "project")


@pytest.fixture(scope="module")
def glue(shared_repository, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The stage glue's repository (ETH and SOL, a horizon of 3 hours; tests/shared_repos.py), cloned, and the output
    of its `dvc repro`."""
    import shared_repos

    shared = shared_repository("glue")
    return shared_repos.clone(shared, tmp_path_factory.mktemp("glue") / "project"), shared_repos.first_repro(shared)


@pytest.fixture(scope="module")
def first_repro(shared_repository) -> subprocess.CompletedProcess:
    """The output of the `dvc repro` that made the shared repository `repo` clones."""
    import shared_repos

    return shared_repos.first_repro(shared_repository("pipeline"))


def commit(repo: Path, message: str) -> None:
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--allow-empty", "-qm", message],
        repo)


def stages_run(result: subprocess.CompletedProcess) -> list[str]:
    return [line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")]


@pytest.fixture
def project(tmp_path) -> Path:
    """A scratch copy of the project (no git, no dvc) to run stage scripts in."""
    return copy_project(tmp_path / "project")


class LocalServer:
    """An HTTP server on 127.0.0.1, in a thread, that answers GETs with respond(path, headers) ->
    (status, JSON-able body or raw bytes, extra headers): a stand-in for a web API."""

    def __init__(self, respond):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, headers = respond(self.path, self.headers)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def local_server():
    """Start LocalServers for a test; all are shut down after it."""
    servers = []

    def start(respond) -> LocalServer:
        servers.append(LocalServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.server.shutdown()
