"""Every figure in the README, docs/ and benchmarks/README.md comes from the committed results, or says which commit
it came from; and every generated block is what its generator makes of the committed files.

A figure is a number written as a measurement: with a decimal point, a percent sign or a thousands separator, an
integer of 100 or more, or a number followed by a unit of time, memory, speed-up or fees. It must equal, at the
precision shown, a value of the committed results (params.yaml, metrics/, reports/headline.json,
benchmarks/results/), a pinned version, or a constant written in the code (the package, the stages, the tests, the
benchmarks: a documented limit or test threshold), unless its paragraph, list item or table row names a commit of
this repository in backticks (`1a2b3c4`): then it is a figure of that commit. A 32-digit hexadecimal hash must be
one dvc.lock records. Exempt: years and dates, version strings, names that contain digits (AVX2, seq_len),
inline code and blocks of commands or configuration (bash, yaml, python); a block of program output (console,
json, text) is checked like prose, or labelled as a whole by `commit=<hash>` after its language.
"""

import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))  # the benchmarks are scripts, not a package
import figures  # noqa: E402
from whalecast.reporting import report  # noqa: E402

DOCUMENTS = [REPO / "README.md", REPO / "benchmarks" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# The blocks a generator writes, checked against a fresh rendering below rather than number by number.
GENERATED = [(report.DIGEST_START, report.DIGEST_END), (figures.COMMANDS_START, figures.COMMANDS_END),
             (figures.START, figures.END)]
RESULT_FILES = ["params.yaml", "reports/headline.json", "metrics/*.json", "benchmarks/results/*.json"]
UNEXAMINED_BLOCKS = {"bash", "sh", "yaml", "python", "toml", "make"}
UNITS = r"(?:s|ms|min|minutes?|seconds?|MiB|MB|GiB|GB|KiB|x|bps|hours?|days?|rows|transfers|tests|windows)\b"
NUMBER = re.compile(r"(?<![\w.\-/#])(?P<sign>[-+−]?)(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
                    r"(?P<percent>\s?%)?(?![\w.]*\d)(?=(?P<unit>\s?" + UNITS + r")?)")
EXEMPT_SPANS = re.compile(r"`[^`]*`|\]\([^)]*\)|https?://\S+|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?Z?)?"
                          r"|\d{4}-\d{2}\b|\b\d{1,2}:\d{2}\b|\b\d+\.\d+\.\d+\b|\b[\w-]*[A-Za-z_][\w-]*\d[\w-]*\b")
COMMIT_LABEL = re.compile(r"`([0-9a-f]{7,40})`")
MD5 = re.compile(r"\b[0-9a-f]{32}\b")


def leaves(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from leaves(value)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield float(node)


def known_values() -> list[float]:
    values = []
    for pattern in RESULT_FILES:
        for path in sorted(REPO.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            values += leaves(yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text))
    for line in (REPO / "requirements.lock").read_text().splitlines():  # versions, e.g. mutmut's 3.8.1
        if "==" in line:
            values += [float(part) for part in re.findall(r"\d+\.\d+", line.split("==")[1])]
    values += [float(version) for version in re.findall(r"==(\d+\.\d+)", (REPO / "pyproject.toml").read_text())]
    for path in [*(REPO / "src").rglob("*.py"), *(REPO / "stages").glob("*.py"), *(REPO / "tests").rglob("*.py"),
                 *(REPO / "benchmarks").glob("*.py")]:
        with open(path, "rb") as source:
            values += [abs(complex(token.string).real) for token in tokenize.tokenize(source.readline)
                       if token.type == tokenize.NUMBER and not token.string.endswith(("j", "J"))]
    return values


def commits(text: str) -> dict[str, bool]:
    """Every backticked hexadecimal word in the text, and whether it names a commit of this repository."""
    names = sorted(set(COMMIT_LABEL.findall(text)))
    if not names:
        return {}
    query = "".join(f"{name}^{{commit}}\n" for name in names)
    output = subprocess.run(["git", "cat-file", "--batch-check"], cwd=REPO, input=query, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    return {name: not line.endswith("missing") for name, line in zip(names, output)}


def units_of_text(path: Path) -> list[tuple[str, str]]:
    """(where, text) of each paragraph, list item, table row and output-block line outside generated blocks and
    outside blocks of commands and configuration; a labelled output block as one unit."""
    text = path.read_text(encoding="utf-8")
    for start, end in GENERATED:
        while start in text:
            text = text[:text.index(start)] + text[text.index(end) + len(end):]
    units, current, fence, line_number = [], [], None, 0

    def close():
        if current:
            units.append((f"{path.relative_to(REPO)}:{line_number - len(current) + 1}", " ".join(current)))
            current.clear()

    for line_number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            close()
            if fence is None:
                info = stripped[3:].split()
                fence = "skip" if info and info[0] in UNEXAMINED_BLOCKS else next(
                    (word[7:] for word in info if word.startswith("commit=")), "lines")
            else:
                if fence not in ("skip", "lines"):  # one labelled block: checked as a unit carrying its label
                    units.append((f"{path.relative_to(REPO)}:{line_number}", f"`{fence}`"))
                fence = None
            continue
        if fence == "skip" or (fence not in (None, "lines")):
            continue
        if fence == "lines" or stripped.startswith("|") or not stripped or stripped.startswith(("#", "- ", "* ")):
            close()
            if stripped:
                current.append(stripped)
                if fence == "lines" or stripped.startswith(("|", "#")):
                    close()
            continue
        current.append(stripped)
    close()
    return units


def shown_value(match: re.Match) -> tuple[float, int]:
    digits = match["digits"].replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    sign = -1 if match["sign"] in ("-", "−") else 1
    return sign * float(digits), decimals


def is_figure(match: re.Match) -> bool:
    digits = match["digits"]
    if "." in digits or "," in digits or match["percent"] or match["unit"]:
        return True
    return int(digits) >= 100 and not 1900 <= int(digits) <= 2100


def matches(match: re.Match, known: list[float]) -> bool:
    value, decimals = shown_value(match)
    scales = [100.0, 1.0] if match["percent"] else [1.0]
    if match["unit"] and match["unit"].strip() in ("MiB", "GiB", "KiB", "MB", "GB"):
        scales += [1 / 2**10, 1 / 2**20, 1 / 2**30, 1e-6, 1e-9]
    tolerance = 0.5 * 10**-decimals + 1e-9
    return any(abs(abs(candidate * scale) - abs(value)) <= tolerance for candidate in known for scale in scales)


def unverified_figures(units: list[tuple[str, str]], known: list[float], labels: dict[str, bool]) -> list[str]:
    problems = []
    for where, text in units:
        named = [name for name in COMMIT_LABEL.findall(text) if labels.get(name)]
        problems += [f"{where}: {name} is not a commit of this repository" for name in COMMIT_LABEL.findall(text)
                     if name in labels and not labels[name] and MD5.fullmatch(name) is None]
        if named:
            continue
        prose = EXEMPT_SPANS.sub(" ", text)
        for match in NUMBER.finditer(prose):
            if is_figure(match) and not matches(match, known):
                problems.append(f"{where}: {match.group(0).strip()} is in no committed result and its text names "
                                f"no commit: {text[:100]}")
    return problems


def test_every_figure_is_a_committed_result_or_names_its_commit():
    known, lock = known_values(), (REPO / "dvc.lock").read_text()
    problems = []
    for path in DOCUMENTS:
        units = units_of_text(path)
        labels = commits(" ".join(text for _, text in units))
        problems += unverified_figures(units, known, labels)
        problems += [f"{path.relative_to(REPO)}: md5 {digest} is not in dvc.lock"
                     for digest in MD5.findall(path.read_text(encoding="utf-8")) if digest not in lock]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("text, flagged", [
    ("BTC's LSTM reaches 0.57366 on the test part.", ["0.57366"]),
    ("the test part has 3,942 hours", ["3,942"]),
    ("it takes 284 s", ["284"]),
    ("a return of +990.8% before fees", ["+990.8%"]),
    ("it took 19.7 s (measured at `NOTACOMMIT`)", ["19.7"]),
    ("AUC 0.590 [0.569, 0.610], p = 0.015", []),
    ("test part: 3,941 hours; fee 10 bps", []),
    ("seq_len 24, `seq_len=36`, AVX2, the 2024-07-20 test part, dvc 3.67.1, 4 folds", []),
])
def test_the_rule_flags_figures_that_are_in_no_result(text, flagged):
    known = [0.589683, 0.56912, 0.609541, 0.014993, 3941.0, 10.0, 24.0, 2.767]
    found = unverified_figures([("x", text)], known, {})
    assert [problem.split(": ")[1].split(" is in")[0] for problem in found] == flagged


def test_a_label_must_name_a_commit_of_this_repository():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    labels = commits(f"`{head}` and `deadbee`")
    assert labels == {head: True, "deadbee": False}
    assert unverified_figures([("x", f"it took 19.7 s (at `{head}`)")], [], labels) == []
    assert unverified_figures([("x", "it took 19.7 s (at `deadbee`)")], [], labels) == [
        "x: deadbee is not a commit of this repository", "x: 19.7 is in no committed result and its text names no "
        "commit: it took 19.7 s (at `deadbee`)"]


def test_the_readme_digest_and_the_benchmark_figures_are_renderings_of_the_committed_results(monkeypatch):
    monkeypatch.chdir(REPO)  # the metrics paths are relative to the repository root, as in a stage
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert report.marked_block(readme, report.DIGEST_START, report.DIGEST_END) == report.committed_digest(), \
        "run `make docs`"
    results = figures.read()
    assert report.marked_block(readme, figures.COMMANDS_START, figures.COMMANDS_END) == figures.commands(results), \
        "run `make docs`"
    benchmarks = (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert report.marked_block(benchmarks, figures.START, figures.END) == figures.block(results), "run `make docs`"


def test_every_example_block_holds_output_labelled_with_its_commit():
    """`make examples` fills them; an empty or hand-edited block has no label."""
    found = []
    for path in sorted((REPO / "docs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"<!-- example ([\w-]+) -->", text):
            block = report.marked_block(text, f"<!-- example {name} -->", f"<!-- end of example {name} -->")
            assert re.search(r"\n```console commit=[0-9a-f]{7,40}\n.+\n```\n", block, re.DOTALL), (path.name, name)
            found.append(name)
    assert sorted(found) == sorted(["exp-run", "metrics-diff", "params-diff", "ablation", "exp-show", "predict",
                                    "model-stage-errors"])


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_between_the_documents_leads_somewhere():
    broken = []
    for path in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{path.relative_to(REPO)}: {target}")
    assert not broken


def test_the_readme_is_a_first_screen():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:4] == ["## Prerequisites", "## Two commands", "## Results", "## The DVC loop"]
    linked = set(re.findall(r"\]\((docs/[\w.]+\.md)\)", "\n".join(lines)))
    assert linked == {f"docs/{path.name}" for path in (REPO / "docs").glob("*.md")}
