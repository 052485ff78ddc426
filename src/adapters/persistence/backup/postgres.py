"""Backup and restore of a PostgreSQL database: `pg_dump --format=custom` (one repeatable-read
snapshot) and `pg_restore`, the connection passed in PG* environment variables so `ps` never
shows a password."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from adapters.persistence.backup.common import (
    COUNTED_TABLES,
    SCHEMA_TABLES,
    BackupError,
    BackupReport,
    RestoreReport,
    check_revision,
    not_empty,
    publish,
    temporary_next_to,
)
from adapters.persistence.call_log.postgres import asyncpg_dsn
from adapters.persistence.database import safe_url


def postgres_environment(parsed: URL) -> dict[str, str]:
    """libpq's PG* variables for the URL: the password never appears on a command line."""
    env = {
        "PGHOST": parsed.host or "",
        "PGPORT": str(parsed.port or ""),
        "PGUSER": parsed.username or "",
        "PGPASSWORD": parsed.password if isinstance(parsed.password, str) else "",
        "PGDATABASE": parsed.database or "",
    }
    sslmode = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return {k: v for k, v in env.items() if v}


def documented_command(tool: str, parsed: URL, path: Path) -> str:
    """What to run by hand where the PostgreSQL client tools are not installed."""
    env = " ".join(
        f"{k}={'...' if k == 'PGPASSWORD' else shlex.quote(v)}"
        for k, v in postgres_environment(parsed).items()
    )
    quoted = shlex.quote(str(path))
    if tool == "pg_dump":
        return f"{env} pg_dump --format=custom --file={quoted}"
    return (
        f"{env} pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction "
        f"--exit-on-error --dbname=$PGDATABASE {quoted}"
    )


def _tool(name: str, parsed: URL, path: Path) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (PostgreSQL client tools; e.g. apt-get install "
            f"postgresql-client, of the server's major version or newer); run instead:\n  "
            f"{documented_command(name, parsed, path)}"
        )
    return found


async def _run_tool(command: list[str], env: Mapping[str, str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a client tool, its environment extended by `env`."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _tool_failure(name: str, stderr: str) -> BackupError:
    mismatch = re.search(r"server version: (\S+); \S+ version: (\S+)", stderr)
    if "version mismatch" in stderr or mismatch:
        versions = f" (server {mismatch[1]}, {name} {mismatch[2]})" if mismatch else ""
        return BackupError(
            f"{name} is older than the PostgreSQL server{versions}: install the client tools "
            "of the server's major version (or newer) and put them first on PATH"
        )
    lines = [line for line in stderr.splitlines() if line.strip()][:5]
    return BackupError(f"{name} failed:\n  " + "\n  ".join(lines))


async def _postgres_facts(
    connection: asyncpg.Connection,
) -> tuple[str | None, dict[str, int], int, set[str]]:
    """(revision, COUNTED_TABLES' counts, rows outside SCHEMA_TABLES, table names)."""
    tables = {
        r["tablename"]
        for r in await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    revision = None
    if "alembic_version" in tables:
        revision = await connection.fetchval("SELECT version_num FROM alembic_version")
    counts = {}
    for table in tables:  # names from the catalog, quoted: never from input
        counts[table] = int(await connection.fetchval(f'SELECT count(*) FROM "{table}"'))  # noqa: S608
    data_rows = sum(n for t, n in counts.items() if t not in SCHEMA_TABLES)
    return revision, {t: counts.get(t, 0) for t in COUNTED_TABLES}, data_rows, tables


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(asyncpg_dsn(url), timeout=15)
    except asyncpg.InvalidCatalogNameError:
        raise BackupError(
            f"database {safe_url(url)} does not exist: create it first (createdb)"
        ) from None
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise BackupError(f"database {safe_url(url)} is unreachable ({exc})") from None


async def backup_postgres(url: str, parsed: URL, destination: Path) -> BackupReport:
    pg_dump = _tool("pg_dump", parsed, destination)
    connection = await _connect(url)
    try:
        # Counts and revision from the very snapshot pg_dump copies (pg_export_snapshot).
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            revision, counts, _, _ = await _postgres_facts(connection)
            check_revision(revision, f"database {safe_url(url)}")
            with temporary_next_to(destination) as temporary:
                code, _, err = await _run_tool(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={temporary}"],
                    postgres_environment(parsed),
                )
                if code != 0:
                    raise _tool_failure("pg_dump", err)
                size = temporary.stat().st_size
                publish(temporary, destination)
    finally:
        await connection.close()
    assert revision is not None
    return BackupReport(destination, size, revision, counts)


async def _dump_contents(pg_restore: str, source: Path) -> tuple[str | None, set[str]]:
    """The backup's alembic revision and table names, read from the file (no database)."""
    code, listing, err = await _run_tool([pg_restore, "--list", str(source)], {})
    if code != 0:
        raise BackupError(f"{source} is not a readable pg_dump archive ({_first_line(err)})")
    # A listing line: "215; 1259 16390 TABLE public usage_records owner".
    tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.M))
    code, sql, err = await _run_tool(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)], {}
    )
    if code != 0:
        raise BackupError(f"{source}: cannot read its schema revision ({_first_line(err)})")
    block = re.search(
        r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)^\\\.", sql, re.S | re.M
    )
    rows = block[1].split() if block else []
    return (rows[0] if rows else None), tables


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no detail"


def _conninfo(database: str) -> str:
    """--dbname as a libpq conninfo, so a name holding '=' or spaces stays a name."""
    escaped = database.replace("\\", "\\\\").replace("'", "\\'")
    return f"dbname='{escaped}'"


async def restore_postgres(url: str, parsed: URL, source: Path, force: bool) -> RestoreReport:
    pg_restore = _tool("pg_restore", parsed, source)
    revision, dumped_tables = await _dump_contents(pg_restore, source)
    behind = check_revision(revision, str(source))
    assert revision is not None
    connection = await _connect(url)
    try:
        _, before, data_rows, tables = await _postgres_facts(connection)
        leases = "process_leases" in tables and await connection.fetchval(
            "SELECT count(*) FROM process_leases WHERE expires_at > now()"
        )
        if leases:
            raise BackupError(f"a gateway is serving database {safe_url(url)}: stop it first")
        replaced = None
        if data_rows:
            if not force:
                raise BackupError(not_empty(url, before))
            replaced = before
        extra = sorted(tables - dumped_tables)
        if extra:
            # --clean drops only what the backup holds; leftovers would break the restored schema.
            raise BackupError(
                f"database {safe_url(url)} has tables the backup does not ({', '.join(extra)}): "
                "restore into a new database (createdb) instead"
            )
        code, _, err = await _run_tool(
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_conninfo(parsed.database or '')}",
                str(source),
            ],
            postgres_environment(parsed),
        )
        if code != 0:
            raise _tool_failure("pg_restore", err)
        await connection.execute("DELETE FROM process_leases")  # as _forget_leases in sqlite.py
        _, counts, _, _ = await _postgres_facts(connection)
    finally:
        await connection.close()
    return RestoreReport(safe_url(url), revision, counts, replaced, behind)
