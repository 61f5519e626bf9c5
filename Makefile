# The two commands people type: `make serve` and `make test`. Everything else
# they need (virtual environment, packages, Neo4j from Maven Central) is set up
# on the way.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall whenever the dependency list or the pins change.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: serve test test-latest install lint typecheck unit neo4j-start neo4j-stop neo4j-status sdl bench bench-seed clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# GraphiQL's scripts and styles, from the npm registry at the versions web/package-lock.json pins.
WEB_STAMP := web/node_modules/.installed-$(shell cat web/package-lock.json | sha256sum | cut -c1-12)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -f web/node_modules/.installed-*
	touch $@

# The real clients the e2e tests run against the live server (graphql-codegen, Apollo Client),
# at the versions tests/clients/package-lock.json pins. None needs an install script.
CLIENTS_STAMP := tests/clients/node_modules/.installed-$(shell cat tests/clients/package-lock.json | sha256sum | cut -c1-12)

$(CLIENTS_STAMP): tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -f tests/clients/node_modules/.installed-*
	touch $@

# Debian's chromium, for the test that drives GraphiQL in a real browser.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "the browser test needs Debian's chromium: apt-get install chromium (as root)" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

install: $(STAMP) $(WEB_STAMP) $(CLIENTS_STAMP)

## make serve: start Neo4j (unless NEO4J_URI is set), apply the schema, seed an empty database, serve on PORT.
## Ctrl-C stops the API (exit 0: make reports no error); the local Neo4j keeps running until `make neo4j-stop`.
serve: install
	$(BIN)/kb serve

## make test: lint, type-check, then the whole suite against a real Neo4j.
test: install lint typecheck unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install $(CHROMIUM)
	$(BIN)/pytest

## make test-latest: the whole suite again, in a second environment (.venv-latest) holding the newest releases
## pyproject.toml allows instead of the pins of constraints.txt: are the ranges true?
LATEST := .venv-latest
test-latest: $(WEB_STAMP) $(CLIENTS_STAMP) $(CHROMIUM)
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(LATEST)/bin/pip install --quiet --disable-pip-version-check --upgrade --upgrade-strategy eager -e '.[dev]'
	$(LATEST)/bin/pip list --format=freeze | grep -v '^kb=' > $(LATEST)/versions.txt
	@$(LATEST)/bin/python bench/versions.py constraints.txt $(LATEST)/versions.txt
	$(LATEST)/bin/ruff check .
	$(LATEST)/bin/mypy
	$(LATEST)/bin/pytest

neo4j-start: install
	$(BIN)/kb neo4j start

neo4j-stop: install
	$(BIN)/kb neo4j stop

neo4j-status: install
	$(BIN)/kb neo4j status

## make sdl: rewrite schema/schema.graphql and schema/seed.schema.json from the code.
sdl: install
	$(BIN)/kb schema export

## make bench: kb against the Neo4j GraphQL Library and the driver floor (see bench/README.md).
bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	cd bench/neo4j-graphql && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench.perf

## make bench-seed: kb seed throughput and memory at 100k and 1M claims, ingestReport latency (see bench/README.md).
bench-seed: install
	$(BIN)/python -m bench.seed

clean:
	rm -rf $(VENV) $(LATEST) web/node_modules tests/clients/node_modules .pytest_cache .mypy_cache .ruff_cache
