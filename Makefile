# make repro: set up .venv (when needed) and run the pipeline. make test: set up and run the tests.
# make readme: the README's Results and benchmark figures from the generated files. make benchmark: the benchmarks.
# Set-up is idempotent: it re-installs only when requirements.lock or pyproject.toml changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
INSTALLED := $(VENV)/.installed

.PHONY: install repro test benchmark readme

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
	status=0; for name in featurize sequence pipeline; do \
		PATH="$(BIN):$$PATH" python benchmarks/$$name.py || status=1; \
	done; exit $$status

# Copy the headline of reports/summary.md (made by the report stage) into the README's Results section,
# and render the benchmark figures from benchmarks/results into its Benchmarks section.
readme: install
	PYTHONPATH=src $(BIN)/python -m whalecast.report README.md
	$(BIN)/python benchmarks/figures.py README.md
