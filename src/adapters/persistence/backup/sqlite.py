"""Backup and restore of a SQLite database: the online backup API copies it in one step, i.e.
inside one read transaction, so the copy is a consistent snapshot while the gateway keeps
writing (WAL: readers never block the writer)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

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
from adapters.persistence.database import safe_url, sqlite_path


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


def backup_sqlite(url: str, parsed: URL, destination: Path) -> BackupReport:
    source = _sqlite_source(url, parsed)
    with temporary_next_to(destination) as temporary:
        try:
            src = _open_sqlite(source)
            try:
                revision, _, _ = _sqlite_facts(src)
                check_revision(revision, f"database {safe_url(url)}")
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
        publish(temporary, destination)
    return BackupReport(destination, size, revision, counts)


def restore_sqlite(url: str, parsed: URL, source: Path, force: bool) -> RestoreReport:
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
        behind = check_revision(revision, str(source))
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
                with temporary_next_to(target) as temporary:
                    copy = sqlite3.connect(temporary, isolation_level=None)
                    try:
                        backup_db.backup(copy)
                        copy.execute("PRAGMA journal_mode = WAL")  # as the gateway runs it
                        _forget_leases(copy)
                    finally:
                        copy.close()
                    publish(temporary, target)
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
        raise BackupError(not_empty(url, counts))
    return counts


def _forget_leases(db: sqlite3.Connection) -> None:
    """The backed-up gateways' leases: no process serves the restored database, so the calls
    they had open are settled by the next gateway's crash recovery (docs/metering.md)."""
    if _sqlite_has_table(db, "process_leases"):
        db.execute("DELETE FROM process_leases")


def _sqlite_has_table(db: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(query, (name,)).fetchone() is not None
