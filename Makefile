# leadscore — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STORE  ?= duckdb:///data/leadscore.duckdb
LEADS  ?= 20000
AS_OF  ?= 2026-11-01
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: help venv demo test check bench slow clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-8s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install leadscore with the dev, postgres and spark extras

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "leadscore needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[dev,postgres,spark]'
	@touch $(STAMP)

demo: venv ## Generate a synthetic CRM, train, score and print the top leads
	$(BIN)/leadscore generate --leads $(LEADS) --seed 7 --store $(STORE)
	$(BIN)/leadscore train --store $(STORE)
	$(BIN)/leadscore score --as-of $(AS_OF) --store $(STORE)
	$(BIN)/leadscore top -n 10 --as-of $(AS_OF) --store $(STORE)
	$(BIN)/leadscore export --as-of $(AS_OF) --owner rep_01 --format html --out data/rep_01.html --store $(STORE)
	$(BIN)/leadscore report --as-of $(AS_OF) --out data/report.html --store $(STORE)
	@echo "store: $(STORE)   its MLflow registry: sqlite:///data/leadscore.mlflow.db (browse: $(BIN)/mlflow ui --backend-store-uri sqlite:///data/leadscore.mlflow.db)"
	@echo "rep_01's ranked list: data/rep_01.html   pipeline health report: data/report.html"

test: venv ## Run the test suite (everything CI needs; not the slow or bench tests)
	$(BIN)/pytest -m "not slow and not bench" -q

check: venv ## Lint, type-check and check the layout (ruff + mypy + tests/check_layout.py)
	$(BIN)/ruff check pipelines models scoring tests
	$(BIN)/ruff format --check pipelines models scoring tests
	$(BIN)/mypy
	$(BIN)/python -m tests.check_layout

bench: venv ## Benchmarks at scale (figures printed; sizes: see tests/bench/test_benchmarks.py)
	$(BIN)/pytest -m bench -q -s -p no:cacheprovider

slow: venv ## The slow tests (1,000-example point-in-time property)
	$(BIN)/pytest -m slow -q

clean: ## Remove the venv, generated data and caches
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
