# Relance: two commands on a fresh machine.
#   make run   creates .venv, installs, migrates the SQLite database under var/, loads the demo data
#              if the database is empty, and serves http://127.0.0.1:8000 (web, worker, scheduler).
#   make test  installs the dev dependencies and runs the whole suite.
# DATABASE_URL selects another database (postgres://user@host:port/name) for both.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest-xdist workers: one per core by default
PYTEST_WORKERS ?= auto

.PHONY: run test install install-dev lint format messages bench clean help

help:
	@echo "make run    - install, migrate, load demo data if empty, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install dev dependencies and run the whole suite"
	@echo "make lint   - ruff check"
	@echo "make bench  - run the benchmarks on a temporary database"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/relance migrate --noinput
	$(BIN)/relance demo --if-empty
	$(BIN)/relance serve --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: install-dev
	$(BIN)/ruff check .

format: install-dev
	$(BIN)/ruff format relance config tests bench

messages: install-dev
	$(BIN)/relance makemessages -l fr --ignore=.venv --ignore=var
	$(BIN)/relance compilemessages --ignore=.venv

bench: install-dev
	$(BIN)/relance bench

clean:
	rm -rf $(VENV) var/static .pytest_cache .ruff_cache
