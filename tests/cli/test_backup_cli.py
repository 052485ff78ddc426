"""`bizgraph backup` and `bizgraph restore` given bad input: each refusal is one clear message and
exit status 1, never a traceback; and a backup from an older schema restores, then migrates."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.persistence.migrate import upgrade
from tests.support.databases import postgres_database, require_postgres

BIZGRAPH = str(Path(sys.executable).parent / "bizgraph")


def env_for(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZGRAPH_")}
    return env | {"BIZGRAPH_DATABASE_URL": url, "BIZGRAPH_DATA_DIR": str(tmp_path / "data")} | extra


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIZGRAPH, *args], env=env, capture_output=True, text=True, timeout=60)


def refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.fixture
async def source(tmp_path: Path) -> str:
    """A migrated SQLite database with one client."""
    url = f"sqlite:///{tmp_path / 'source.db'}"
    await upgrade(url)
    created = run(env_for(url, tmp_path), "clients", "create", "--name", "Acme", "--margin", "10")
    assert created.returncode == 0, created.stderr
    return url


def test_a_backup_into_a_missing_directory_is_refused(source: str, tmp_path: Path) -> None:
    result = run(env_for(source, tmp_path), "backup", str(tmp_path / "absent" / "b.db"))
    refused(result, f"directory {tmp_path / 'absent'} does not exist")


def test_an_existing_backup_is_overwritten_only_with_force(source: str, tmp_path: Path) -> None:
    env, path = env_for(source, tmp_path), tmp_path / "b.db"
    path.write_text("precious")
    refused(run(env, "backup", str(path)), "already exists", "--force")
    assert path.read_text() == "precious"
    written = run(env, "backup", "--force", str(path))
    assert written.returncode == 0, written.stderr
    assert "1 clients" in written.stdout
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    assert not path.with_name("b.db-wal").exists()  # one self-contained file
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_missing_source_database_is_reported(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'none.db'}", tmp_path)
    refused(run(env, "backup", str(tmp_path / "b.db")), "does not exist")


def test_restore_refuses_files_that_are_not_bizgraph_backups(tmp_path: Path) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'target.db'}", tmp_path)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n")
    refused(run(env, "restore", str(text_file)), "is not a Bizgraph backup")
    refused(run(env, "restore", str(tmp_path / "absent.db")), "does not exist")
    refused(run(env, "restore", str(tmp_path)), "is a directory")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    refused(run(env, "restore", str(other)), "is not a Bizgraph database")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    refused(run(env, "restore", str(damaged)), str(damaged))
    assert not (tmp_path / "target.db").exists()


async def test_a_backup_of_a_newer_schema_is_refused(source: str, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    assert run(env_for(source, tmp_path), "backup", str(backup)).returncode == 0
    with sqlite3.connect(backup) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    env = env_for(f"sqlite:///{tmp_path / 'target.db'}", tmp_path)
    refused(run(env, "restore", str(backup)), "schema 9999, newer than this Bizgraph")


async def test_a_backup_of_an_older_schema_restores_then_migrates(tmp_path: Path) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    await upgrade(old, "0007")
    backup = tmp_path / "b.db"
    written = run(env_for(old, tmp_path), "backup", str(backup))
    assert written.returncode == 0, written.stderr
    env = env_for(f"sqlite:///{tmp_path / 'target.db'}", tmp_path)
    restored = run(env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "run `bizgraph migrate`" in restored.stderr
    assert run(env, "migrate").returncode == 0
    assert run(env, "ledger", "verify").returncode == 0


def test_restore_into_a_database_with_data_needs_force(source: str, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    assert run(env_for(source, tmp_path), "backup", str(backup)).returncode == 0
    env = env_for(source, tmp_path)  # the source itself holds a client
    refused(run(env, "restore", str(backup)), "is not empty (1 clients")
    forced = run(env, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert "replaced what" in forced.stderr
    assert "1 clients" in forced.stderr
    assert run(env, "ledger", "verify").returncode == 0


def test_restore_refuses_a_backup_of_the_other_backend(source: str, tmp_path: Path) -> None:
    dump = tmp_path / "b.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    refused(run(env_for(source, tmp_path), "restore", str(dump)), "is a PostgreSQL backup")


# --- PostgreSQL: the client tools are found on PATH ----------------------------------------


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    await require_postgres()
    async with postgres_database() as url:
        yield url.replace("postgres@", "postgres:hunter2-not-shown@", 1)  # trust: ignored


def fake_tool(directory: Path, name: str, stderr: str) -> Path:
    """An executable `name` that records its arguments and PGPASSWORD, then fails."""
    directory.mkdir(exist_ok=True)
    tool = directory / name
    tool.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{directory}/{name}.args"\n'
        f'echo "$PGPASSWORD" > "{directory}/{name}.password"\n'
        f"printf '%s\\n' '{stderr}' >&2\nexit 1\n"
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


@pytest.mark.postgres
def test_without_pg_dump_the_command_to_run_is_printed(postgres_url: str, tmp_path: Path) -> None:
    env = env_for(postgres_url, tmp_path, PATH=str(tmp_path / "empty"))
    result = run(env, "backup", str(tmp_path / "b.dump"))
    refused(result, "pg_dump is not installed", "pg_dump --format=custom", "PGPASSWORD=...")
    assert "hunter2" not in result.stderr


@pytest.mark.postgres
def test_an_old_pg_dump_is_named_and_the_password_stays_off_its_arguments(
    postgres_url: str, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    fake_tool(
        tools,
        "pg_dump",
        "pg_dump: error: aborting because of server version mismatch\n"
        "pg_dump: detail: server version: 17.2; pg_dump version: 15.20",
    )
    env = env_for(postgres_url, tmp_path, PATH=f"{tools}:{os.environ['PATH']}")
    result = run(env, "backup", str(tmp_path / "b.dump"))
    refused(result, "pg_dump is older than the PostgreSQL server (server 17.2, pg_dump 15.20)")
    assert "hunter2" not in (tools / "pg_dump.args").read_text()
    assert (tools / "pg_dump.password").read_text().strip() == "hunter2-not-shown"
    assert not (tmp_path / "b.dump").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.postgres
async def test_postgres_restore_refusals(postgres_url: str, tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not on PATH: PostgreSQL restore refusals SKIPPED")
    env = env_for(postgres_url, tmp_path)
    backup = tmp_path / "b.dump"
    assert run(env, "clients", "create", "--name", "Acme", "--margin", "10").returncode == 0
    written = run(env, "backup", str(backup))
    assert written.returncode == 0, written.stderr
    refused(run(env, "restore", str(backup)), "is not empty (1 clients")
    sqlite_file = tmp_path / "s.db"
    with sqlite3.connect(sqlite_file) as db:
        db.execute("CREATE TABLE t (x)")
    refused(run(env, "restore", str(sqlite_file)), "is a SQLite backup")
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(backup.read_bytes()[:200])
    refused(run(env, "restore", "--force", str(truncated)), str(truncated))
    absent = env_for(postgres_url.rsplit("/", 1)[0] + "/bizgraph_test_absent_db", tmp_path)
    refused(run(absent, "restore", str(backup)), "does not exist: create it first")
    forced = run(env, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert run(env, "ledger", "verify").returncode == 0
