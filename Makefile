# One command installs and runs each job on a fresh machine with Python 3.11+, Node.js/npm and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
INTEROP := tests/interop

.PHONY: demo test lint typecheck unit bench clean

$(VENV)/.stamp-install: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(INTEROP)/node_modules/.stamp-npm: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.stamp-install
	$(BIN)/tessera demo

lint: $(VENV)/.stamp-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.stamp-install
	$(BIN)/mypy

unit: $(VENV)/.stamp-install $(INTEROP)/node_modules/.stamp-npm
	$(BIN)/pytest

test: lint typecheck unit

bench: $(VENV)/.stamp-install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(INTEROP)/node_modules .mypy_cache .ruff_cache .pytest_cache
