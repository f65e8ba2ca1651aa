# podwall — run `make` for the list of targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv deps demo demo-engine check test lint fmt bench golden clean

# `make check`: the tests that need no root, kubectl, browser or network namespace, and none
# marked slow. `make test` runs everything; `make test COVERAGE=1` (as CI does) adds a coverage
# report and fails under COVERAGE_FLOOR percent of src/podwall's lines.
CHECK_PATHS   := tests/unit tests/properties tests/golden tests/conformance bench
CHECK_MARKERS := not netns and not kubectl and not browser and not slow
COVERAGE      ?=
# make check's tests alone cover 84% of src/podwall's lines; the whole suite covers more.
COVERAGE_FLOOR ?= 80
COVERAGE_ARGS := $(if $(COVERAGE),--cov=podwall --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR))

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv with podwall and its test tools

deps: ## install the system tools the dataplane and browser tests need (Debian, as root)
	@missing=""; for t in nft ip unshare setpriv curl script chromium dot nginx busybox; do command -v $$t >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install nftables iproute2 util-linux curl chromium nginx-light busybox" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables iproute2 util-linux bsdutils curl chromium graphviz nginx-light busybox >/dev/null; \
	fi

demo: $(STAMP) deps ## the seed lab verbatim: podwall up, then the tutorial's kubectl commands
	@bash demo/tutorial.sh

demo-engine: $(STAMP) deps ## the seed lab through the engine (check/explain) and podwall probe
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash demo/seed-lab.sh

check: lint ## lint, then the tests that need no root (unit, properties, golden, engine+tracer conformance)
	$(BIN)/pytest $(CHECK_PATHS) -m "$(CHECK_MARKERS)" $(COVERAGE_ARGS)

test: $(STAMP) deps ## run the whole test suite (COVERAGE=1: with a coverage report and floor)
	$(BIN)/pytest $(COVERAGE_ARGS)

lint: $(STAMP) ## ruff, mypy --strict, import contracts
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## format and fix what ruff can
	$(BIN)/ruff format src tests $(wildcard bench)
	$(BIN)/ruff check --fix src tests $(wildcard bench)

golden: $(STAMP) ## rewrite golden files from the current output (review the diff!)
	$(BIN)/pytest tests/golden --update-golden

bench: $(STAMP) deps ## benchmarks, printed as ratios measured side by side (~17 min)
	bash bench/setup.sh
	$(BIN)/python -m bench.bench_engine
	$(BIN)/python -m bench.bench_tiers
	$(BIN)/python -m bench.bench_review
	$(BIN)/python -m bench.bench_editor
	@if [ -f bench/bench_dataplane.py ]; then $(BIN)/python -m bench.bench_dataplane; fi
	$(BIN)/python -m bench.bench_agent
	$(BIN)/python -m bench.bench_apiserver
	$(BIN)/python -m bench.bench_flows
	$(BIN)/python -m bench.bench_nodes

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
