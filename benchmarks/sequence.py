"""Benchmark: the sequence artifact and memory do not grow with seq_len; lazy windows train as fast as arrays.

Runs the real stages in the git-ignored scratch project benchmarks/.data/sequence/ on a synthetic BTC market
(10 years of hours by default), each in its own process:
1. `ingest` and `featurize` once; then for seq_len 24 and 96: `sequence` (artifact bytes, peak memory) and a
   one-epoch `train` (peak memory). Target: the 96/24 ratio of each stays under 1.2.
2. Training throughput (windows per second, best of a few epochs after a warm-up) of the LSTM fed by the
   lazy window dataset the train stage uses, against the same model fit on a materialised
   (windows, seq_len, features) array. Target: lazy >= 90% of materialised.
Targets are reported, not enforced: timings depend on the machine.

    make benchmark                                       # with the featurize benchmark
    python benchmarks/sequence.py --hours 8000 --epochs 2  # quick
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

from common import MiB, measure

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO / "benchmarks" / ".data" / "sequence"
CURRENCY = "BTC"
SEQ_LENS = (24, 96)
MAX_GROWTH, MIN_THROUGHPUT_SHARE = 1.2, 0.9


def set_params(**changes) -> None:
    from whalecast import params

    params.update_file(SCRATCH / "params.yaml", changes)


def stage(name: str) -> tuple[float, int]:
    return measure([str(REPO / "stages" / f"{name}.py"), CURRENCY], SCRATCH)


def throughput(epochs: int) -> None:
    """In a child: windows per second of lazy and materialised training; prints one JSON line."""
    import time

    import numpy as np
    from whalecast import lstm, params, sequences

    all_params = params.load()
    seq_len = all_params["seq_len"]
    settings = params.build(lstm.ModelSettings, all_params["model"], "model")
    samples = sequences.Samples.read(CURRENCY, seq_len)
    ends = samples.ends["train"]
    materialised = samples.features[ends[:, None] + np.arange(-seq_len + 1, 1)[None, :]]
    labels = samples.labels[ends]

    def best_rate(fit_one_epoch) -> float:
        fit_one_epoch()  # warm-up: graph tracing and first allocations
        seconds = []
        for _ in range(epochs):
            start = time.perf_counter()
            fit_one_epoch()
            seconds.append(time.perf_counter() - start)
        return len(ends) / min(seconds)

    lstm.make_deterministic(settings.seed)
    lazy_model = lstm.build_model(seq_len, samples.features.shape[1], settings)
    lazy = lstm.window_dataset(samples.features, samples.labels, ends, seq_len, settings.batch_size,
                               shuffle_seed=settings.seed)
    lazy_rate = best_rate(lambda: lazy_model.fit(lazy, epochs=1, shuffle=False, verbose=0))
    array_model = lstm.build_model(seq_len, samples.features.shape[1], settings)
    array_rate = best_rate(lambda: array_model.fit(materialised, labels, batch_size=settings.batch_size, epochs=1,
                                                   shuffle=True, verbose=0))
    print(json.dumps({"windows": len(ends), "lazy": lazy_rate, "materialised": array_rate,
                      "materialised_bytes": materialised.nbytes}))


def run(hours: int, epochs: int) -> int:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", SCRATCH / "params.yaml")
    set_params(**{"currencies": [CURRENCY], "data.synthetic.hours": hours, "data.synthetic.start": "2015-01-01"})
    stage("ingest")
    stage("featurize")

    rows = {}
    for seq_len in SEQ_LENS:
        set_params(seq_len=seq_len, **{"model.epochs": 1})
        sequence_seconds, sequence_peak = stage("sequence")
        artifact = sum((SCRATCH / path).stat().st_size for path in ("data/sequences/BTC.parquet",
                                                                      "models/BTC/scaler_BTC.json"))
        train_seconds, train_peak = stage("train")
        rows[seq_len] = dict(artifact=artifact, sequence_peak=sequence_peak, train_peak=train_peak,
                             sequence_seconds=sequence_seconds, train_seconds=train_seconds)

    set_params(seq_len=SEQ_LENS[0])
    stage("sequence")
    measure([__file__, "--throughput", "--epochs", str(epochs)], SCRATCH)
    rates = json.loads((SCRATCH / "child.log").read_text().strip().splitlines()[-1])

    print(f"sequence benchmark: {hours:,} hours, {rates['windows']:,} training windows at seq_len {SEQ_LENS[0]}")
    print(f"{'seq_len':>8} {'artifact':>12} {'sequence peak':>14} {'train peak':>11} {'sequence':>9} {'1-epoch train':>14}")
    for seq_len, row in rows.items():
        print(f"{seq_len:>8} {row['artifact'] / MiB:>8.2f} MiB {row['sequence_peak'] / MiB:>10,.0f} MiB "
              f"{row['train_peak'] / MiB:>7,.0f} MiB {row['sequence_seconds']:>7.1f} s {row['train_seconds']:>12.1f} s")
    growth = {key: rows[SEQ_LENS[1]][key] / rows[SEQ_LENS[0]][key] for key in ("artifact", "sequence_peak", "train_peak")}
    print("ratio 96/24: " + ", ".join(f"{key} {value:.3f}" for key, value in growth.items()))
    share = rates["lazy"] / rates["materialised"]
    print(f"training throughput: lazy windows {rates['lazy']:,.0f}/s, materialised array {rates['materialised']:,.0f}/s "
          f"({rates['materialised_bytes'] / MiB:,.0f} MiB) -> lazy at {share:.0%}")
    met = max(growth.values()) < MAX_GROWTH and share >= MIN_THROUGHPUT_SHARE
    print(f"target (ratio < {MAX_GROWTH}, lazy >= {MIN_THROUGHPUT_SHARE:.0%} of materialised): "
          f"{'met' if met else 'NOT met'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=87_660, help="hourly bars (default: 10 years)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per throughput run (default: 3)")
    parser.add_argument("--throughput", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput:
        throughput(args.epochs)
        return 0
    return run(args.hours, args.epochs)


if __name__ == "__main__":
    sys.exit(main())
