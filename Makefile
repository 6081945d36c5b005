# Two entry points, each installs what it needs into .venv first.
#   make run   — the main job on the embedded default (SQLite, shipped data)
#   make test  — lint + the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[web,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kbone evidence summary

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

test: lint
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
