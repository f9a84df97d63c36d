# ledgerbot: the two commands a new machine needs are `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Whole modules per worker, heaviest first (tests/conftest.py orders them; xdist would put the
# modules with most tests first, leaving a one-test module of minutes for last).
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder
# The ERP the demo posts into: sandbox (the demo ERP) or tryton (a real Tryton, set up by the demo).
TARGET ?= sandbox

.PHONY: setup demo test lint typecheck unit bench clean extractor-model models

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/ledgerbot demo --target $(TARGET)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck unit

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Retrain the generic extractor's shipped ranker (extractors/generic/model/), see the script.
extractor-model: setup
	@bash scripts/build_extractor_model.sh

# Retrain the document classifier and the splitter as `make demo` would and ship them in
# classifiers/model/ (with their seed and code version), so the demo's first run trains nothing.
models: setup
	$(BIN)/python -m sandbox.ship_models

clean:
	rm -rf var output .pytest_cache .mypy_cache .ruff_cache
