# make repro: set up .venv (when needed) and run the pipeline. make test: set up and run the tests.
# make readme: the README's Results section from the generated summary. make benchmark: the benchmarks.
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

benchmark: install
	PATH="$(BIN):$$PATH" python benchmarks/featurize.py
	PATH="$(BIN):$$PATH" python benchmarks/sequence.py
	PATH="$(BIN):$$PATH" python benchmarks/pipeline.py

# Copy the headline of reports/summary.md (made by the report stage) into the README's Results section.
readme: install
	PYTHONPATH=src $(BIN)/python -m whalecast.report README.md
