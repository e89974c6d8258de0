"""Benchmark figures are rendered from benchmarks/results files, never typed (tests/unit/test_docs.py checks that the
committed README and benchmarks/README.md show the rendering of the committed results)."""

import json
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))  # the benchmarks are scripts, not a package
import figures  # noqa: E402

MiB = 2**20


def result(name, size, measured, targets, checks, uncommitted=False):
    return {"benchmark": name, "date": "2025-01-31", "commit": "0123456789abcdef" * 2 + "01234567",
            "uncommitted_changes": uncommitted, "cores": 2, "cpu": "Some CPU (AVX2, no AVX-512)", "size": size,
            "measured": measured,
            "targets": targets, "checks": checks}


FEATURIZE = result(
    "featurize", {"hours": 87_600, "transfers": 2_000_000, "repeats": 3},
    {"csv": {"repro_seconds": [4.1, 3.9, 4.0], "repro_peak_bytes": 900 * MiB,
             "stage_seconds": {"ingest": 1.9, "featurize": 0.52}, "dvc_alone_seconds": 1.5,
             "stages_without_dvc_seconds": 2.7,
             "pandas_seconds": [4.2, 4.4, 4.3],
             "pandas_peak_bytes": 1050 * MiB, "ratio": 0.93},
     "pages": {"repro_seconds": [11.0, 10.0, 12.0], "repro_peak_bytes": 1500 * MiB,
               "stage_seconds": {"ingest": 8.1, "featurize": 0.5}, "dvc_alone_seconds": 5.5,
               "stages_without_dvc_seconds": 6.4,
               "pandas_seconds": [35.0, 36.0, 34.0],
               "pandas_peak_bytes": 5000 * MiB, "ratio": 0.31},
     "transfers": 1_999_123, "features": 17},
    {"whales as csv: dvc repro no slower than pandas": True, "whales as csv: peak under 2 GB": True,
     "whales as pages: dvc repro no slower than pandas": True, "whales as pages: peak under 2 GB": True},
    {"whales as csv: dvc repro and pandas give the same table": True,
     "whales as pages: dvc repro and pandas give the same table": True})
SEQUENCE = result(
    "sequence", {"hours": 87_660, "seq_lens": [24, 96], "repeats": 3},
    {"by_seq_len": {"24": {"artifact_bytes": 10.07 * MiB, "sequence_peak_bytes": 284 * MiB,
                           "train_peak_bytes": 980 * MiB, "sequence_seconds": 2.0, "train_seconds": 30.0},
                    "96": {"artifact_bytes": 10.07 * MiB, "sequence_peak_bytes": 284 * MiB,
                           "train_peak_bytes": 1126 * MiB, "sequence_seconds": 2.1, "train_seconds": 80.0}},
     "growth": {"artifact_bytes": 1.0, "sequence_peak_bytes": 1.0, "train_peak_bytes": 1.149},
     "throughput": {"windows": 61_298, "materialised_bytes": 168 * MiB, "lazy_seconds": [2.0, 1.8, 1.9],
                    "materialised_seconds": [1.6, 2.0, 1.9], "lazy_per_second": 32262.1,
                    "materialised_per_second": 32262.1, "lazy_share": 1.0, "lazy_share_range": [0.8, 1.1111]}},
    {"ratio 96/24 under 1.2": True, "lazy throughput at least 90% of materialised": True},
    {"seq_len 24: lazy windows equal the materialised ones (600 sampled)": True})
PIPELINE = result(
    "pipeline", {"currencies": ["BTC", "ETH"], "stages": 15},
    {"seconds": 141.04, "seconds_by_stage": {"ingest": 2.0, "train": 46.12, "report": 2.8},
     "peak_bytes": 1126 * MiB},
    {"whole pipeline under 300 s": False},
    {"the metrics files equal the committed ones": True, "`git status` in the clone is clean": False},
    uncommitted=True)


def test_a_hand_made_result_renders_as_its_tables_and_sentences():
    text = figures.block({"featurize": FEATURIZE, "sequence": SEQUENCE, "pipeline": PIPELINE})
    assert text.startswith(figures.START) and text.endswith(figures.END)
    assert ("`benchmarks/featurize.py`, measured 2025-01-31 at commit `0123456` on 2 cores of Some CPU (AVX2, no "
            "AVX-512): **PASS, every target "
            "met and every check held**. Targets and checks: whales as csv: dvc repro no slower than pandas: yes; "
            "whales as csv: peak under 2 GB: yes;") in text
    assert "87,600 hours, 1,999,123 whale transfers, 17 features, from raw files; medians of 3 runs each:" in text
    # Single pairs: 4.1 / 4.2, 3.9 / 4.4, 4.0 / 4.3; and 11 / 35, 10 / 36, 12 / 34.
    assert ("| csv | 4.00 s | 1.90 + 0.52 s | 1.50 s | 2.70 s | 900 MiB | 4.30 s | 1,050 MiB | 0.93 (0.89 to 0.98) |"
            in text)
    assert ("| pages | 11.00 s | 8.10 + 0.50 s | 5.50 s | 6.40 s | 1,500 MiB | 35.00 s | 5,000 MiB | 0.31 (0.28 to "
            "0.35) |" in text)

    assert "| 24 | 10.07 MiB | 284 MiB | 980 MiB | 2.0 s | 30.0 s |" in text
    assert "| 96 | 10.07 MiB | 284 MiB | 1,126 MiB | 2.1 s | 80.0 s |" in text
    assert "87,660 hours (61,298 training windows at `seq_len` 24):" in text
    assert ("Ratios 96/24: artifact 1.000, sequence peak 1.000, train peak 1.149. Training throughput over 3 epochs "
            "of each, alternating: in the median epoch, lazy windows 32,262 windows/s and the materialised array "
            "32,262/s; in the median of the lazy/array pairs (each under the same load), lazy at 100% (single pairs "
            "80% to 111%). The array alone takes 168 MiB at `seq_len` 24.") in text

    assert ("`benchmarks/pipeline.py`, measured 2025-01-31 at commit `0123456` with uncommitted changes on 2 cores "
            "of Some CPU (AVX2, no AVX-512): "
            "**FAIL, not so: whole pipeline under 300 s; `git status` in the clone is clean**.") in text
    assert "the metrics files equal the committed ones: yes; `git status` in the clone is clean: NO." in text
    assert ("`dvc repro --force` of the default params in a fresh clone (BTC and ETH, 15 stages): 141.0 s in all, "
            "the largest stage process peaking at 1,126 MiB.") in text
    assert ("| stage (BTC + ETH) | ingest | train | report |\n| --- | --- | --- | --- |\n"
            "| seconds | 2.0 | 46.1 | 2.8 |") in text
    assert text.index("benchmarks/pipeline.py") < text.index("benchmarks/featurize.py") < text.index(
        "benchmarks/sequence.py")


def test_a_benchmark_without_a_result_file_says_how_to_measure_it(tmp_path):
    (tmp_path / "featurize.json").write_text(json.dumps(FEATURIZE))
    results = figures.read(tmp_path)
    assert results["featurize"] == FEATURIZE and results["sequence"] is None
    assert "`benchmarks/sequence.py`: not measured yet (run it, then `make docs`)." in figures.block(results)
    assert "Their times: not measured yet (`python benchmarks/fresh_clone.py`, then `make docs`)." in figures.commands(
        results)


FRESH_CLONE = result(
    "fresh_clone", {"commands": ["make install", "make repro", "make test"]},
    {"install_seconds": 139.4, "repro_seconds": 144.0, "test_seconds": 59.6, "tests_passed": 1061},
    {"make test at most 300 s": True, "make repro at most 180 s": True},
    {"make repro left `git status` clean": True, "make test passed": True})


def test_the_two_commands_carry_their_fresh_clone_times():
    text = figures.commands({"fresh_clone": FRESH_CLONE})
    assert text.startswith(figures.COMMANDS_START) and text.endswith(figures.COMMANDS_END)
    assert "make repro   #" in text and "make test    #" in text
    assert ("On a fresh clone (2 cores, Some CPU (AVX2, no AVX-512), commit `0123456`): the set-up takes 2 min 19 s "
            "(once; pip's download cache as that machine had it), then `make repro` 2 min 24 s and `make test` 1 min "
            "0 s (1,061 tests).") in text
    assert "| wall time | 2 min 19 s | 2 min 24 s | 1 min 0 s (1,061 tests) |" in figures.block({"fresh_clone": FRESH_CLONE})


def test_update_replaces_only_the_generated_blocks(tmp_path):
    (tmp_path / "pipeline.json").write_text(json.dumps(PIPELINE))
    (tmp_path / "fresh_clone.json").write_text(json.dumps(FRESH_CLONE))
    readme, benchmarks = tmp_path / "README.md", tmp_path / "benchmarks.md"
    readme.write_text(f"intro\n\n{figures.COMMANDS_START}\nmake typed\n{figures.COMMANDS_END}\n\nmore\n")
    benchmarks.write_text(f"intro\n\n{figures.START}\n| typed | 1.0 s |\n{figures.END}\n\nmore\n")
    figures.update(readme, benchmarks, tmp_path)
    rendered = figures.read(tmp_path)
    assert readme.read_text() == f"intro\n\n{figures.commands(rendered)}\n\nmore\n"
    assert benchmarks.read_text() == f"intro\n\n{figures.block(rendered)}\n\nmore\n"
    assert "141.0 s in all" in benchmarks.read_text() and "2 min 24 s" in readme.read_text()


CURRENCIES = result(
    "currencies", {"counts": [2, 20], "params": {"data.synthetic.hours": 4380, "model.epochs": 4}},
    {"runs": {"2": {"seconds": 62.0, "seconds_by_stage": {"ingest": 2.0, "train": 17.8},
                    "seconds_per_currency": {"ingest": 1.0, "train": 8.9},
                    "stage_seconds_per_currency": {"ingest": 0.7, "train": 8.5}},
              "20": {"seconds": 601.0, "seconds_by_stage": {"ingest": 30.0, "train": 180.0},
                     "seconds_per_currency": {"ingest": 1.5, "train": 9.0},
                     "stage_seconds_per_currency": {"ingest": 0.7, "train": 8.6}}},
     "growth": {"ingest": 1.5, "train": 1.01}, "stage_growth": {"ingest": 1.0, "train": 1.01}},
    {"every stage's own seconds per currency at 20 currencies within 1.3x of those at 2": True},
    {"each per-currency stage ran once per currency": True})


def test_the_currency_scaling_renders_seconds_per_currency_and_their_growth():
    text = figures.block({"currencies": CURRENCIES})
    assert ("`dvc repro --force` of the sample market with 2, 20 currencies, sized down (data.synthetic.hours 4380, "
            "model.epochs 4); seconds per currency for each kind of stage, as `dvc repro` shows them and (in the rows "
            "below) the stages' own work (from the stage's start, after Python's start-up and imports, to its outputs "
            "written; the rest is the interpreter, the imports and DVC's bookkeeping):") in text
    assert ("| currencies | whole run | ingest | train |\n| --- | --- | --- | --- |\n| 2 | 62 s | 1.0 | 8.9 |\n"
            "| 20 | 601 s | 1.5 | 9.0 |\n| growth per currency, 20 over 2 | | 1.50x | 1.01x |\n"
            "| 2, own work | | 0.70 | 8.50 |\n| 20, own work | | 0.70 | 8.60 |\n"
            "| own work growth, 20 over 2 | | 1.00x | 1.01x |") in text


def test_a_clone_with_the_benchmarks_own_params_is_recorded_as_its_commit_unchanged(tmp_path, monkeypatch):
    """A benchmark that clones the last commit sets its sizes in the clone's params.yaml; an edit to the code
    measured still marks the result."""
    import subprocess

    import common

    clone = tmp_path / "clone"
    (clone / "src").mkdir(parents=True)
    (clone / "params.yaml").write_text("seq_len: 24\n")
    (clone / "src" / "module.py").write_text("VALUE = 1\n")
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"]):
        subprocess.run(["git", "-C", str(clone), *command], check=True)
    monkeypatch.setattr(common, "REPO", tmp_path)
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")

    def recorded(**options) -> bool:
        common.record("clone", {}, {}, {}, {}, checkout=clone, **options)
        return json.loads((tmp_path / "results" / "clone.json").read_text())["uncommitted_changes"]

    (clone / "params.yaml").write_text("seq_len: 36\n")
    assert not recorded(own_params=True)
    assert recorded()
    (clone / "src" / "module.py").write_text("VALUE = 2\n")
    assert recorded(own_params=True)
