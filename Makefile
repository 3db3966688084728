# Two commands: `make run` (service with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.onsite-installed

.PHONY: run test install lint clean

$(STAMP): pyproject.toml setup.py optimizer/_core.cpp
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/onsite migrate
	$(BIN)/onsite demo
	$(BIN)/onsite serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy optimizer geo

test: lint
	@if command -v node >/dev/null 2>&1; then node --test tests/js/; \
	else echo "the board's JS unit tests are skipped: node is not installed"; fi
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
