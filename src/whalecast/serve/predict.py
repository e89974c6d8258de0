"""whalecast-predict: will the price go down over the next horizon? One JSON line for a currency and hour.

    whalecast-predict --currency BTC [--at 2024-12-30T15:00 [--at ...]] [--fetch]

P(down) from the committed model and scaler, for the latest decision time whose hourly bar has closed (or --at T,
a whole UTC hour), on the raw data params.yaml points at (the sample market or data/raw files). The features are
computed by the pipeline's own code (data.clean, features.feature_table, the model-input function of
modeling.sequences, the saved scaler and model), so what the model sees here is what it
saw in training (no second implementation to drift apart). It refuses, before predicting, when the workspace's
code or params (but ingest's, which say what data to read) differ from those the model was trained with (`dvc
status`), when the feature list differs from the scaler's, when T lacks seq_len hours of features, or when the data
ends before T. With --fetch it first brings the price file and the whale pages up to now with
whalecast-fetch-prices' and whalecast-fetch-whales' code.
"""

import argparse
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from whalecast import cli, paths, settings
from whalecast.acquire import fetch_whales
from whalecast.data import clean, price_bars, whale_transfers
from whalecast.data.delays import ReportDelay
from whalecast.errors import InputError
from whalecast.features import feature_table
from whalecast.hourly import HOUR
from whalecast.modeling import scaling, sequences

log = logging.getLogger(__name__)

# Newer data than this many hours before now is expected live; older is said (the answer is about the past).
STALE_AFTER = pd.Timedelta(hours=3)
# The stages whose settings and code make the model and what it is fed. Ingest's params and raw files say which
# data to read, which may differ (newer files, the sample market written as files); its code, which cleans the
# data as the model saw it, may not.
MODEL_STAGES = ("ingest", "featurize", "sequence", "train", "evaluate")
DATA_STAGE = "ingest"


def check_trained_as_configured(currency: str) -> None:
    """Refuse when `dvc status` finds params or code of the model's stages changed since dvc.lock, or the model
    or scaler not the files dvc.lock records. Newer data is fine: that is what a prediction is for."""
    stages = [f"{name}@{currency}" for name in MODEL_STAGES]
    try:
        result = subprocess.run(["dvc", "status", "--json", *stages], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise InputError("dvc", "not found: run from the repository's venv (. .venv/bin/activate)") from None
    if result.returncode != 0:
        raise InputError("dvc status", (result.stderr.strip().splitlines() or ["failed"])[-1])
    changed = []
    for stage_name, changes in json.loads(result.stdout or "{}").items():
        for change in changes:
            if not isinstance(change, dict):  # e.g. "changed command"
                changed.append(f"{stage_name}: {change}")
                continue
            for path, what in change.get("changed deps", {}).items():
                if path == str(paths.PARAMS) and not stage_name.startswith(f"{DATA_STAGE}@"):
                    changed += [f"{stage_name}: params {key} {state}" for key, state in what.items()]
                elif path.startswith(("src/", "stages/")):
                    changed.append(f"{stage_name}: {path} {what}")
            for path, what in change.get("changed outs", {}).items():
                if path.startswith(str(paths.MODELS)):
                    changed.append(f"{stage_name}: {path} {what}")
    if changed:
        raise InputError("dvc.lock", f"the model was trained with other settings or code than the workspace has "
                                     f"({changed[0]}{f', and {len(changed) - 1} more' if len(changed) > 1 else ''}); "
                                     "run dvc repro first, or check out the commit the model belongs to")


def model_hash(currency: str) -> str | None:
    """The model file's md5 as dvc.lock records it."""
    lock_file = Path("dvc.lock")
    if not lock_file.exists():
        return None
    lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    outs = lock.get("stages", {}).get(f"train@{currency}", {}).get("outs", [])
    return next((out.get("md5") for out in outs if out.get("path") == str(paths.model(currency))), None)


def decision_time(table: pd.DataFrame, at: pd.Timestamp | None, now: pd.Timestamp) -> pd.Timestamp:
    """T: the requested hour, or the latest row whose bar has closed by now."""
    if at is None:
        closed = table.loc[table["timestamp"] <= now, "timestamp"]
        if closed.empty:
            raise InputError("data", f"no hourly bar has closed by now ({now:%Y-%m-%d %H:%M} UTC)")
        latest = closed.iloc[-1]
        if now - latest > STALE_AFTER:
            log.warning("the newest data ends at %s UTC, %.0f hours ago: the answer is for that hour",
                        f"{latest:%Y-%m-%d %H:%M}", (now - latest) / HOUR)
        return latest
    if at != at.floor("h"):
        raise InputError("--at", f"{at:%Y-%m-%d %H:%M:%S} is not a whole hour (decision times are bar closes)")
    last = table["timestamp"].iloc[-1]
    if at > last:
        raise InputError("data", f"ends at {last:%Y-%m-%d %H:%M} UTC (the close of the last bar), before the "
                                 f"requested hour {at:%Y-%m-%d %H:%M}")
    return at


@dataclass(frozen=True)
class FetchSettings:
    """Where --fetch brings the raw files up to date from: the fetchers' own defaults (and, in tests, local
    servers for both APIs)."""

    exchange: str = "binance"
    symbol: str = ""  # default: {CUR}/USDT
    min_value: int = 500_000  # smallest whale transfer in USD, as whalecast-fetch-whales
    exchange_url: str | None = None
    whale_alert_url: str = fetch_whales.API_URL


def fetch_latest(currency: str, fetch_from: FetchSettings, now: pd.Timestamp) -> None:
    """Bring data/raw/prices/{CUR}.csv and the whale pages data/raw/whales/{CUR}/ up to now with the project's
    fetchers; each resumes where its files end. Refused, before any request, unless both are in the layouts the
    fetchers write and the Whale Alert key is set."""
    data = settings.load(clean.DataSettings, settings.read())
    if data.source != "files":
        raise InputError(paths.PARAMS, "data.source is synthetic: the sample market has nothing to fetch (--fetch "
                                       "needs data.source: files)")
    from whalecast.acquire import fetch_prices  # ccxt takes a while to import: only when fetching

    prices, pages = paths.raw_prices(currency), paths.raw_whales_pages(currency)
    try:
        resumable = (prices.is_file() and price_bars.detect_price_format(prices) == "generic"
                     and len(fetch_prices.read_written(prices)) > 0)
    except InputError:  # not a CSV, no timestamp column, or its last time a number
        resumable = False
    if not resumable:
        raise InputError(prices, "--fetch appends to the price file whalecast-fetch-prices writes (the generic layout, "
                                 "ISO-8601 times); this is not one: fetch the history with whalecast-fetch-prices first")
    if not pages.is_dir() or not any(pages.glob("*.json")):
        raise InputError(pages, "--fetch adds Whale Alert pages to this folder, which holds none: fetch the history "
                                "with whalecast-fetch-whales first")
    api_key = os.environ.get(fetch_whales.KEY_VARIABLE, "").strip()
    if not api_key:
        raise InputError(fetch_whales.KEY_VARIABLE, "not set: --fetch needs your Whale Alert API key")
    if data.partial_candle != "keep":
        log.warning("data.partial_candle is %s, so ingest drops the newest bar, though the fetcher writes closed hours "
                    "only: set data.partial_candle: keep to predict for the newest one", data.partial_candle)
    exchange = fetch_prices.connect(fetch_from.exchange, fetch_from.exchange_url)
    symbol = fetch_from.symbol or f"{currency}/USDT"
    until_ms = int(now.timestamp() * 1000)
    hours = fetch_prices.fetch(exchange, symbol, 0, until_ms, prices, page_size=1000)  # resumes after the file's end
    written = fetch_whales.fetch(currency, _newest_record_time(pages), int(now.timestamp()), fetch_from.min_value,
                                 pages, api_key, fetch_from.whale_alert_url)
    log.info("fetched %d hours of %s from %s and %d Whale Alert pages", hours, symbol, fetch_from.exchange, written)


def _newest_record_time(pages: Path) -> int:
    """Epoch seconds of the newest record in the last page that holds any (pages are in time order)."""
    for page in sorted(pages.glob("*.json"), reverse=True):
        table = whale_transfers.read_whales_json(page)
        if len(table.frame):
            times = pd.to_numeric(table.frame["timestamp"], errors="coerce")
            if times.isna().any():
                raise table.fail(int(times.isna().to_numpy().argmax()), "timestamp is not epoch seconds, as the API "
                                                                        "writes it: cannot resume after it")
            return int(times.max())
    raise InputError(pages, "no page holds a record to resume after: fetch the history with whalecast-fetch-whales")


def predict(currency: str, times: list[pd.Timestamp | None] = (None,), now: pd.Timestamp | None = None
            ) -> list[dict]:
    """P(down) at each decision time (None: the latest closed hour), with what it was computed from. The
    inputs are computed once for all of them."""
    check_trained_as_configured(currency)
    params = settings.read()
    seq_len = settings.load(sequences.WindowSettings, params).seq_len
    horizon = settings.load(sequences.TargetSettings, params).horizon_hours
    tables = {currency: clean.clean_tables(currency, params)}

    def tables_of(other: str, where: str) -> feature_table.EventTables:
        if other not in tables:
            tables[other] = clean.clean_tables(other, params)
        return feature_table.EventTables(tables[other].whales, tables[other].events)

    table = feature_table.table_for(currency, params, tables[currency].prices, tables_of)
    _, columns = sequences.model_columns(table, settings.value(params, "feature_groups"), "features")
    scaler = scaling.Scaler.load(paths.scaler(currency))
    if scaler.columns != columns:
        raise InputError(paths.scaler(currency), f"the model was trained on {len(scaler.columns)} features, the "
                                                 f"params now make {len(columns)} (first difference: "
                                                 f"{_first_difference(scaler.columns, columns)}): run dvc repro")
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    whens = [decision_time(table, at, now) for at in times]
    window_rows = pd.Index(table["timestamp"]).get_indexer(whens)[:, None] + sequences.window_offsets(seq_len)
    for when, first_row in zip(whens, window_rows[:, 0]):
        if first_row < 0:  # -1 marks an hour before the first row, so its window starts before it too
            raise InputError("data", f"the window of {seq_len} hours ending at {when:%Y-%m-%d %H:%M} UTC starts "
                                     f"before the first feature row ({table['timestamp'].iloc[0]:%Y-%m-%d %H:%M} UTC)")
    windows = scaler.transform(table)[window_rows]
    from whalecast.modeling import lstm  # TensorFlow takes seconds to load: only once the inputs are known right

    model = lstm.load_model(paths.model(currency), seq_len, len(columns))
    p_down = lstm.predict_windows(model, windows)
    return [{"currency": currency, "decision_time": _utc(when), "p_down": float(p), "horizon_hours": horizon,
             "model": str(paths.model(currency)), "model_md5": model_hash(currency),
             **_last_inputs(tables[currency], when, params)} for when, p in zip(whens, p_down)]


def _first_difference(trained: list[str], now: list[str]) -> str:
    for index, (old, new) in enumerate(zip(trained, now)):
        if old != new:
            return f"position {index}: {old} then, {new} now"
    longer, which = (trained, "then") if len(trained) > len(now) else (now, "now")
    return f"{longer[min(len(trained), len(now))]} only {which}"


def _last_inputs(tables: clean.CleanTables, when: pd.Timestamp, params: dict) -> dict:
    """The last price bar and whale record the features at `when` read."""
    bar = tables.prices[tables.prices["timestamp"] + HOUR <= when].iloc[-1]
    delay = settings.load(ReportDelay, params).delay
    known = tables.whales[tables.whales["timestamp"] + delay <= when]
    whale = None if known.empty else known.iloc[-1]
    return {
        "last_price_bar": {"open_time": _utc(bar["timestamp"]), "close": float(bar["close"]),
                           "filled": bool(bar["filled"])},
        "last_whale_record": None if whale is None else {
            "timestamp": _utc(whale["timestamp"]), "amount_usd": float(whale["amount_usd"]),
            "from_owner_type": str(whale["from_owner_type"]), "to_owner_type": str(whale["to_owner_type"])},
    }


def _utc(time: pd.Timestamp) -> str:
    return f"{time:%Y-%m-%dT%H:%M:%SZ}"


def parse_time(text: str) -> pd.Timestamp:
    try:
        return cli.utc_time(text)
    except ValueError:
        raise InputError("--at", f"'{text}' is not a date and time (e.g. 2024-12-30T15:00, UTC)") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--currency", required=True)
    parser.add_argument("--at", action="append", help="a decision time, a whole hour (UTC unless an offset is "
                                                       "given); repeat it for several (one line each)")
    parser.add_argument("--fetch", action="store_true", help="first bring data/raw/prices/{CUR}.csv and the whale "
                                                                 "pages data/raw/whales/{CUR}/ up to now")
    parser.add_argument("--exchange", default="binance", help="--fetch: a ccxt exchange id (default binance)")
    parser.add_argument("--symbol", default="", help="--fetch: the market (default {CUR}/USDT)")
    parser.add_argument("--min-value", type=int, default=500_000, help="--fetch: smallest whale transfer in USD")
    parser.add_argument("--exchange-api-url", help=argparse.SUPPRESS)  # tests point both at local servers
    parser.add_argument("--whale-alert-api-url", default=fetch_whales.API_URL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="predict: %(levelname)s: %(message)s")
    logging.getLogger("whalecast").setLevel(logging.WARNING)
    currency = args.currency.upper()
    try:
        if args.fetch:
            logging.getLogger(__name__).setLevel(logging.INFO)
            fetch_latest(currency, FetchSettings(args.exchange, args.symbol, args.min_value, args.exchange_api_url,
                                                 args.whale_alert_api_url), pd.Timestamp.now(tz="UTC"))
        results = predict(currency, [parse_time(text) for text in args.at] if args.at else [None])
    except InputError as error:
        sys.exit(f"predict: error: {error}")
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
