"""Benchmark of the featurize stage against a straightforward pandas implementation of the same features.

Generates a synthetic BTC market (10 years of hours, about 2 million whale transfers by default) into the
git-ignored scratch project benchmarks/.data/featurize/, then times `python stages/featurize.py BTC` there as a user
runs it, and a pandas baseline (time-based `rolling` per feature, then `merge_asof` onto the decision
times), each in its own process: wall seconds and peak memory (the child's own peak RSS). Checks that the
two tables agree. Targets: the stage under 10 s and 2 GB, and faster than pandas. Writes the figures to
benchmarks/results/featurize.json and exits 1 when a target is missed or the tables differ.

    make benchmark                                   # full size
    python benchmarks/featurize.py --hours 5000 --transfers 50000 --repeats 1   # quick
"""

import argparse
import shutil
import statistics
import sys

from common import REPO, MiB, measure, record

SCRATCH = REPO / "benchmarks" / ".data" / "featurize"
CURRENCY = "BTC"
STAGE_OUTPUT = SCRATCH / "data" / "features" / f"{CURRENCY}.parquet"
BASELINE_OUTPUT = SCRATCH / "data" / "features" / f"{CURRENCY}.pandas.parquet"
TARGET_SECONDS, TARGET_BYTES = 10.0, 2e9


def generate(hours: int, transfers: int) -> None:
    """Write the scratch project: clean prices and whales as ingest writes them, and the repo's params."""
    import yaml
    from whalecast import ingest, params, paths, sources, storage, synthetic

    data_params = params.section(params.load(REPO / "params.yaml"), "data")
    synthetic_params = data_params["synthetic"]

    market = synthetic.generate_market(CURRENCY, synthetic.MarketSettings(
        seed=synthetic_params["seed"], start="2015-01-01", hours=hours,
        whale_transfers_per_day=transfers / (hours / 24), whale_effect=synthetic_params["whale_effect"],
    ))
    raw_prices, raw_whales, _ = market.raw_tables()
    prices = ingest.clean_prices(raw_prices, max_gap_hours=data_params["max_gap_hours"])
    whales = ingest.clean_whales(raw_whales, CURRENCY)
    storage.write_parquet(prices, SCRATCH / paths.prices(CURRENCY))
    storage.write_parquet(whales, SCRATCH / paths.whales(CURRENCY))
    storage.write_parquet(sources.empty_events(), SCRATCH / paths.events(CURRENCY))
    # The measured task is prices and whales (the pandas script has no news): the repo's params without sources.
    repo_params = params.load(REPO / "params.yaml")
    repo_params["features"] = [spec for spec in repo_params["features"] if spec["source"] in ("prices", "whales")]
    repo_params["sources"] = {}
    with open(SCRATCH / "params.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(repo_params, handle, sort_keys=False)


def baseline() -> None:
    """The features as a researcher would write them in pandas, from the same inputs and params."""
    import numpy as np
    import pandas as pd
    from whalecast import features, params, paths

    specs = features.parse_specs(params.section(params.load(), "features"))
    prices = pd.read_parquet(paths.prices(CURRENCY))
    whales = pd.read_parquet(paths.whales(CURRENCY), columns=features.WHALE_INPUT_COLUMNS)
    decision = pd.DataFrame({"timestamp": prices["timestamp"] + pd.Timedelta(hours=1)})
    price_series = {
        "log_return": np.log(prices["close"]).diff(),
        "log_volume_change": np.log1p(prices["volume"]).diff(),
        "high_low_range": np.log(prices["high"] / prices["low"]),
        "filled": prices["filled"].astype(float),
    }
    table = decision.copy()
    for spec in specs:
        if spec.source == "whales":
            table[spec.name] = whale_feature(whales, decision, spec)
        else:
            rolling = price_series[spec.column].rolling(spec.window)
            table[spec.name] = rolling.std() if spec.agg == "std" else getattr(rolling, spec.agg)()
    warmup = max(spec.first_complete_row for spec in specs)
    table.iloc[warmup:].reset_index(drop=True).to_parquet(BASELINE_OUTPUT.relative_to(SCRATCH), index=False)


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


def compare() -> tuple[int, int, list[str]]:
    """Transfer count, feature count, and the columns in which the stage and the baseline disagree."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet

    transfers = pyarrow.parquet.read_metadata(SCRATCH / "data" / "interim" / "whales" / f"{CURRENCY}.parquet").num_rows
    stage, pandas_table = pd.read_parquet(STAGE_OUTPUT), pd.read_parquet(BASELINE_OUTPUT)
    if list(stage.columns) != list(pandas_table.columns) or not stage["timestamp"].equals(pandas_table["timestamp"]):
        return transfers, stage.shape[1] - 1, ["columns or timestamps"]
    features = [column for column in stage.columns if column != "timestamp"]
    # Window sums of $1e10 carry rounding of ~1e-5 USD and net flows cancel, so the absolute tolerance
    # follows each column's scale; a single missed transfer (>= $500k) is still far outside it.
    differ = [name for name in features if not np.allclose(
        stage[name], pandas_table[name], rtol=1e-9, atol=1e-9 * np.abs(stage[name]).max())]
    return transfers, len(features), differ


def run(hours: int, transfers: int, repeats: int) -> int:
    # Everything heavy runs in a child: a child's peak RSS starts at its parent's peak (fork copies it),
    # so this process keeps to the standard library until the measurements are done.
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    measure([__file__, "--generate", "--hours", str(hours), "--transfers", str(transfers)], SCRATCH)
    stage_runs = [measure([str(REPO / "stages" / "featurize.py"), CURRENCY], SCRATCH) for _ in range(repeats)]
    pandas_seconds, pandas_bytes = measure([__file__, "--baseline"], SCRATCH)
    transfer_count, feature_count, differ = compare()

    stage_seconds = [seconds for seconds, _ in stage_runs]
    best, stage_bytes = min(stage_seconds), max(peak for _, peak in stage_runs)
    print(f"featurize benchmark: {hours:,} hours, {transfer_count:,} whale transfers, {feature_count} features")
    print(f"whalecast featurize stage:   {best:.2f} s (median of {repeats} {statistics.median(stage_seconds):.2f} s), "
          f"peak {stage_bytes / MiB:,.0f} MiB")
    print(f"pandas rolling + merge_asof: {pandas_seconds:.2f} s, peak {pandas_bytes / MiB:,.0f} MiB")
    print(f"speed-up: {pandas_seconds / best:.1f}x; outputs match: {'NO, ' + ', '.join(differ) if differ else 'yes'}")
    measured = {"transfers": transfer_count, "features": feature_count,
                "stage_seconds": [round(seconds, 3) for seconds in stage_seconds], "stage_peak_bytes": stage_bytes,
                "pandas_seconds": round(pandas_seconds, 3), "pandas_peak_bytes": pandas_bytes}
    targets = {f"stage under {TARGET_SECONDS:g} s": best < TARGET_SECONDS,
               f"stage peak under {TARGET_BYTES / 1e9:g} GB": stage_bytes < TARGET_BYTES,
               "stage faster than pandas": best < pandas_seconds}
    checks = {"stage and pandas give the same table": not differ}
    return record("featurize", {"hours": hours, "transfers": transfers, "repeats": repeats}, measured, targets, checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=87_660, help="hourly bars (default: 10 years)")
    parser.add_argument("--transfers", type=int, default=2_000_000, help="whale transfers, about (default: 2 million)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the stage (default: 3)")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.hours, args.transfers)
    elif args.baseline:
        baseline()
    else:
        return run(args.hours, args.transfers, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
