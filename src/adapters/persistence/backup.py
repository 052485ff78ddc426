"""`bizgraph backup` and `bizgraph restore` (docs/operations.md, "Backups and restore").

SQLite: the online backup API copies the database in one step, i.e. inside one read transaction,
so the copy is a consistent snapshot while the gateway keeps writing (WAL: readers never block
the writer). PostgreSQL: `pg_dump --format=custom` (one repeatable-read snapshot) and
`pg_restore`, the connection passed in PG* environment variables so `ps` never shows a password.

A backup is written to a temporary file next to its path and renamed into place, so a crash
never leaves a half-written file under the final name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from adapters.persistence.database import async_url, safe_url, sqlite_path
from adapters.persistence.migrate import alembic_config, head_revision
from adapters.persistence.postgres_call_log import asyncpg_dsn

# Shown after a backup or restore: what an operator checks first.
COUNTED_TABLES = ("clients", "usage_records", "ledger_entries", "invoices")
# Rows a just-migrated database already holds: it still counts as empty.
SCHEMA_TABLES = frozenset(
    {"alembic_version", "models", "price_versions", "process_leases", "revisions"}
)
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A user-facing failure of a backup or restore: the message says what and what to do."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size: int
    revision: str
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RestoreReport:
    target: str  # the database URL, password masked
    revision: str
    counts: Mapping[str, int]
    replaced: Mapping[str, int] | None = None  # what the target held (--force), else None
    behind: bool = False  # the backup is at an older schema: `bizgraph migrate` next
    notes: list[str] = field(default_factory=list)


def _parse(url: str) -> URL:
    try:
        return make_url(async_url(url))
    except Exception as exc:
        raise BackupError(f"invalid database URL {safe_url(url)}: {type(exc).__name__}") from None


@contextlib.contextmanager
def _file_errors() -> Iterator[None]:
    """A file system refusal (permissions, a full disk) as a message, not a traceback."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise BackupError(f"{where}{exc.strerror or exc}") from None


async def backup(url: str, destination: Path, *, force: bool = False) -> BackupReport:
    """Back up the database at `url` to `destination` (refused if it exists, unless force)."""
    with _file_errors():
        return await _backup(url, destination, force)


async def restore(url: str, source: Path, *, force: bool = False) -> RestoreReport:
    """Restore the backup at `source` into the database at `url` (refused if that database
    holds data, unless force)."""
    with _file_errors():
        return await _restore(url, source, force)


async def _backup(url: str, destination: Path, force: bool) -> BackupReport:
    parsed = _parse(url)
    _check_destination(destination, force)
    if parsed.get_backend_name() == "sqlite":
        return await asyncio.to_thread(_backup_sqlite, url, parsed, destination)
    if parsed.get_backend_name() == "postgresql":
        return await _backup_postgres(url, parsed, destination)
    raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")


async def _restore(url: str, source: Path, force: bool) -> RestoreReport:
    parsed = _parse(url)
    kind = _backup_kind(source)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if kind != "sqlite":
            raise BackupError(f"{source} is a PostgreSQL backup; the configured database is SQLite")
        return await asyncio.to_thread(_restore_sqlite, url, parsed, source, force)
    if backend == "postgresql":
        if kind != "postgresql":
            raise BackupError(f"{source} is a SQLite backup; the configured database is PostgreSQL")
        return await _restore_postgres(url, parsed, source, force)
    raise BackupError(f"cannot restore into a {backend} database")


def _check_destination(destination: Path, force: bool) -> None:
    if not destination.parent.is_dir():
        raise BackupError(f"directory {destination.parent} does not exist")
    if destination.is_dir():
        raise BackupError(f"{destination} is a directory: give a file path")
    if destination.exists() and not force:
        raise BackupError(f"{destination} already exists: give --force to overwrite it")


def _backup_kind(source: Path) -> str:
    try:
        with source.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{source} does not exist") from None
    except IsADirectoryError:
        raise BackupError(f"{source} is a directory, not a backup file") from None
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror}") from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{source} is not a Bizgraph backup (neither SQLite nor pg_dump custom)")


def _check_revision(revision: str | None, what: str) -> bool:
    """True when `revision` is older than this code's head (a migrate is needed afterwards);
    raises for no revision or one this code does not know (a newer Bizgraph's)."""
    head = head_revision()
    if revision is None:
        raise BackupError(f"{what} is not a Bizgraph database (no alembic_version)")
    if revision == head:
        return False
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"{what} is at schema {revision}, newer than this Bizgraph (head {head}): "
            "restore it with the Bizgraph version that made it, or upgrade Bizgraph first"
        )
    return True


@contextlib.contextmanager
def _temporary_next_to(path: Path) -> Iterator[Path]:
    """A temporary file in path's directory (so the final rename is atomic), removed unless
    the caller renamed it."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _publish(temporary: Path, destination: Path) -> None:
    with temporary.open("rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, destination)
    directory = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_source(url: str, parsed: URL) -> Path:
    path = sqlite_path(parsed)
    if path is None:
        raise BackupError(f"database {safe_url(url)} is not a SQLite file")
    if not path.is_file():
        raise BackupError(f"database {safe_url(url)} does not exist")
    return path


def _sqlite_facts(db: sqlite3.Connection) -> tuple[str | None, dict[str, int], int]:
    """(alembic revision, row counts of COUNTED_TABLES, rows outside SCHEMA_TABLES)."""
    tables = [
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    revision = None
    if "alembic_version" in tables:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
    # Names come from sqlite_master, quoted: never from input.
    counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
    data_rows = sum(n for t, n in counts.items() if t not in SCHEMA_TABLES)
    return revision, {t: counts.get(t, 0) for t in COUNTED_TABLES}, data_rows


def _open_sqlite(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro" if read_only else f"{path.resolve().as_uri()}"
    db = sqlite3.connect(uri, uri=True, timeout=15, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 15000")
    return db


def _backup_sqlite(url: str, parsed: URL, destination: Path) -> BackupReport:
    source = _sqlite_source(url, parsed)
    with _temporary_next_to(destination) as temporary:
        try:
            src = _open_sqlite(source)
            try:
                revision, _, _ = _sqlite_facts(src)
                _check_revision(revision, f"database {safe_url(url)}")
                copy = sqlite3.connect(temporary, isolation_level=None)
                try:
                    src.backup(copy)  # pages=-1: one step, one consistent snapshot
                    # A single self-contained file: no -wal beside it.
                    copy.execute("PRAGMA journal_mode = DELETE")
                    checked = copy.execute("PRAGMA quick_check").fetchone()[0]
                    if checked != "ok":
                        raise BackupError(f"the copy failed its integrity check: {checked}")
                    revision, counts, _ = _sqlite_facts(copy)
                finally:
                    copy.close()
            finally:
                src.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"database {safe_url(url)}: {exc}") from None
        assert revision is not None
        size = temporary.stat().st_size
        _publish(temporary, destination)
    return BackupReport(destination, size, revision, counts)


def _restore_sqlite(url: str, parsed: URL, source: Path, force: bool) -> RestoreReport:
    target = sqlite_path(parsed)
    if target is None:
        raise BackupError(f"database {safe_url(url)} is not a SQLite file")
    try:
        backup_db = _open_sqlite(source, read_only=True)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a usable SQLite database ({exc})") from None
    try:
        try:
            if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (its integrity check failed)")
            revision, counts, _ = _sqlite_facts(backup_db)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a usable SQLite database ({exc})") from None
        behind = _check_revision(revision, str(source))
        assert revision is not None
        replaced = None
        try:
            if target.exists() and target.stat().st_size > 0:
                db = _open_sqlite(target)
                try:
                    replaced = _sqlite_occupied(db, url, force)
                    # Into the live file: SQLite replaces it in one write transaction,
                    # journal and all (no stale -wal left next to a swapped file).
                    backup_db.backup(db)
                    _forget_leases(db)
                finally:
                    db.close()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                with _temporary_next_to(target) as temporary:
                    copy = sqlite3.connect(temporary, isolation_level=None)
                    try:
                        backup_db.backup(copy)
                        copy.execute("PRAGMA journal_mode = WAL")  # as the gateway runs it
                        _forget_leases(copy)
                    finally:
                        copy.close()
                    _publish(temporary, target)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"cannot restore into database {safe_url(url)}: {exc}") from None
    finally:
        backup_db.close()
    return RestoreReport(safe_url(url), revision, counts, replaced, behind)


def _sqlite_occupied(db: sqlite3.Connection, url: str, force: bool) -> dict[str, int] | None:
    """None for an empty target; its counts when it holds data and force is given."""
    _, counts, data_rows = _sqlite_facts(db)
    live = db.execute(
        "SELECT max(expires_at) FROM process_leases"
        if _sqlite_has_table(db, "process_leases")
        else "SELECT NULL"
    ).fetchone()[0]
    if live is not None and datetime.fromisoformat(live).replace(tzinfo=UTC) > datetime.now(UTC):
        raise BackupError(f"a gateway is serving database {safe_url(url)}: stop it first")
    if data_rows == 0:
        return None
    if not force:
        raise BackupError(_not_empty(url, counts))
    return counts


def _forget_leases(db: sqlite3.Connection) -> None:
    """The backed-up gateways' leases: no process serves the restored database, so the calls
    they had open are settled by the next gateway's crash recovery (docs/metering.md)."""
    if _sqlite_has_table(db, "process_leases"):
        db.execute("DELETE FROM process_leases")


def _sqlite_has_table(db: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(query, (name,)).fetchone() is not None


def _not_empty(url: str, counts: Mapping[str, int]) -> str:
    return (
        f"database {safe_url(url)} is not empty ({describe_counts(counts)}): give --force to "
        "replace it, or restore into a new database"
    )


def describe_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items())


# --- PostgreSQL -----------------------------------------------------------------------------


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


async def _backup_postgres(url: str, parsed: URL, destination: Path) -> BackupReport:
    pg_dump = _tool("pg_dump", parsed, destination)
    connection = await _connect(url)
    try:
        # Counts and revision from the very snapshot pg_dump copies (pg_export_snapshot).
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            revision, counts, _, _ = await _postgres_facts(connection)
            _check_revision(revision, f"database {safe_url(url)}")
            with _temporary_next_to(destination) as temporary:
                code, _, err = await _run_tool(
                    [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={temporary}"],
                    postgres_environment(parsed),
                )
                if code != 0:
                    raise _tool_failure("pg_dump", err)
                size = temporary.stat().st_size
                _publish(temporary, destination)
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


async def _restore_postgres(url: str, parsed: URL, source: Path, force: bool) -> RestoreReport:
    pg_restore = _tool("pg_restore", parsed, source)
    revision, dumped_tables = await _dump_contents(pg_restore, source)
    behind = _check_revision(revision, str(source))
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
                raise BackupError(_not_empty(url, before))
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
        await connection.execute("DELETE FROM process_leases")  # as _forget_leases
        _, counts, _, _ = await _postgres_facts(connection)
    finally:
        await connection.close()
    return RestoreReport(safe_url(url), revision, counts, replaced, behind)
