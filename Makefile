# Clarion's front door. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
# `npx cdk` runs `python3 app.py` (cdk.json): use the project environment's interpreter.
export PATH := $(CURDIR)/$(BIN):$(PATH)
STAMP := $(VENV)/.installed

PORT ?= 3000

.PHONY: help demo local bench install synth lint typecheck test test-unit test-integration test-infra e2e openapi clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt lambdas/requirements.txt lambdas/pyproject.toml package.json
	@echo "==> Creating the virtual environment and installing pinned dependencies"
	$(PYTHON) -m venv $(VENV)
	set -o pipefail; $(BIN)/pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt \
		| { grep -E "^(Collecting|Successfully installed|ERROR)" || true; }
	@echo "==> Installing the pinned AWS CDK CLI"
	npm install --no-audit --no-fund --silent
	touch $(STAMP)

demo: synth ## Deploy into the embedded emulator, play a scenario, print what happened (start here)
	@echo "==> Starting Clarion on the embedded AWS emulator"
	$(BIN)/python -m clarion_local demo --assembly cdk.out

local: synth ## Serve the API on http://127.0.0.1:$(PORT) against the embedded emulator (PORT= to change)
	$(BIN)/python -m clarion_local serve --assembly cdk.out --port $(PORT)

# The long suites at full size; `make test` runs them smaller (each file says why that size still covers it).
BENCH_FAULTS ?= 1000
BENCH_WARD ?= 1000

bench: synth ## Measure intake, AWS calls, cold start, a 10,000-alert burst; then the full-size faults and ward suites
	$(BIN)/python -m bench cdk.out
	@echo "==> The full-size suites: $(BENCH_FAULTS) alerts under random faults, $(BENCH_WARD) alerts on the ward"
	CLARION_FAULTS_ALERTS=$(BENCH_FAULTS) CLARION_WARD_ALERTS=$(BENCH_WARD) \
		$(BIN)/python -m pytest tests/system/test_faults.py tests/system/test_ward.py -q -s -p no:cacheprovider --durations=2

install: $(STAMP) ## Create .venv and install the pinned Python and npm dependencies

synth: $(STAMP) ## Synthesize every stack into cdk.out with the compliance packs (ENV=dev|prod)
	@echo "==> Synthesizing the stacks with the AwsSolutions and HIPAA.Security packs, then cfn-lint"
	rm -rf cdk.out
# The CLI has no switch to silence these two lines (the stack list; the flags left at their defaults).
	set -o pipefail; npx cdk synth --quiet -c env=$(or $(ENV),dev) 2>&1 \
		| { grep -vE "^(Supply a stack id \(|[0-9]+ feature flags are not configured\.)" || true; }
	$(BIN)/cfn-lint -- cdk.out/*.template.json
	@echo "==> cdk.out: zero unacknowledged findings, zero cfn-lint errors"

lint: $(STAMP) ## ruff (lint and format check), and the layering of the Lambda code (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd lambdas && PYTHONPATH=. ../$(BIN)/lint-imports --config ../pyproject.toml --no-cache

typecheck: $(STAMP) ## mypy on lambdas/ (as the Lambda sees it) and on the CDK app
	cd lambdas && ../$(BIN)/mypy --config-file ../pyproject.toml -p clarion
	$(BIN)/mypy app.py stacks clarion_local bench tools

test: lint typecheck $(STAMP) ## Run every offline test (unit, integration, infra, system) with coverage on lambdas/
	$(BIN)/python -m pytest tests --cov --cov-report=term --durations=12

test-unit: $(STAMP) ## Unit tests only
	$(BIN)/python -m pytest tests/unit -q

test-integration: $(STAMP) ## Integration tests only (handlers against moto)
	$(BIN)/python -m pytest tests/integration -q

test-infra: $(STAMP) ## Infrastructure tests only (CDK assertions and compliance gate)
	$(BIN)/python -m pytest tests/infra -q

# The smoke run against a deployed stack: its URL from STACK's ApiUrl output (the shell's AWS credentials), a client
# token of scope alerts in CLARION_E2E_TOKEN (python -m tools.tokens create); tests/e2e/test_smoke.py says the rest.
e2e: $(STAMP) ## Smoke-test a deployed stack: one alert until delivered (STACK=Clarion-<env>-Service, CLARION_E2E_TOKEN)
	@test -n "$(STACK)" || { echo "make e2e needs STACK=<the deployed Service stack, e.g. Clarion-prod-Service>" >&2; exit 2; }
	@test -n "$$CLARION_E2E_TOKEN" || { echo "make e2e needs CLARION_E2E_TOKEN=<a client token of scope alerts>" >&2; exit 2; }
	url=$$($(BIN)/python -m tests.e2e.stack $(STACK)) && \
		CLARION_E2E_URL=$$url $(BIN)/python -m pytest tests/e2e -m e2e -q -rs -p no:cacheprovider

openapi: $(STAMP) ## Regenerate docs/openapi.json from the code
	$(BIN)/python -m tools.openapi

clean: ## Remove build output (keeps .venv)
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache .coverage
