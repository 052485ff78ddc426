"""`bizgraph` CLI commands for the benchmark, run in one process by typer's test runner (one
import of the app instead of a process of ~2 s per command). Two jobs, each reading JSON on
stdin and writing JSON on stdout:

`prepare`: for each database, `bizgraph migrate`, then per gateway `clients create` (20 %
margin), `keys issue` and, with a budget, `budgets set` (a hard monthly limit).

    in:  [{"env": {"BIZGRAPH_DATABASE_URL": ...}, "tenants": [{"name": "gateway", "budget": null}]}]
    out: [[{"client_id": ..., "api_key": ...}]]   (one list per database, in order)

`verify`: `bizgraph ledger verify` on each database.

    in:  [{"env": {...}}]
    out: [null or what the command printed when it failed]

    python -m bench.cli_batch prepare < plan.json
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import orjson
from typer.testing import CliRunner

from api.cli.main import app


class CommandFailed(RuntimeError):
    pass


def bizgraph(runner: CliRunner, env: Mapping[str, str], *args: str) -> str:
    """Run one `bizgraph` command with `env` and return its stdout; raise when it fails."""
    result = runner.invoke(app, list(args), env=dict(env))
    if result.exit_code != 0:
        raise CommandFailed(
            f"bizgraph {' '.join(args)} failed ({result.exit_code}): {result.output}"
        ) from result.exception
    return result.stdout


def prepare(
    runner: CliRunner, env: Mapping[str, str], tenants: list[dict[str, str | None]]
) -> list[dict[str, str]]:
    bizgraph(runner, env, "migrate")
    made = []
    for tenant in tenants:
        name = str(tenant["name"])
        created = bizgraph(runner, env, "clients", "create", "--name", name, "--margin", "20")
        client_id = created.split()[1]  # "client <id> 'name': percentage_margin from ..."
        api_key = bizgraph(runner, env, "keys", "issue", client_id, "--name", name).strip()
        budget = tenant.get("budget")
        if budget is not None:
            bizgraph(runner, env, "budgets", "set", client_id, "--limit", budget)
        made.append({"client_id": client_id, "api_key": api_key})
    return made


def verify(runner: CliRunner, env: Mapping[str, str]) -> str | None:
    try:
        bizgraph(runner, env, "ledger", "verify")
    except CommandFailed as failed:
        return str(failed)
    return None


def main() -> None:
    job = sys.argv[1] if len(sys.argv) == 2 else ""
    if job not in ("prepare", "verify"):
        sys.exit("usage: python -m bench.cli_batch prepare|verify < databases.json")
    databases: list[dict[str, Any]] = orjson.loads(sys.stdin.buffer.read())
    runner = CliRunner()
    if job == "prepare":
        out: list[Any] = [prepare(runner, db["env"], db["tenants"]) for db in databases]
    else:
        out = [verify(runner, db["env"]) for db in databases]
    sys.stdout.buffer.write(orjson.dumps(out))


if __name__ == "__main__":
    main()
