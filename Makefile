# make repro: set up .venv (when needed) and run the pipeline. make test: set up and run the tests.
# make docs: the figures of README.md and benchmarks/README.md from the committed results. make benchmark: the benchmarks.
# Set-up is idempotent: it re-installs only when requirements.lock or pyproject.toml changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
INSTALLED := $(VENV)/.installed

.PHONY: install repro test benchmark docs examples mutation

install: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

# Stages run `python stages/...`, so the venv's bin comes first on PATH.
repro: install
	PATH="$(BIN):$$PATH" dvc repro

test: install
	PATH="$(BIN):$$PATH" python -m pytest

# Each writes benchmarks/results/{name}.json and exits 1 when a target or check fails; all run, then make fails.
benchmark: install
	status=0; for name in fresh_clone featurize sequence pipeline currencies; do \
		PATH="$(BIN):$$PATH" python benchmarks/$$name.py || status=1; \
	done; exit $$status

# The README's results digest from the committed metrics, its two commands' times and benchmarks/README.md's figures
# from benchmarks/results (tests check both copies).
docs: install
	PYTHONPATH=src $(BIN)/python -m whalecast.reporting.report README.md
	$(BIN)/python benchmarks/figures.py README.md benchmarks/README.md

# The console output in docs/ (experiments, metrics diff, exp show, predict, error lines), run for real in a clone of
# the last commit and labelled with it; commit first. About 15 minutes on 2 cores.
examples: install
	PATH="$(BIN):$$PATH" $(BIN)/python docs/examples.py

# Mutation run over the data path (mutmut, config in pyproject.toml [tool.mutmut]); not part of CI.
# MUTANTS selects mutants by name glob (`make mutation MUTANTS=` mutates all of src/whalecast). The log goes to
# mutation/run.log, the tally to mutation/score.txt, every mutant not killed to mutation/results.txt. mutants/
# holds mutmut's state and reuses results: delete it for a run from scratch.
# PYTHONPATH makes stage subprocesses import the mutated package (the editable install points at src/); mutants/src
# must exist before mutmut starts, or its in-process test run never looks there (Python caches a missing path entry).
# OMP_NUM_THREADS=1: mutmut forks each mutant from a process whose tests already started scikit-learn's OpenMP
# threads; without it a forked HistGradientBoosting fit hangs until mutmut's timeout (a false "timeout").
MUTANTS ?= whalecast.data.raw_files.* whalecast.data.cells.* whalecast.data.price_bars.* whalecast.data.whale_transfers.* \
	whalecast.data.news_items.* whalecast.data.event_sources.* whalecast.data.delays.* whalecast.data.clean.* \
	whalecast.features.* whalecast.modeling.sequences.* whalecast.modeling.scaling.* whalecast.modeling.baselines.* \
	whalecast.evaluation.scoring.* whalecast.evaluation.holdout.* whalecast.evaluation.walk_forward.* \
	whalecast.evaluation.backtest.*
mutation: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-mutation.lock
	mkdir -p mutation mutants/src
	PATH="$(BIN):$$PATH" PYTHONPATH="$(CURDIR)/mutants/src" OMP_NUM_THREADS=1 nice -n 10 $(BIN)/mutmut run $(foreach m,$(MUTANTS),'$(m)') \
		> mutation/run.log 2>&1; status=$$?; \
	tr '\r' '\n' < mutation/run.log | grep -E 'mutations/second|🎉' | tail -n 2 > mutation/score.txt; \
	$(BIN)/mutmut results > mutation/results.txt; cat mutation/score.txt; exit $$status
