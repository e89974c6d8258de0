"""Benchmark: the sequence artifact and memory do not grow with seq_len; lazy windows train as fast as arrays.

Runs the real stages in the git-ignored scratch project benchmarks/.data/sequence/ on a synthetic BTC market
(10 years of hours by default), each in its own process:
1. `ingest` and `featurize` once; then for seq_len 24 and 96: `sequence` (artifact bytes, peak memory) and a
   one-epoch `train` (peak memory). Target: the 96/24 ratio of each stays under 1.2.
2. Training throughput (windows per second) of the LSTM fed by the lazy window dataset the train stage
   uses, against the same model fit on a materialised (windows, seq_len, features) array. Target: lazy >= 90%
   of materialised. One epoch takes seconds, so the load of a shared machine moves it: after a warm-up the
   two alternate epoch by epoch (lazy, array, lazy, ...) and the target is on the median of the pairs' ratios.
Checks, at each seq_len, that what is timed is right: the artifact reads back as the stage computed it (the
feature table through the saved scaler), and the lazy windows equal the materialised windows, each of
seq_len consecutive hours, on a sample of window ends from every part.
Writes the figures to benchmarks/results/sequence.json; exits 1 when a target is missed or a check fails.

    make benchmark                                         # with the other benchmarks
    python benchmarks/sequence.py --hours 8000 --repeats 3  # quick
"""

import argparse
import json
import shutil
import statistics
import sys

from common import REPO, MiB, measure, record

SCRATCH = REPO / "benchmarks" / ".data" / "sequence"
CURRENCY = "BTC"
SEQ_LENS = (24, 96)
MAX_GROWTH, MIN_THROUGHPUT_SHARE = 1.2, 0.9
SAMPLED_ENDS = 200  # window ends checked per part


def set_params(**changes) -> None:
    from whalecast import settings

    settings.update_file(SCRATCH / "params.yaml", changes)


def stage(name: str) -> tuple[float, int]:
    return measure([str(REPO / "stages" / f"{name}.py"), CURRENCY], SCRATCH)


def child_json(*options: str) -> dict:
    """The JSON line a child run of this script (`--check`, `--throughput`) prints last."""
    measure([__file__, *options], SCRATCH)
    return json.loads((SCRATCH / "child.log").read_text().strip().splitlines()[-1])


def check(seq_len: int) -> None:
    """In a child: whether the artifact reads back as computed and the lazy windows are right; one JSON line."""
    import dataclasses

    import numpy as np
    import pandas as pd
    from whalecast import paths, storage
    from whalecast.modeling import lstm, scaling, sequences

    samples = sequences.Samples.read(paths.sequences(CURRENCY))
    features = storage.read_parquet(paths.features(CURRENCY))
    scaler = scaling.Scaler.load(paths.scaler(CURRENCY))
    scaled = scaler.transform(features)
    reads_back = (samples.seq_len == seq_len and scaler.columns == samples.columns
                  and samples.timestamps.equals(features["timestamp"])
                  and np.array_equal(samples.features, scaled))

    ends = np.concatenate([part[np.linspace(0, len(part) - 1, SAMPLED_ENDS).astype(int)]
                           for part in samples.ends.values()])

    def lazy(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        checked = dataclasses.replace(samples, features=rows, ends={"checked": ends})
        batches = list(lstm.window_dataset(checked, "checked", batch_size=256))
        return tuple(np.concatenate([tensor.numpy() for tensor in parts]) for parts in zip(*batches))

    lazy_windows, lazy_labels = lazy(samples.features)
    # Expected windows from row numbers and the table's own timestamps, not from lstm's offsets or the sample
    # arrays: fed a feature that is each row's hour, a window must read seq_len consecutive hours ending at T.
    rows = ends[:, None] + np.arange(-seq_len + 1, 1)
    hours = ((features["timestamp"] - features["timestamp"].iloc[0]) // pd.Timedelta(hours=1)).to_numpy(np.float32)
    hour_windows, _ = lazy(hours[:, None])
    windows_right = (np.array_equal(lazy_windows, scaled[rows]) and np.array_equal(lazy_labels, samples.labels[ends])
                     and np.array_equal(hour_windows[..., 0], hours[ends][:, None] + np.arange(-seq_len + 1, 1)))
    print(json.dumps({"reads_back": bool(reads_back), "windows_right": windows_right, "windows_checked": len(ends)}))


def throughput(repeats: int) -> None:
    """In a child: seconds per training epoch, lazy windows and materialised array in turn; one JSON line."""
    import time

    from whalecast import paths, settings
    from whalecast.modeling import lstm, sequences

    model = settings.load(lstm.ModelSettings, settings.read())
    samples = sequences.Samples.read(paths.sequences(CURRENCY))
    ends = samples.ends["train"]
    materialised, labels = samples.windows("train"), samples.labels[ends]

    lstm.make_deterministic(model.seed)
    lazy_model = lstm.build_model(samples.seq_len, samples.features.shape[1], model)
    lazy = lstm.window_dataset(samples, "train", model.batch_size, shuffle_seed=model.seed)
    array_model = lstm.build_model(samples.seq_len, samples.features.shape[1], model)
    fits = {
        "lazy": lambda: lazy_model.fit(lazy, epochs=1, shuffle=False, verbose=0),
        "materialised": lambda: array_model.fit(materialised, labels, batch_size=model.batch_size, epochs=1,
                                                shuffle=True, verbose=0),
    }
    for fit in fits.values():
        fit()  # warm-up: graph tracing and first allocations
    seconds = {name: [] for name in fits}
    for _ in range(repeats):
        for name, fit in fits.items():
            start = time.perf_counter()
            fit()
            seconds[name].append(round(time.perf_counter() - start, 4))
    print(json.dumps({"windows": len(ends), "materialised_bytes": materialised.nbytes,
                      **{f"{name}_seconds": values for name, values in seconds.items()}}))


def throughput_figures(timed: dict) -> dict:
    """Medians of the timed epochs, and the lazy share of each lazy/array pair (same load) with its median."""
    shares = [array / lazy for lazy, array in zip(timed["lazy_seconds"], timed["materialised_seconds"])]
    return {**timed,
            "lazy_per_second": round(timed["windows"] / statistics.median(timed["lazy_seconds"]), 1),
            "materialised_per_second": round(timed["windows"] / statistics.median(timed["materialised_seconds"]), 1),
            "lazy_share": round(statistics.median(shares), 4),
            "lazy_share_range": [round(min(shares), 4), round(max(shares), 4)]}


def run(hours: int, repeats: int) -> int:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", SCRATCH / "params.yaml")
    set_params(**{"currencies": [CURRENCY], "data.synthetic.hours": hours, "data.synthetic.start": "2015-01-01"})
    stage("ingest")
    stage("featurize")

    rows, checks = {}, {}
    for seq_len in SEQ_LENS:
        set_params(seq_len=seq_len, **{"model.epochs": 1})
        sequence_seconds, sequence_peak = stage("sequence")
        artifact = sum((SCRATCH / path).stat().st_size for path in ("data/sequences/BTC.parquet",
                                                                      "models/BTC/scaler_BTC.json"))
        train_seconds, train_peak = stage("train")
        rows[seq_len] = dict(artifact_bytes=artifact, sequence_peak_bytes=sequence_peak, train_peak_bytes=train_peak,
                             sequence_seconds=round(sequence_seconds, 3), train_seconds=round(train_seconds, 3))
        checked = child_json("--check", str(seq_len))
        checks[f"seq_len {seq_len}: the artifact reads back as the stage computed it"] = checked["reads_back"]
        checks[f"seq_len {seq_len}: lazy windows equal the materialised ones "
               f"({checked['windows_checked']} sampled)"] = checked["windows_right"]

    set_params(seq_len=SEQ_LENS[0])
    stage("sequence")
    rates = throughput_figures(child_json("--throughput", "--repeats", str(repeats)))
    growth = {key: round(rows[SEQ_LENS[1]][key] / rows[SEQ_LENS[0]][key], 4)
              for key in ("artifact_bytes", "sequence_peak_bytes", "train_peak_bytes")}

    print(f"sequence benchmark: {hours:,} hours, {rates['windows']:,} training windows at seq_len {SEQ_LENS[0]}")
    print(f"{'seq_len':>8} {'artifact':>12} {'sequence peak':>14} {'train peak':>11} {'sequence':>9} {'1-epoch train':>14}")
    for seq_len, row in rows.items():
        print(f"{seq_len:>8} {row['artifact_bytes'] / MiB:>8.2f} MiB {row['sequence_peak_bytes'] / MiB:>10,.0f} MiB "
              f"{row['train_peak_bytes'] / MiB:>7,.0f} MiB {row['sequence_seconds']:>7.1f} s "
              f"{row['train_seconds']:>12.1f} s")
    print(f"ratio {SEQ_LENS[1]}/{SEQ_LENS[0]}: " + ", ".join(f"{key} {value:.3f}" for key, value in growth.items()))
    print(f"training throughput, median epoch of {repeats}: lazy windows {rates['lazy_per_second']:,.0f}/s, materialised "
          f"array {rates['materialised_per_second']:,.0f}/s ({rates['materialised_bytes'] / MiB:,.0f} MiB); median of "
          f"the {repeats} alternating pairs: lazy at {rates['lazy_share']:.0%} (pairs {rates['lazy_share_range'][0]:.0%}"
          f" to {rates['lazy_share_range'][1]:.0%})")

    targets = {f"ratio {SEQ_LENS[1]}/{SEQ_LENS[0]} under {MAX_GROWTH:g}": max(growth.values()) < MAX_GROWTH,
               f"lazy throughput at least {MIN_THROUGHPUT_SHARE:.0%} of materialised":
                   rates["lazy_share"] >= MIN_THROUGHPUT_SHARE}
    measured = {"by_seq_len": {str(seq_len): row for seq_len, row in rows.items()}, "growth": growth,
                "throughput": rates}
    size = {"hours": hours, "seq_lens": list(SEQ_LENS), "repeats": repeats}
    return record("sequence", size, measured, targets, checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=87_660, help="hourly bars (default: 10 years)")
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs of each kind, alternating (default: 7)")
    parser.add_argument("--check", type=int, metavar="SEQ_LEN", help=argparse.SUPPRESS)
    parser.add_argument("--throughput", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        check(args.check)
    elif args.throughput:
        throughput(args.repeats)
    else:
        return run(args.hours, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
