"""The gateways `make bench` measures, and what each stands on: its database, its client and
key (made through the `bizgraph` CLI, as an operator would), its `bizgraph serve` processes, and
the checks after the run (usage records per client, `bizgraph ledger verify` per database)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.databases import postgres_usage_records, sqlite_usage_records
from bench.procs import VENV_BIN, Child, Children, free_port, run_cli

CHAT_PATH = "/v1/chat/completions"
UPSTREAM_KEY = "sk-bench"
SQLITE = "sqlite"
POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    name: str
    backend: str  # SQLITE (a file of its own) or POSTGRES (the run's database, shared)
    about: str
    processes: int = 1  # `bizgraph serve` processes, each on its own port
    workers: int = 1  # `--workers` of each
    budget: bool = False  # the client has a hard budget: a hold and a settlement per call
    redis: bool = False  # BIZGRAPH_REDIS_URL set to the run's Redis database


GATEWAYS = (
    GatewaySpec("gateway", SQLITE, "SQLite, one process, no budget"),
    GatewaySpec("gateway-budget", SQLITE, "SQLite, one process, hard budget", budget=True),
    GatewaySpec("gateway-w2", SQLITE, "SQLite, `--workers 2`", workers=2),
    GatewaySpec("gateway-pg", POSTGRES, "PostgreSQL, one process"),
    GatewaySpec("gateway-pg2", POSTGRES, "PostgreSQL + Redis, two processes", 2, redis=True),
)
GATEWAY_SPECS = {spec.name: spec for spec in GATEWAYS}


@dataclass(frozen=True, slots=True)
class Database:
    """A database some gateways share: a SQLite file, or the run's PostgreSQL database."""

    label: str
    url: str
    env: dict[str, str]  # what the CLI and `bizgraph serve` run with
    sqlite_path: Path | None = None

    def usage_records(self, client_id: str) -> int:
        if self.sqlite_path is not None:
            return sqlite_usage_records(self.sqlite_path, client_id)
        return postgres_usage_records(self.url, client_id)


@dataclass(frozen=True, slots=True)
class Tenant:
    """The benchmark's client in a database, and its API key."""

    client_id: str
    api_key: str


@dataclass(frozen=True, slots=True)
class Deployment:
    spec: GatewaySpec
    database: Database
    tenant: Tenant


@dataclass(frozen=True, slots=True)
class Served:
    deployment: Deployment
    processes: tuple[Child, ...]
    urls: tuple[str, ...]  # the chat endpoint of each process

    @property
    def name(self) -> str:
        return self.deployment.spec.name


def gateway_env(
    database_url: str, data_dir: Path, upstream_port: int, base_env: Mapping[str, str]
) -> dict[str, str]:
    return {
        **base_env,
        "BIZGRAPH_DATABASE_URL": database_url,
        "BIZGRAPH_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "BIZGRAPH_DATA_DIR": str(data_dir),
        "BIZGRAPH_ENV": "production",
        "BIZGRAPH_DRAIN_AFTER_DISCONNECT": "5",  # quick shutdown at the end
        "BIZGRAPH_REDIS_URL": "",  # only the targets that name Redis use it
        "OPENAI_API_KEY": UPSTREAM_KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
    }


def sqlite_database(
    workdir: Path, name: str, upstream_port: int, base_env: Mapping[str, str]
) -> Database:
    path = workdir / f"{name}.db"
    url = f"sqlite:///{path}"
    env = gateway_env(url, workdir / f"{name}-data", upstream_port, base_env)
    return Database(f"SQLite {path.name}", url, env, path)


def postgres_database(
    workdir: Path, url: str, name: str, upstream_port: int, base_env: Mapping[str, str]
) -> Database:
    env = gateway_env(url, workdir / "postgres-data", upstream_port, base_env)
    return Database(f"PostgreSQL {name}", url, env)


def bizgraph(*args: str) -> list[str]:
    return [str(VENV_BIN / "bizgraph"), *args]


def prepare_tenants(
    plan: Sequence[tuple[Database, Sequence[tuple[str, str | None]]]],
    env: Mapping[str, str],
) -> list[list[Tenant]]:
    """Migrate each database and give it a client and key per (name, budget), through the
    `bizgraph` CLI's commands in one process (bench/cli_batch.py); a budget is a hard monthly
    limit (a hold before every provider call, a settlement after)."""
    document = [
        {"env": db.env, "tenants": [{"name": n, "budget": b} for n, b in tenants]}
        for db, tenants in plan
    ]
    output = run_cli(batch("prepare"), env, orjson.dumps(document).decode())
    return [[Tenant(**made) for made in database] for database in orjson.loads(output)]


def deploy(
    specs: Sequence[GatewaySpec],
    workdir: Path,
    upstream_port: int,
    base_env: Mapping[str, str],
    budget: str,
    postgres: tuple[str, str] | None,
) -> list[Deployment]:
    """Each SQLite gateway on a database file of its own, every PostgreSQL gateway on the run's
    database `postgres` (url, name), each with a client of its own."""
    groups: dict[str, list[GatewaySpec]] = {}  # database -> the gateways on it
    for spec in specs:
        groups.setdefault(spec.name if spec.backend == SQLITE else POSTGRES, []).append(spec)

    def database(group: str) -> Database:
        if group != POSTGRES:
            return sqlite_database(workdir, group, upstream_port, base_env)
        if postgres is None:
            raise ValueError("the PostgreSQL gateways need the run's PostgreSQL database")
        url, name = postgres
        return postgres_database(workdir, url, name, upstream_port, base_env)

    plan = [
        (database(group), [(s.name, budget if s.budget else None) for s in on_it])
        for group, on_it in groups.items()
    ]
    tenants = prepare_tenants(plan, base_env)
    prepared = {
        spec.name: Deployment(spec, db, tenant)
        for (db, _), on_it, made in zip(plan, groups.values(), tenants, strict=True)
        for spec, tenant in zip(on_it, made, strict=True)
    }
    return [prepared[spec.name] for spec in specs]


def serve(
    children: Children, deployments: Sequence[Deployment], redis_url: str | None
) -> list[Served]:
    """Start every gateway's `bizgraph serve` processes, then wait until each answers /healthz
    (started together: their imports overlap)."""
    started = []
    for deployment in deployments:
        spec = deployment.spec
        env = dict(deployment.database.env)
        if spec.redis:
            if redis_url is None:
                raise ValueError(f"{spec.name} needs a Redis URL")
            env["BIZGRAPH_REDIS_URL"] = redis_url
        processes = []
        for index in range(spec.processes):
            port = free_port()
            name = spec.name if spec.processes == 1 else f"{spec.name}-{index + 1}"
            argv = bizgraph("serve", "--port", str(port), "--workers", str(spec.workers))
            processes.append((children.start(name, argv, env=env), port))
        started.append((deployment, processes))
    for _, processes in started:
        for child, port in processes:
            child.wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    return [
        Served(
            deployment,
            tuple(child for child, _ in processes),
            tuple(f"http://127.0.0.1:{port}{CHAT_PATH}" for _, port in processes),
        )
        for deployment, processes in started
    ]


def verify_ledgers(databases: Sequence[Database], env: Mapping[str, str]) -> list[str | None]:
    """`bizgraph ledger verify` on each database: None where it passes, else what it printed."""
    document = [{"env": db.env} for db in databases]
    problems: list[str | None] = orjson.loads(
        run_cli(batch("verify"), env, orjson.dumps(document).decode())
    )
    return problems


def batch(job: str) -> list[str]:
    return [sys.executable, "-m", "bench.cli_batch", job]


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    env: dict[str, str]
    api_key: str
    database: Path


def prepare_gateway(
    workdir: Path, upstream_port: int, base_env: dict[str, str], budget: str | None = None
) -> GatewaySetup:
    """A migrated SQLite database with one client (20% margin) and one API key; with
    `budget`, the client gets a hard budget of that limit (bench/profile_gateway.py)."""
    database = sqlite_database(workdir, "bench", upstream_port, base_env)
    [[tenant]] = prepare_tenants([(database, [("bench", budget)])], base_env)
    assert database.sqlite_path is not None
    return GatewaySetup(database.env, tenant.api_key, database.sqlite_path)
