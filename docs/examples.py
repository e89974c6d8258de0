"""The console output shown in docs/: real runs of the commands, each block labelled with the commit it came from.

Clones the last commit into a temporary directory (sharing this checkout's DVC cache, so the committed outputs
are checked out, not recomputed), runs there what the docs show (an experiment, `dvc metrics diff`, the ablation,
`dvc exp show`, `whalecast-predict`, and stage runs on bad input), and replaces each block between
`<!-- example NAME -->` and `<!-- end of example NAME -->` in docs/*.md with its output. tests/test_docs.py checks
that every label names a commit and that a model hash shown is one dvc.lock records. About 15 minutes on 2 cores.

    make examples
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
BIN = Path(sys.executable).parent
# dvc exp show: the experiment, the params it varied, and the headline metrics of the question asked.
# A metric's column is named by its key alone where no other file has that key (here: the headline file's).
EXP_SHOW_COLUMNS = r"Experiment|seq_len|feature_groups\.whales|(BTC|ETH)\.(lstm_roc_auc|lstm_minus_best_baseline|p_value)$"


def run(args: list[str], cwd: Path, check: bool = True) -> str:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
                   "PYTHONPATH": "src"}
    result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True)
    if check and result.returncode:
        sys.exit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def trimmed_repro_output(output: str) -> str:
    """DVC's lines about stages, without the stages' own log lines: what a user scans for."""
    kept = [line for line in output.splitlines()
            if line.startswith(("Stage '", "Running stage", "Ran experiment"))]
    return "\n".join(kept)


def set_params(clone: Path, changes: dict[str, object]) -> None:
    from whalecast import settings  # the package of the clone's commit is the one installed in the venv

    settings.update_file(clone / "params.yaml", changes)


def stage_error(clone: Path, stage: str, changes: dict[str, object]) -> str:
    """The last line a stage prints when params.yaml has `changes`: its one-line error."""
    run(["git", "checkout", "-q", "--", "params.yaml"], clone)
    set_params(clone, changes)
    output = run([sys.executable, f"stages/{stage}.py", "BTC"], clone, check=False)
    run(["git", "checkout", "-q", "--", "params.yaml"], clone)
    return output.strip().splitlines()[-1]


def examples(clone: Path) -> dict[str, tuple[str, str]]:
    """name -> (the command shown, its output)."""
    shown = {}
    run(["dvc", "cache", "dir", "--local", str(REPO / ".dvc" / "cache")], clone)
    run(["dvc", "checkout"], clone, check=False)  # outputs missing from the cache are recomputed below
    run(["dvc", "repro"], clone)
    if run(["git", "status", "--porcelain"], clone).strip():
        sys.exit("dvc repro changed the commit's results: run `dvc repro` and commit them before `make examples`")

    command = "dvc exp run --name longer-window -S seq_len=36"
    shown["exp-run"] = (command, trimmed_repro_output(run(command.split(), clone)))
    command = "dvc metrics diff --targets reports/headline.json --md"
    shown["metrics-diff"] = (command, run(command.split(), clone).rstrip())
    command = "dvc params diff --md"
    shown["params-diff"] = (command, run(command.split(), clone).rstrip())
    run(["git", "checkout", "-q", "--", "."], clone)
    run(["dvc", "checkout", "--force"], clone)
    command = "dvc exp run --name no-whale-features -S feature_groups.whales=false"
    shown["ablation"] = (command, trimmed_repro_output(run(command.split(), clone)))
    run(["git", "checkout", "-q", "--", "."], clone)
    run(["dvc", "checkout", "--force"], clone)
    arguments = ["dvc", "exp", "show", "--md", "--drop", ".*", "--keep", EXP_SHOW_COLUMNS]
    shown["exp-show"] = (f"dvc exp show --md --drop '.*' --keep '{EXP_SHOW_COLUMNS}'", run(arguments, clone).rstrip())

    command = "whalecast-predict --currency BTC --at 2024-12-30T15:00"
    shown["predict"] = (command, run(command.split(), clone).rstrip())

    errors = [
        stage_error(clone, "sequence", {"seq_len": 20000}),
        stage_error(clone, "sequence", {"feature_groups": {"prices": True, "whale": True, "news": True}}),
        stage_error(clone, "sequence", {"split.train": 0.7, "split.validation": 0.2, "split.test": 0.2}),
        stage_error(clone, "backtest", {"backtest.lower": 0.6}),
        stage_error(clone, "evaluate", {"bootstrap.resamples": 100}),
    ]
    shown["model-stage-errors"] = ("", "\n".join(errors))
    return shown


def replace_examples(shown: dict[str, tuple[str, str]], commit: str) -> list[str]:
    """Write each example into the docs that hold its markers; the names written."""
    written = []
    for path in sorted(DOCS.glob("*.md")):
        text = original = path.read_text(encoding="utf-8")
        for name, (command, output) in shown.items():
            start, end = f"<!-- example {name} -->", f"<!-- end of example {name} -->"
            if start not in text:
                continue
            prompt = f"$ {command}\n" if command else ""
            block = f"{start}\n```console commit={commit}\n{prompt}{output}\n```\n{end}"
            text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.DOTALL)
            written.append(name)
        if text != original:
            path.write_text(text, encoding="utf-8")
    return written


def main() -> int:
    commit = run(["git", "rev-parse", "--short", "HEAD"], REPO).strip()
    with tempfile.TemporaryDirectory(prefix="whalecast-examples-") as scratch:
        clone = Path(scratch) / "whalecast"
        run(["git", "clone", "-q", str(REPO), str(clone)], REPO)
        shown = examples(clone)
    written = replace_examples(shown, commit)
    missing = sorted(set(shown) - set(written))
    print(f"examples at {commit}: {', '.join(written)} written" + (f"; no markers for {', '.join(missing)}"
                                                                      if missing else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
