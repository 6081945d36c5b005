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
	mkdir -p out
	$(BIN)/kbone assess examples/profiles/seed004_knee_oa.yaml --lang zh --html out/report_seed004_zh.html

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

test: lint
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
