"""Benchmark figures, rendered from the results the benchmarks write to benchmarks/results/.

`make docs` replaces the block between START and END in benchmarks/README.md with `block(read())`, and the
README's two commands (between COMMANDS_START and COMMANDS_END) with `commands(read())`; a test checks both
copies, so no benchmark figure is typed by hand. Each result states the size, commit and CPU it was run at.

    python benchmarks/figures.py README.md benchmarks/README.md
"""

import json
import statistics
import sys
from pathlib import Path

from common import RESULTS, MiB, verdict

from whalecast.reporting import report

START, END = "<!-- benchmarks: generated from benchmarks/results by make docs -->", "<!-- end of benchmarks -->"
COMMANDS_START, COMMANDS_END = ("<!-- commands: generated from benchmarks/results/fresh_clone.json by make docs -->",
                                "<!-- end of commands -->")


def duration(seconds: float) -> str:
    """2 min 24 s; 45 s."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def fresh_clone(result: dict) -> list[str]:
    measured = result["measured"]
    return [
        "| on a fresh clone | `make install` (the set-up both share) | `make repro` | `make test` |",
        "| --- | --- | --- | --- |",
        f"| wall time | {duration(measured['install_seconds'])} | {duration(measured['repro_seconds'])} | "
        f"{duration(measured['test_seconds'])} ({measured['tests_passed']:,} tests) |",
    ]


def commands(results: dict[str, dict | None]) -> str:
    """The README's two commands, each with the time it takes on a fresh clone, markers included."""
    result = results.get("fresh_clone")
    lines = [COMMANDS_START, "", "```bash",
             "make repro   # set up .venv (Python 3.11, pinned packages), then `dvc repro` on the built-in sample market",
             "make test    # the same set-up, then the tests: real pandas, real dvc, real Keras, no network",
             "```", ""]
    if result is None:
        lines.append("Their times: not measured yet (`python benchmarks/fresh_clone.py`, then `make docs`).")
    else:
        measured = result["measured"]
        lines.append(f"On a fresh clone ({result['cores']} cores, {result['cpu']}, commit `{result['commit'][:7]}`): "
                     f"the set-up takes {duration(measured['install_seconds'])} (once; pip's download cache as that "
                     f"machine had it), then `make repro` {duration(measured['repro_seconds'])} and `make test` "
                     f"{duration(measured['test_seconds'])} ({measured['tests_passed']:,} tests).")
    return "\n".join([*lines, "", COMMANDS_END])


def pipeline(result: dict) -> list[str]:
    size, measured = result["size"], result["measured"]
    stages = measured["seconds_by_stage"]
    return [
        f"`dvc repro --force` of the default params in a fresh clone ({' and '.join(size['currencies'])}, "
        f"{size['stages']} stages): {measured['seconds']:.1f} s in all, the largest stage process peaking at "
        f"{measured['peak_bytes'] / MiB:,.0f} MiB.",
        "",
        f"| stage ({' + '.join(size['currencies'])}) | " + " | ".join(stages) + " |",
        "| --- | " + " | ".join("---" for _ in stages) + " |",
        "| seconds | " + " | ".join(f"{seconds:.1f}" for seconds in stages.values()) + " |",
    ]


def featurize(result: dict) -> list[str]:
    size, measured = result["size"], result["measured"]
    lines = [
        f"{size['hours']:,} hours, {measured['transfers']:,} whale transfers, {measured['features']} features, "
        f"from raw files; medians of {size['repeats']} runs each:",
        "",
        "| whales as | `dvc repro featurize` | of it: ingest + featurize own work | DVC alone | the stages without "
        "DVC | peak | pandas script | peak | ratio (single pairs) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for whale_format in ("csv", "pages"):
        run = measured[whale_format]
        own = " + ".join(f"{seconds:.2f}" for seconds in run["stage_seconds"].values())
        pairs = [repro / pandas for repro, pandas in zip(run["repro_seconds"], run["pandas_seconds"])]
        lines.append(f"| {whale_format} | {statistics.median(run['repro_seconds']):.2f} s | {own} s | "
                     f"{run['dvc_alone_seconds']:.2f} s | {run['stages_without_dvc_seconds']:.2f} s | "
                     f"{run['repro_peak_bytes'] / MiB:,.0f} MiB | {statistics.median(run['pandas_seconds']):.2f} s | "
                     f"{run['pandas_peak_bytes'] / MiB:,.0f} MiB | {run['ratio']:.2f} ({min(pairs):.2f} to "
                     f"{max(pairs):.2f}) |")
    return lines + ["", "Ratio: of the medians; in brackets, the lowest and the highest of a repro over the pandas "
                        "run next to it (the two run in turns), which shows how much the machine's load moves it. "
                        "DVC alone: the same repro with each stage's command replaced by copying in the files it "
                        "wrote (DVC hashing the raw files and the outputs, caching them, writing the lock). The "
                        "stages without DVC: `python stages/ingest.py BTC` then `python stages/featurize.py BTC`, "
                        "each a plain process (Python start-up and imports included), the like-for-like comparison "
                        "with the pandas script."]


def sequence(result: dict) -> list[str]:
    size, measured = result["size"], result["measured"]
    rates, growth = measured["throughput"], measured["growth"]
    short, long = size["seq_lens"]
    lines = [
        f"{size['hours']:,} hours ({rates['windows']:,} training windows at `seq_len` {short}):",
        "",
        "| seq_len | artifact | sequence peak | train peak (1 epoch) | sequence | train (1 epoch) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for seq_len, row in measured["by_seq_len"].items():
        lines.append(f"| {seq_len} | {row['artifact_bytes'] / MiB:.2f} MiB | {row['sequence_peak_bytes'] / MiB:,.0f} MiB | "
                     f"{row['train_peak_bytes'] / MiB:,.0f} MiB | {row['sequence_seconds']:.1f} s | "
                     f"{row['train_seconds']:.1f} s |")
    low, high = rates["lazy_share_range"]
    return lines + [
        "",
        f"Ratios {long}/{short}: artifact {growth['artifact_bytes']:.3f}, sequence peak "
        f"{growth['sequence_peak_bytes']:.3f}, train peak {growth['train_peak_bytes']:.3f}. Training throughput "
        f"over {len(rates['lazy_seconds'])} epochs of each, alternating: in the median epoch, lazy windows "
        f"{rates['lazy_per_second']:,.0f} windows/s and the materialised array {rates['materialised_per_second']:,.0f}/s; "
        f"in the median of the lazy/array pairs (each under the same load), lazy at {rates['lazy_share']:.0%} "
        f"(single pairs {low:.0%} to {high:.0%}). The array alone takes {rates['materialised_bytes'] / MiB:,.0f} MiB "
        f"at `seq_len` {short}.",
    ]


def currencies(result: dict) -> list[str]:
    size, measured = result["size"], result["measured"]
    runs = measured["runs"]
    kinds = list(measured["growth"])
    sized = ", ".join(f"{key} {value}" for key, value in size["params"].items())
    low, high = min(size["counts"]), max(size["counts"])

    def cells(values: dict, decimals: int = 1, unit: str = "") -> str:
        return " | ".join(f"{values[kind]:.{decimals}f}{unit}" for kind in kinds)

    return [
        f"`dvc repro --force` of the sample market with {', '.join(map(str, size['counts']))} currencies, sized "
        f"down ({sized}); seconds per currency for each kind of stage, as `dvc repro` shows them and (in the rows "
        "below) the stages' own work (from the stage's start, after Python's start-up and imports, to its outputs "
        "written; the rest is the interpreter, the imports and DVC's bookkeeping):",
        "",
        "| currencies | whole run | " + " | ".join(kinds) + " |",
        "| --- | --- | " + " | ".join("---" for _ in kinds) + " |",
        *(f"| {count} | {run['seconds']:.0f} s | {cells(run['seconds_per_currency'])} |" for count, run in runs.items()),
        f"| growth per currency, {high} over {low} | | {cells(measured['growth'], 2, 'x')} |",
        *(f"| {count}, own work | | {cells(run['stage_seconds_per_currency'], 2)} |" for count, run in runs.items()),
        f"| own work growth, {high} over {low} | | {cells(measured['stage_growth'], 2, 'x')} |",
    ]


RENDER = {"fresh_clone": fresh_clone, "pipeline": pipeline, "featurize": featurize, "sequence": sequence,
          "currencies": currencies}  # in the order benchmarks/README.md shows them


def section(name: str, result: dict | None) -> list[str]:
    """One benchmark: when, where and what was measured, its verdict, its targets and checks, its figures."""
    script = f"`benchmarks/{name}.py`"
    if result is None:
        return [f"{script}: not measured yet (run it, then `make docs`)."]
    changes = " with uncommitted changes" if result["uncommitted_changes"] else ""
    claims = [f"{claim}: {'yes' if held else 'NO'}" for claim, held in {**result["targets"], **result["checks"]}.items()]
    return [
        f"{script}, measured {result['date']} at commit `{result['commit'][:7]}`{changes} on {result['cores']} cores "
        f"of {result['cpu']}: "
        f"**{verdict(result)}**. Targets and checks: {'; '.join(claims)}.",
        "",
        *RENDER[name](result),
    ]


def read(results: Path = RESULTS) -> dict[str, dict | None]:
    """Each benchmark's result file, None where it has not been written."""
    paths = {name: results / f"{name}.json" for name in RENDER}
    return {name: json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
            for name, path in paths.items()}


def block(results: dict[str, dict | None]) -> str:
    """The benchmark figures of benchmarks/README.md, markers included."""
    lines = [START, ""]
    for name in RENDER:
        lines += [*section(name, results.get(name)), ""]
    return "\n".join([*lines, END])


def update(readme: Path, benchmarks_readme: Path, results: Path = RESULTS) -> None:
    """Replace the README's commands and benchmarks/README.md's figures with the rendering of the result files."""
    rendered = read(results)
    report.replace_marked_block(readme, commands(rendered), COMMANDS_START, COMMANDS_END)
    report.replace_marked_block(benchmarks_readme, block(rendered), START, END)


if __name__ == "__main__":
    update(Path(sys.argv[1]), Path(sys.argv[2]))
