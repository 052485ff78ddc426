"""The database as the commands and the hot path need it: the call log for its backend, the
schema status and migration, backup and restore, the bundled catalog."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from adapters.default_catalog import load_default_catalog
from adapters.persistence.backup.common import BackupError as BackupError  # re-exported for the CLI
from adapters.persistence.backup.common import BackupReport as BackupReport
from adapters.persistence.backup.common import RestoreReport as RestoreReport
from adapters.persistence.backup.common import describe_counts as describe_counts
from adapters.persistence.backup.operations import backup as backup_to
from adapters.persistence.backup.operations import restore as restore_from
from adapters.persistence.call_log.postgres import PostgresCallLog
from adapters.persistence.call_log.sqlite import SqliteCallLog
from adapters.persistence.database import async_url, sqlite_path
from adapters.persistence.migrate import SchemaStatus, schema_status, upgrade
from api.settings import Settings
from domain.catalog.models import Model, PriceVersion
from domain.metering.ports import CallLog
from domain.telemetry import NO_TELEMETRY, Telemetry


def build_call_log(settings: Settings, telemetry: Telemetry = NO_TELEMETRY) -> CallLog | None:
    """The hot path's own writer: a thread for a SQLite file, asyncpg for PostgreSQL; None
    (the unit of work) for an in-memory SQLite database. With metrics on, it reports each
    batch it commits."""
    log: SqliteCallLog | PostgresCallLog
    if (path := sqlite_path(settings.database_url)) is not None:
        log = SqliteCallLog(path)
    elif make_url(async_url(settings.database_url)).get_backend_name() == "postgresql":
        log = PostgresCallLog(settings.database_url)
    else:
        return None
    if telemetry.enabled:
        log.observe = telemetry.write_batch
    return log


async def database_status(settings: Settings) -> SchemaStatus:
    return await schema_status(settings.database_url)


async def migrate_database(settings: Settings) -> None:
    await upgrade(settings.database_url)


async def backup_database(settings: Settings, path: Path, *, force: bool) -> BackupReport:
    """`bizgraph backup` (adapters/persistence/backup/); BackupError for the user."""
    return await backup_to(settings.database_url, path, force=force)


async def restore_database(settings: Settings, path: Path, *, force: bool) -> RestoreReport:
    """`bizgraph restore` into the configured database; BackupError for the user."""
    return await restore_from(settings.database_url, path, force=force)


def default_catalog() -> tuple[list[Model], list[PriceVersion]]:
    return load_default_catalog()
