"""Benchmark: many currencies. `dvc repro` of the sample market with 2, 5 and 20 currencies, per stage.

Clones the repository into benchmarks/.data/currencies/ and, for each count, sets `currencies` to the first N of
CURRENCIES and runs `dvc repro --force` from ingest to the report, timing every stage as DVC announces it. The
pipeline is sized down (SIZE: 6 months of hours, a few epochs) so that 27 currency pipelines fit in a sitting;
what is measured is how the time grows with the number of currencies, not the default run's minutes (that is
benchmarks/pipeline.py). Two times per stage: as `dvc repro` shows it (from one stage's announcement to the
next, DVC's bookkeeping included) and the stage's own work (its "done in S s" line, after imports). Target: every
kind of stage scales linearly, i.e. its own seconds per currency at 20 currencies are at most LINEAR_SLACK times
those at 2, or at most NOISE_SECONDS more (the report, one stage for all, counted per currency too); DVC's share is
reported beside it. Check: every per-currency stage ran once per currency (a failed run stops the benchmark). Writes
benchmarks/results/currencies.json; exits 1 when the target is missed or a check fails.

    python benchmarks/currencies.py [--counts 2 5 20]
"""

import argparse
import shutil
import subprocess
import sys

import pipeline
import yaml
from common import DONE_LINE, REPO, record

SCRATCH = REPO / "benchmarks" / ".data" / "currencies"
CURRENCIES = ["BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "DOT", "AVAX", "LINK", "LTC", "BCH", "ATOM", "XLM", "ETC",
              "FIL", "NEAR", "APT", "ARB", "OP", "TRX"]
SIZE = {"data.synthetic.hours": 4380, "model.epochs": 4, "model.patience": 2, "model.n_seeds": 2, "model.units": 16,
        "walk_forward.folds": 2, "importance.repeats": 2}
LINEAR_SLACK = 1.3
# A stage of about 0.1 s (backtest, sequence) takes 0.09 to 0.16 s from one run to the next on its own: a ratio of
# two such means says nothing, a difference under this does not count.
NOISE_SECONDS = 0.05


def set_params(changes: dict) -> None:
    path = SCRATCH / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        target = params
        for name in sections:
            target = target[name]
        target[key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2, 5, 20])
    counts = parser.parse_args().counts
    shutil.rmtree(SCRATCH, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(REPO), str(SCRATCH)], check=True)
    pipeline.SCRATCH = SCRATCH  # the pipeline benchmark's timer, pointed at this clone
    set_params(SIZE)
    runs, stage_counts = {}, {}
    for count in counts:
        set_params({"currencies": CURRENCIES[:count]})
        total, stages, log = pipeline.timed_repro()
        kinds = pipeline.by_kind(stages)
        own = {kind: 0.0 for kind in kinds}
        for match in filter(None, map(DONE_LINE.match, log)):
            own[match.group(1)] += float(match.group(2))
        stage_counts[count] = {kind: sum(name.split("@")[0] == kind for name in stages) for kind in kinds}
        runs[count] = {"seconds": round(total, 1), "seconds_by_stage": kinds,
                       "seconds_per_currency": {kind: round(seconds / count, 2) for kind, seconds in kinds.items()},
                       "stage_seconds_per_currency": {kind: round(seconds / count, 2) for kind, seconds in own.items()}}
        print(f"{count} currencies: {total:.0f} s; per currency, dvc repro (the stage's own work): "
              + ", ".join(f"{kind} {kinds[kind] / count:.1f} s ({own[kind] / count:.2f} s)" for kind in kinds))
    low, high = min(counts), max(counts)
    growth, own_growth = ({kind: round(runs[high][key][kind] / runs[low][key][kind], 2) for kind in runs[low][key]}
                          for key in ("seconds_per_currency", "stage_seconds_per_currency"))
    print(f"seconds per currency, {high} over {low} currencies, dvc repro (the stages' own work): "
          + ", ".join(f"{kind} {growth[kind]:.2f}x ({own_growth[kind]:.2f}x)" for kind in growth))
    own_low, own_high = (runs[count]["stage_seconds_per_currency"] for count in (low, high))
    targets = {f"every stage's own seconds per currency at {high} currencies within {LINEAR_SLACK}x (or "
               f"{NOISE_SECONDS} s) of those at {low}": all(own_high[kind] <= max(LINEAR_SLACK * own_low[kind],
                                                                  own_low[kind] + NOISE_SECONDS) for kind in own_low)}
    # No check that every run completed: timed_repro exits on a failed `dvc repro`, so none is recorded.
    checks = {"each per-currency stage ran once per currency": all(
        ran == count for count, kinds in stage_counts.items() for kind, ran in kinds.items() if kind != "report")}
    # The code measured is the repository's last commit (cloned); only the sizes above differ from its params.
    return record("currencies", {"counts": counts, "params": SIZE},
                  {"runs": runs, "growth": growth, "stage_growth": own_growth}, targets, checks,
                  checkout=SCRATCH, own_params=True)


if __name__ == "__main__":
    sys.exit(main())
