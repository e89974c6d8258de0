"""Benchmark: raw files to features as a user waits for them, `dvc repro featurize`, against a pandas script.

Clones the repository into the git-ignored benchmarks/.data/featurize/ and writes a synthetic BTC market there as
raw files: 10 years of hourly prices (CSV) and about 2 million whale transfers in time order (as the API delivers
them), once as one CSV and once as Whale Alert API pages of 100 records with ids (as whalecast-fetch-whales saves
them). The clone's params: data.source files, BTC only, no news, partial_candle keep (the pandas script keeps every
bar too), and the features the issue names: the first 16 whale specs of params.yaml and the 24-hour volatility.

For each whale format, `repeats` times: `dvc repro featurize@BTC` from a clean state (no dvc.lock, no outputs, an
empty DVC cache: a project that has not run yet), i.e. ingest reads and checks the raw files, featurize computes
the features, DVC hashes and caches what they read and write; and, each in its own process, a straightforward
pandas script that reads the same two files and computes the same features (a time-based `rolling` per whale
feature, `merge_asof` onto the decision times), the two in turns. Wall seconds (medians compared) and peak
memory (the largest process of a run). Also timed, to show where the seconds go: the stages' own work (their
"done in" lines, after imports), the same repro with each stage's command replaced by copying in what it wrote
(DVC alone), and the two stages' commands run as plain processes, one after the other, without DVC (the
like-for-like comparison with the script: the same files read, the same Python start-ups, outputs written).
Targets: dvc repro no slower than pandas and its peak under 2 GB, for each format. Check: the two feature tables
agree. Writes benchmarks/results/featurize.json; exits 1 when a target or check fails.

    make benchmark                                                   # full size
    python benchmarks/featurize.py --hours 5000 --transfers 50000 --repeats 1   # quick
"""

import argparse
import itertools
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from common import DONE_LINE, REPO, MiB, measure, record

SCRATCH = REPO / "benchmarks" / ".data" / "featurize"
FORMATS_DIR = SCRATCH.parent / "featurize-formats"  # the whale files of the format not being timed
CURRENCY = "BTC"
WHALE_FORMATS = ("csv", "pages")
PAGE_SIZE = 100  # the API's records per page
WHALE_FEATURES, VOLATILITY = 16, "price_volatility_last_24_hours"
STAGE_OUTPUT = SCRATCH / "data" / "features" / f"{CURRENCY}.parquet"
BASELINE_OUTPUT = SCRATCH / "pandas_features.parquet"
TARGET_BYTES = 2e9


def whale_path(whale_format: str, root: Path = SCRATCH) -> Path:
    name = f"{CURRENCY}.csv" if whale_format == "csv" else CURRENCY
    return root / "data" / "raw" / "whales" / name


def generate(hours: int, transfers: int) -> None:
    """The raw files, and the clone's params (run in the clone)."""
    import numpy as np
    import yaml
    from whalecast import settings
    from whalecast.acquire import sample_files
    from whalecast.data import sample_market

    all_params = settings.read()
    data = all_params["data"]
    market = sample_market.generate_market(CURRENCY, sample_market.MarketSettings(
        seed=data["synthetic"]["seed"], start="2015-01-01", hours=hours,
        whale_transfers_per_day=transfers / (hours / 24), whale_effect=data["synthetic"]["whale_effect"]))
    whales = market.whales.sort_values("timestamp", kind="stable").reset_index(drop=True)
    sample_files.write_prices_csv(market.prices, Path("data/raw/prices") / f"{CURRENCY}.csv")
    sample_files.write_whales_csv(whales, whale_path("csv", Path(".")))
    whales["id"] = (np.arange(len(whales)) + 1_000_000_000).astype(str)
    for number, start in enumerate(range(0, len(whales), PAGE_SIZE), 1):
        sample_files.write_whales_json(whales.iloc[start:start + PAGE_SIZE],
                                       whale_path("pages", Path(".")) / f"{number:05d}.json")
    whale_specs = [spec for spec in all_params["features"] if spec["source"] == "whales"][:WHALE_FEATURES]
    volatility = [spec for spec in all_params["features"] if spec.get("name") == VOLATILITY]
    all_params.update(currencies=[CURRENCY], sources={}, features=volatility + whale_specs,
                      feature_groups={"prices": True, "whales": True})
    data.update(source="files", partial_candle="keep")
    Path("params.yaml").write_text(yaml.safe_dump(all_params, sort_keys=False), encoding="utf-8")


def baseline(whale_format: str) -> None:
    """The features as a researcher would write them in pandas, from the same raw files and params."""
    import json

    import numpy as np
    import pandas as pd
    from whalecast import settings
    from whalecast.features import feature_specs

    specs = feature_specs.parse_specs(settings.read()["features"])
    prices = pd.read_csv(f"data/raw/prices/{CURRENCY}.csv")
    prices["timestamp"] = pd.to_datetime(prices["timestamp"], utc=True)
    if whale_format == "csv":
        whales = pd.read_csv(whale_path("csv", Path(".")))
    else:
        records = []
        for page in sorted(whale_path("pages", Path(".")).glob("*.json")):
            records += json.loads(page.read_text())["transactions"]
        whales = pd.json_normalize(records).rename(columns=lambda name: name.replace(".", "_"))
    whales["timestamp"] = pd.to_datetime(whales["timestamp"], unit="s", utc=True)
    decision = pd.DataFrame({"timestamp": prices["timestamp"] + pd.Timedelta(hours=1)})
    log_return = np.log(prices["close"]).diff()
    table = decision.copy()
    for spec in specs:
        if spec.source == "whales":
            table[spec.name] = whale_feature(whales, decision, spec)
        else:
            table[spec.name] = log_return.rolling(spec.window).std()
    warmup = max(spec.first_complete_row for spec in specs)
    table.iloc[warmup:].reset_index(drop=True).to_parquet(BASELINE_OUTPUT.name, index=False)


def whale_feature(whales, decision, spec):
    import pandas as pd

    if spec.transaction_type != "any":
        whales = whales[whales["transaction_type"] == spec.transaction_type]
    to_exchange, from_exchange = whales["to_owner_type"] == "exchange", whales["from_owner_type"] == "exchange"
    inflow = (to_exchange & ~from_exchange).astype(float)
    outflow = (from_exchange & ~to_exchange).astype(float)
    sign = {
        "all": pd.Series(1.0, index=whales.index), "inflow": inflow, "outflow": outflow,
        "exchange_to_exchange": (to_exchange & from_exchange).astype(float), "net_inflow": inflow - outflow,
    }[spec.filter]
    chosen = sign != 0
    events = pd.DataFrame(
        {"value": (whales[spec.column] * sign)[chosen].to_numpy() if spec.column else 0.0, "indicator": 1.0},
        index=pd.DatetimeIndex(whales["timestamp"][chosen]),
    )
    # Zero rows at every decision time T make a window end exactly at T; placed after the events stamped T,
    # each window still includes them (closed="right").
    marks = pd.DataFrame({"value": 0.0, "indicator": 0.0}, index=pd.DatetimeIndex(decision["timestamp"]))
    rolling = pd.concat([events, marks]).sort_index(kind="stable").rolling(f"{spec.window}h", closed="right")
    if spec.agg == "count":
        rolled = rolling["indicator"].sum()
    elif spec.agg == "mean":
        sums, counts = rolling["value"].sum(), rolling["indicator"].sum()
        rolled = (sums / counts).where(counts > 0, 0.0)
    else:
        rolled = getattr(rolling["value"], spec.agg)()
    rolled = rolled.rename("feature").rename_axis("timestamp").reset_index()
    return pd.merge_asof(decision, rolled, on="timestamp", direction="backward")["feature"].to_numpy()


def compare() -> list[str]:
    """The columns in which the stage's and the pandas script's tables disagree."""
    import numpy as np
    import pandas as pd

    stage, pandas_table = pd.read_parquet(STAGE_OUTPUT), pd.read_parquet(BASELINE_OUTPUT)
    times = [table["timestamp"].astype("datetime64[ns, UTC]") for table in (stage, pandas_table)]  # pandas: us
    if list(stage.columns) != list(pandas_table.columns) or not times[0].equals(times[1]):
        return ["columns or timestamps"]
    # Window sums of $1e10 carry rounding of ~1e-5 USD and net flows cancel, so the absolute tolerance
    # follows each column's scale; a single missed transfer (>= $500k) is still far outside it.
    return [name for name in stage.columns[1:] if not np.allclose(
        stage[name], pandas_table[name], rtol=1e-9, atol=1e-9 * np.abs(stage[name]).max())]


def clean_state() -> None:
    for path in ("dvc.lock", "data/interim", "data/features", ".dvc/cache", ".dvc/tmp"):
        target = SCRATCH / path
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)


def use_whale_format(whale_format: str) -> None:
    """Put the format's whale files in data/raw/whales and the other's aside."""
    for other in WHALE_FORMATS:
        if other != whale_format and whale_path(other).exists():
            whale_path(other).rename(whale_path(other, FORMATS_DIR))
    if not whale_path(whale_format).exists():
        whale_path(whale_format, FORMATS_DIR).rename(whale_path(whale_format))


def timed_repro() -> tuple[float, int, dict[str, float]]:
    """Seconds and peak bytes of `dvc repro featurize@BTC` from a clean state, and each stage's own seconds."""
    clean_state()
    seconds, peak = measure(["-m", "dvc", "repro", f"featurize@{CURRENCY}"], SCRATCH)
    own = {match.group(1): float(match.group(2))
           for match in map(DONE_LINE.match, (SCRATCH / "child.log").read_text().splitlines()) if match}
    return seconds, peak, own


def stage_command(stage: str) -> str:
    """The stage's cmd in the clone's dvc.yaml, ${item} and all."""
    pipeline = (SCRATCH / "dvc.yaml").read_text(encoding="utf-8")
    return re.search(rf"cmd: (.*\bstages/{stage}\.py\b.*)", pipeline).group(1)


def stages_without_dvc() -> float:
    """Seconds of ingest and then featurize run as plain processes from a clean state, their dvc.yaml commands
    as a shell would run them (leading NAME=value words set the environment)."""
    clean_state()
    seconds = 0.0
    for stage in ("ingest", "featurize"):
        words = shlex.split(stage_command(stage).replace("${item}", CURRENCY))
        settings = dict(word.split("=", 1) for word in itertools.takewhile(lambda word: "=" in word, words))
        program, *argv = words[len(settings):]
        assert program == "python", words
        seconds += measure(argv, SCRATCH, {**os.environ, **settings})[0]
    return seconds


def dvc_alone(repeats: int) -> float:
    """Median seconds of the same `dvc repro` with each stage's command replaced by copying in the files it wrote:
    DVC's own part (hashing the raw files and the outputs, its run cache, caching, the lock), without the stages."""
    written = {"ingest": [f"data/interim/{kind}/{CURRENCY}.parquet" for kind in ("prices", "whales", "events")],
               "featurize": [f"data/features/{CURRENCY}.parquet"]}
    stash = SCRATCH.parent / "featurize-outputs"
    stash.mkdir(exist_ok=True)
    pipeline = SCRATCH / "dvc.yaml"
    original = pipeline.read_text(encoding="utf-8")
    replaced = original
    for stage, files in written.items():
        copies = []
        for file in files:
            shutil.copy(SCRATCH / file, stash / file.replace("/", "_"))
            copies.append(f"mkdir -p {Path(file).parent} && cp {stash / file.replace('/', '_')} {file}")
        replaced = replaced.replace(f"cmd: {stage_command(stage)}", f"cmd: {' && '.join(copies)}")
    pipeline.write_text(replaced, encoding="utf-8")
    try:
        return statistics.median(timed_repro()[0] for _ in range(repeats))
    finally:
        pipeline.write_text(original, encoding="utf-8")


def run(hours: int, transfers: int, repeats: int) -> int:
    # Everything heavy runs in a child: a child's peak RSS starts at its parent's peak (fork copies it),
    # so this process keeps to the standard library until the measurements are done.
    shutil.rmtree(SCRATCH, ignore_errors=True)
    shutil.rmtree(FORMATS_DIR, ignore_errors=True)
    shutil.rmtree(SCRATCH.parent / "featurize-outputs", ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO), str(SCRATCH)], check=True)
    whale_path("csv", FORMATS_DIR).parent.mkdir(parents=True)
    # The stages run `python` from PATH: this interpreter's, as `make benchmark` does.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    measure([__file__, "--generate", "--hours", str(hours), "--transfers", str(transfers)], SCRATCH)
    measured, targets, checks = {}, {}, {}
    for whale_format in WHALE_FORMATS:
        use_whale_format(whale_format)
        # In turns, so that a change in the machine's load over the minutes weighs on both alike.
        repros, pandas_runs = [], []
        for _ in range(repeats):
            repros.append(timed_repro())
            pandas_runs.append(measure([__file__, "--baseline", whale_format], SCRATCH))
        differ = compare()
        plain_seconds = statistics.median(stages_without_dvc() for _ in range(repeats))
        dvc_seconds = dvc_alone(repeats)
        repro_seconds, pandas_seconds = [run[0] for run in repros], [run[0] for run in pandas_runs]
        repro_peak, pandas_peak = max(run[1] for run in repros), max(run[1] for run in pandas_runs)
        own = {stage: statistics.median(run[2][stage] for run in repros) for stage in repros[0][2]}
        ratio = statistics.median(repro_seconds) / statistics.median(pandas_seconds)
        own_work = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in own.items())
        print(f"whales as {whale_format}: dvc repro featurize {statistics.median(repro_seconds):.2f} s (median of "
              f"{repeats}; the stages' own work: {own_work}; DVC alone {dvc_seconds:.2f} s; the stages without DVC "
              f"{plain_seconds:.2f} s), peak {repro_peak / MiB:,.0f} MiB; pandas {statistics.median(pandas_seconds):.2f} "
              f"s, peak {pandas_peak / MiB:,.0f} MiB; ratio {ratio:.2f}; tables match: "
              f"{'NO, ' + ', '.join(differ) if differ else 'yes'}")
        measured[whale_format] = {
            "repro_seconds": [round(seconds, 3) for seconds in repro_seconds], "repro_peak_bytes": repro_peak,
            "stage_seconds": {stage: round(seconds, 3) for stage, seconds in own.items()},
            "dvc_alone_seconds": round(dvc_seconds, 3), "stages_without_dvc_seconds": round(plain_seconds, 3),
            "pandas_seconds": [round(seconds, 3) for seconds in pandas_seconds], "pandas_peak_bytes": pandas_peak,
            "ratio": round(ratio, 3)}
        targets[f"whales as {whale_format}: dvc repro no slower than pandas"] = ratio <= 1.0
        targets[f"whales as {whale_format}: peak under {TARGET_BYTES / 1e9:g} GB"] = repro_peak < TARGET_BYTES
        checks[f"whales as {whale_format}: dvc repro and pandas give the same table"] = not differ
    import pyarrow.parquet

    measured["transfers"] = pyarrow.parquet.read_metadata(
        SCRATCH / "data" / "interim" / "whales" / f"{CURRENCY}.parquet").num_rows
    measured["features"] = WHALE_FEATURES + 1
    return record("featurize", {"hours": hours, "transfers": transfers, "repeats": repeats}, measured, targets, checks,
                  checkout=SCRATCH, own_params=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=87_600, help="hourly bars (default: 10 years)")
    parser.add_argument("--transfers", type=int, default=2_000_000, help="whale transfers, about (default: 2 million)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default: 3)")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", choices=WHALE_FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.hours, args.transfers)
    elif args.baseline:
        baseline(args.baseline)
    else:
        return run(args.hours, args.transfers, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
