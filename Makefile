# Two entry points for a fresh machine: `make run` and `make test` (both run `make setup` first).
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: setup run test lint types unit bench schema clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

setup: $(UV)
	$(UV) sync --frozen --compile-bytecode --python python3

run: setup
	BIZGRAPH_ENV=$${BIZGRAPH_ENV:-development} .venv/bin/bizgraph migrate
	BIZGRAPH_ENV=$${BIZGRAPH_ENV:-development} .venv/bin/bizgraph serve --host 127.0.0.1 --port $${PORT:-8080}

lint: setup
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

types: setup
	.venv/bin/mypy

test: setup lint types
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.gateway

schema: setup
	UPDATE_SCHEMA=1 .venv/bin/pytest tests/api/test_graphql_basics.py -q -k schema_graphql

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
