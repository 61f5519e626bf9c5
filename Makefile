# The two commands people type: `make serve` and `make test`. Everything else
# they need (virtual environment, packages, Neo4j from Maven Central) is set up
# on the way.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall whenever the dependency list or the pins change.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: serve test install lint typecheck unit neo4j-start neo4j-stop neo4j-status sdl bench-seed clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## make serve: start Neo4j (unless NEO4J_URI is set), apply the schema, seed an empty database, serve on PORT.
serve: install
	$(BIN)/kb serve

## make test: lint, type-check, then the whole suite against a real Neo4j.
test: install lint typecheck unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

neo4j-start: install
	$(BIN)/kb neo4j start

neo4j-stop: install
	$(BIN)/kb neo4j stop

neo4j-status: install
	$(BIN)/kb neo4j status

## make sdl: rewrite schema/schema.graphql and schema/seed.schema.json from the code.
sdl: install
	$(BIN)/kb schema export

## make bench-seed: kb seed throughput and memory at 100k and 1M claims, ingestReport latency (see bench/README.md).
bench-seed: install
	$(BIN)/python -m bench.seed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
