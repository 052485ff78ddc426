"""What backup and restore share on both backends: the reports, the user-facing error, the
revision check, and the temporary file a backup is written to and renamed from."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

from adapters.persistence.database import async_url, safe_url
from adapters.persistence.migrate import alembic_config, head_revision

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


def parse_url(url: str) -> URL:
    try:
        return make_url(async_url(url))
    except Exception as exc:
        raise BackupError(f"invalid database URL {safe_url(url)}: {type(exc).__name__}") from None


@contextlib.contextmanager
def file_errors() -> Iterator[None]:
    """A file system refusal (permissions, a full disk) as a message, not a traceback."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise BackupError(f"{where}{exc.strerror or exc}") from None


def check_revision(revision: str | None, what: str) -> bool:
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
def temporary_next_to(path: Path) -> Iterator[Path]:
    """A temporary file in path's directory (so the final rename is atomic), removed unless
    the caller renamed it."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def publish(temporary: Path, destination: Path) -> None:
    with temporary.open("rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, destination)
    directory = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def not_empty(url: str, counts: Mapping[str, int]) -> str:
    return (
        f"database {safe_url(url)} is not empty ({describe_counts(counts)}): give --force to "
        "replace it, or restore into a new database"
    )


def describe_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items())
