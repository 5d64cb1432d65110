# The front door. `make build` and `make test` work on a fresh clone, in either order.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= default
SEED ?= 42
END_DATE ?= 2026-11-25
export RETAIL_ML_RAW_DIR ?= data/raw
export RETAIL_ML_DB_PATH ?= warehouse/retail_ml.duckdb
# What analysts read: the public models of the last green build (retail_ml.publish).
PUBLISHED_DIR ?= warehouse/published
DBT := $(BIN)/dbt --no-use-colors
DBT_ARGS := --project-dir . --profiles-dir .

.PHONY: help venv data data-force features build landing-init daily refresh bench bench-daily bench-build docs test lint governance lineage lock clean sql metrics recipes

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(BIN)/.installed ## Create .venv from the pinned lock file (only when missing or stale)

$(RETAIL_ML_RAW_DIR)/_manifest.json: | $(BIN)/.installed
	$(BIN)/python -m retail_ml.generate --scale $(SCALE) --seed $(SEED) --end-date $(END_DATE) --out $(RETAIL_ML_RAW_DIR)

data: $(RETAIL_ML_RAW_DIR)/_manifest.json ## Generate sample raw data if missing (SCALE=small|default|large, SEED, END_DATE)

data-force: venv ## Regenerate the raw data, replacing what is there
	$(BIN)/python -m retail_ml.generate --scale $(SCALE) --seed $(SEED) --end-date $(END_DATE) --out $(RETAIL_ML_RAW_DIR) --force

features: venv ## Regenerate what follows from the feature specs (features/*.yml): engine macro, contracts, model feature lists
	$(BIN)/python -m retail_ml.features --project-dir .

build: data ## Generate data if missing, check raw files, dbt build into the private warehouse, publish the public tables to warehouse/published/ if fully green
	@mkdir -p $(dir $(RETAIL_ML_DB_PATH))
	$(BIN)/python -m retail_ml.raw_contract --raw-dir $(RETAIL_ML_RAW_DIR)
	$(BIN)/python -m retail_ml.build --db $(RETAIL_ML_DB_PATH) --published-dir $(PUBLISHED_DIR) -- $(DBT_ARGS) --no-use-colors

# The landing simulator (retail_ml.landing): the world generated to END_DATE + HORIZON_DAYS in
# FUTURE_DIR, landed into the raw dir as time passes (never rewriting a landed file).
FUTURE_DIR ?= data/future
HORIZON_DAYS ?= 30
HOURS ?= 1
REFRESH_HOURS ?= 9

landing-init: venv ## Make the raw dir a simulated landing zone: world to END_DATE+HORIZON_DAYS in data/future, landed through END_DATE
	$(BIN)/python -m retail_ml.landing init --raw-dir $(RETAIL_ML_RAW_DIR) --future-dir $(FUTURE_DIR) --scale $(SCALE) --seed $(SEED) --end-date $(END_DATE) --horizon-days $(HORIZON_DAYS)

daily: venv ## Land the next day, check contract + source freshness, incremental dbt build, publish if green
	@test -f $(RETAIL_ML_RAW_DIR)/_landing.json || $(MAKE) --no-print-directory landing-init
	@mkdir -p $(dir $(RETAIL_ML_DB_PATH))
	$(BIN)/python -m retail_ml.daily daily --db $(RETAIL_ML_DB_PATH) --raw-dir $(RETAIL_ML_RAW_DIR) --published-dir $(PUBLISHED_DIR) -- $(DBT_ARGS) --no-use-colors

refresh: venv ## Intraday: land the next HOURS (1) of files, rebuild serving, scores and recommendations, publish
	$(BIN)/python -m retail_ml.daily refresh --hours $(HOURS) --db $(RETAIL_ML_DB_PATH) --raw-dir $(RETAIL_ML_RAW_DIR) --published-dir $(PUBLISHED_DIR) -- $(DBT_ARGS) --no-use-colors

bench: data ## Time raw load, pandas reference, dbt raw->training+serving, dbt build; writes docs/benchmarks/bench_$(SCALE).*, then the scaling table
	$(BIN)/python -m retail_ml.bench --scale $(SCALE) --raw-dir $(RETAIL_ML_RAW_DIR) --project-dir .
	$(BIN)/python -m retail_ml.bench.incremental scaling --project-dir .

bench-daily: venv ## Daily + intraday runs vs a full refresh from a future world (FUTURE_DIR, END_DATE, SCALE); docs/benchmarks/bench_daily_$(SCALE).*
	$(BIN)/python -m retail_ml.bench.incremental daily --scale $(SCALE) --future-dir $(FUTURE_DIR) --end-date $(END_DATE) --refresh-hours $(REFRESH_HOURS) --project-dir .

bench-build: venv ## One whole dbt build of RETAIL_ML_RAW_DIR (the xl scale-out point; no pandas reference), then the scaling table and plot
	$(BIN)/python -m retail_ml.bench.incremental build --scale $(SCALE) --raw-dir $(RETAIL_ML_RAW_DIR) --project-dir .
	$(BIN)/python -m retail_ml.bench.incremental scaling --project-dir .

docs: venv lineage ## Model cards, recommender backtest, PII lineage report and the dbt docs site (target/index.html, single-file target/static_index.html) from the warehouse (builds it if missing; serve: .venv/bin/dbt docs serve --profiles-dir .)
	@test -f $(RETAIL_ML_DB_PATH) || $(MAKE) build
	$(BIN)/python -m retail_ml.ml.model_card --db $(RETAIL_ML_DB_PATH) --project-dir .
	$(BIN)/python -m retail_ml.recommend.report --db $(RETAIL_ML_DB_PATH) --project-dir .
	$(DBT) docs generate --static $(DBT_ARGS)

test: lint ## Everything the project proves: lint, pytest (unit tests + real dbt builds on small data in temp dirs)
	$(BIN)/python -m pytest

# The SQL lint renders every model and test with the dbt templater (.sqlfluff: CI profile). The
# compile opens a scratch warehouse (nothing is built in it) and needs no PII key file: the key
# variable below is used by nothing the linter runs. Raw files are not read.
SQLFLUFF_DIR := target/sqlfluff
SQLFLUFF_ENV := RETAIL_ML_TARGET=ci RETAIL_ML_DB_PATH=$(SQLFLUFF_DIR)/lint.duckdb \
	RETAIL_ML_PII_KEY=sqlfluff-compile-only DBT_TARGET_PATH=$(SQLFLUFF_DIR)/target

lint: venv ## ruff on the Python code, sqlfluff (.sqlfluff: the house SQL style) on models/ and tests/
	$(BIN)/ruff check src tests/python python_models notebooks
	@mkdir -p $(SQLFLUFF_DIR)
	$(SQLFLUFF_ENV) $(BIN)/sqlfluff lint models tests --processes 0 --disable-progress-bar

governance: venv lineage ## PII lineage (make lineage), then the governance gates on the manifest: retail_ml.governance, dbt-bouncer (dbt-bouncer.yml), dbt-score (pyproject.toml minimum)
	$(DBT) parse $(DBT_ARGS)
	$(BIN)/python -m retail_ml.governance --manifest target/manifest.json
	$(BIN)/dbt-bouncer run --config-file dbt-bouncer.yml
	$(BIN)/dbt-score lint --manifest target/manifest.json

# PII lineage (retail_ml.lineage): compiles the project into a scratch warehouse like the SQL lint
# (nothing is built, no raw file read, the key variable is used by nothing), traces every
# published column to source columns, writes the report (docs block + analysis, committed), and
# scans the published copy for raw PII when there is one. Fails on a violation.
LINEAGE_DIR := target/lineage
LINEAGE_ENV := RETAIL_ML_TARGET=ci RETAIL_ML_DB_PATH=$(LINEAGE_DIR)/compile.duckdb \
	RETAIL_ML_PII_KEY=lineage-compile-only

lineage: venv ## PII lineage check: no published column derives from raw PII except through hash_pii; writes docs/pii_lineage.md, scans warehouse/published/
	@mkdir -p $(LINEAGE_DIR)
	$(LINEAGE_ENV) $(DBT) compile $(DBT_ARGS) --target-path $(LINEAGE_DIR)/target --quiet
	$(BIN)/python -m retail_ml.lineage --manifest $(LINEAGE_DIR)/target/manifest.json \
		--report docs/pii_lineage.md --analysis analyses/pii_lineage_report.sql \
		--published-dir $(PUBLISHED_DIR) --raw-dir $(RETAIL_ML_RAW_DIR)

# The analysts' front door: the published copy of the last green build, read-only.
PUBLISHED_DB := $(PUBLISHED_DIR)/retail_ml.duckdb
MF_QUERY ?= --metrics net_sales --group-by metric_time__month,customer__country_code --order metric_time__month,customer__country_code
MF_ENV := RETAIL_ML_TARGET=published RETAIL_ML_PUBLISHED_PATH=$(PUBLISHED_DB)

sql: venv ## The DuckDB CLI on the published copy, read-only (make build first)
	@test -f $(PUBLISHED_DB) || { echo "no published copy at $(PUBLISHED_DB): run make build"; exit 1; }
	$(BIN)/duckdb -readonly $(PUBLISHED_DB)

# mf reads target/semantic_manifest.json only. The published target's manifest is parsed into
# target/published/ and only that file is copied, so the build's manifest.json (what
# `python -m retail_ml.publish` re-publishes from) and its partial parse stay untouched.
metrics: venv ## MetricFlow on the published copy (default: net sales by month and country; MF_QUERY="--metrics orders --group-by metric_time__week")
	@test -f $(PUBLISHED_DB) || { echo "no published copy at $(PUBLISHED_DB): run make build"; exit 1; }
	$(MF_ENV) $(DBT) parse $(DBT_ARGS) --target-path target/published --quiet
	cp target/published/semantic_manifest.json target/semantic_manifest.json
	$(MF_ENV) $(BIN)/mf query $(MF_QUERY)

recipes: venv ## Regenerate the README's and the docs site's query recipes from docs/analyst_recipes.yml
	$(BIN)/python -m retail_ml.recipes --project-dir .

lock: ## Re-pin requirements/lock.txt from pyproject.toml (deliberate; commit the diff with a reason)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ head -2 requirements/lock.txt; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^retail.ml'; } > requirements/lock.new
	mv requirements/lock.new requirements/lock.txt && rm -rf .lock-venv

clean: ## Remove the warehouse and dbt artefacts (keeps data and .venv)
	rm -rf warehouse target logs
