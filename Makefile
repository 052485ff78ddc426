# Two entry points for a fresh machine: `make run` and `make test` (both run `make setup` first).
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := .venv

.PHONY: setup run test lint types unit bench schema clean web webcheck chromium

# The web apps (web/): dependencies from package-lock.json, reinstalled when it changes.
WEB_DEPS := web/node_modules/.package-lock.json
CHROMIUM ?= /usr/bin/chromium

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

setup: $(UV)
	$(UV) sync --frozen --compile-bytecode --python python3

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_DEPS)

# Types generated from schema.graphql, type-check, build into web/dist (served at / and /portal);
# rebuilt only when a source, the config or the schema changed.
WEB_SOURCES := $(shell find web/src web/portal -type f -not -path 'web/src/gql/*' 2>/dev/null) \
	web/index.html web/package.json web/vite.config.ts web/codegen.ts web/tsconfig.json schema.graphql
web/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

# The web apps' type-check and unit tests (Vitest).
webcheck: $(WEB_DEPS)
	cd web && npm run typecheck && npm test

# The browser tests drive Debian's Chromium (browsers cannot be downloaded by Playwright here).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chromium)." >&2; \
	    exit 1; \
	  fi; \
	fi

run: setup web
	BIZGRAPH_ENV=$${BIZGRAPH_ENV:-development} .venv/bin/bizgraph migrate
	BIZGRAPH_ENV=$${BIZGRAPH_ENV:-development} .venv/bin/bizgraph serve --host 127.0.0.1 --port $${PORT:-8080}

lint: setup
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/lint-imports --no-cache

types: setup
	.venv/bin/mypy

test: setup lint types webcheck web chromium
	BIZGRAPH_REQUIRE_WEB=1 BIZGRAPH_CHROMIUM=$(CHROMIUM) .venv/bin/pytest

bench: setup
	.venv/bin/python -m bench.gateway

schema: setup
	UPDATE_SCHEMA=1 .venv/bin/pytest tests/api/test_graphql_basics.py -q -k schema_graphql

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .pytest_cache .ruff_cache web/node_modules web/dist web/src/gql
