"""`bizgraph backup` and `bizgraph restore`: which backend the URL (or the backup file) is, and
the checks before either touches a file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.persistence.backup.common import (
    PGDUMP_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    BackupReport,
    RestoreReport,
    file_errors,
    parse_url,
)
from adapters.persistence.backup.postgres import backup_postgres, restore_postgres
from adapters.persistence.backup.sqlite import backup_sqlite, restore_sqlite


async def backup(url: str, destination: Path, *, force: bool = False) -> BackupReport:
    """Back up the database at `url` to `destination` (refused if it exists, unless force)."""
    with file_errors():
        return await _backup(url, destination, force)


async def restore(url: str, source: Path, *, force: bool = False) -> RestoreReport:
    """Restore the backup at `source` into the database at `url` (refused if that database
    holds data, unless force)."""
    with file_errors():
        return await _restore(url, source, force)


async def _backup(url: str, destination: Path, force: bool) -> BackupReport:
    parsed = parse_url(url)
    _check_destination(destination, force)
    if parsed.get_backend_name() == "sqlite":
        return await asyncio.to_thread(backup_sqlite, url, parsed, destination)
    if parsed.get_backend_name() == "postgresql":
        return await backup_postgres(url, parsed, destination)
    raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")


async def _restore(url: str, source: Path, force: bool) -> RestoreReport:
    parsed = parse_url(url)
    kind = _backup_kind(source)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if kind != "sqlite":
            raise BackupError(f"{source} is a PostgreSQL backup; the configured database is SQLite")
        return await asyncio.to_thread(restore_sqlite, url, parsed, source, force)
    if backend == "postgresql":
        if kind != "postgresql":
            raise BackupError(f"{source} is a SQLite backup; the configured database is PostgreSQL")
        return await restore_postgres(url, parsed, source, force)
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
