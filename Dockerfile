# syntax=docker/dockerfile:1
# Bizgraph's image: the web apps built with node, the locked Python dependencies installed with
# uv, then a slim runtime that runs `bizgraph serve` as a non-root user. How to build and run it,
# and what was and was not exercised: docs/operations.md, "Deployment".

# 1. The web apps (`make web`): the build generates types from ../schema.graphql.
FROM node:20-bookworm-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY schema.graphql /build/
COPY web/ ./
RUN npm run build

# 2. The locked dependencies and Bizgraph itself into /app/.venv, with the uv the Makefile pins
# (tests/deploy checks they agree). Not editable: the venv alone carries the code and migrations.
FROM python:3.11-slim-bookworm AS builder
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# The dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-editable --no-install-project --python python3.11
COPY src/ src/
RUN uv sync --frozen --no-dev --no-editable --python python3.11

# 3. The runtime: the same Python, the venv and the built web apps; no compiler, no node, no uv.
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 bizgraph \
    && useradd --system --uid 10001 --gid bizgraph --home-dir /app --no-create-home bizgraph \
    && mkdir /data \
    && chown bizgraph:bizgraph /data
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY --from=web /build/web/dist /app/web/dist
# The settings' default web dir is relative to a checkout, so it is named here; /data holds the
# default SQLite file and a generated secret when BIZGRAPH_SECRET_KEY is not set.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    BIZGRAPH_WEB_DIR=/app/web/dist \
    BIZGRAPH_DATA_DIR=/data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
# /healthz answers 200 while the process is alive; slim images have no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["bizgraph"]
# BIZGRAPH_MIGRATE_ON_START=true (or `serve --migrate`) migrates before serving.
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
