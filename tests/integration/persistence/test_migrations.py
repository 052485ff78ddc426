"""Migrations are the only way the schema is made; status tells the CLI where a database stands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import (
    HEAD_REVISION,
    SchemaState,
    alembic_config,
    head_revision,
    schema_status,
    upgrade,
)
from adapters.persistence.tables import metadata


def test_head_revision_constant_matches_the_scripts() -> None:
    assert head_revision() == HEAD_REVISION == "0018"


async def test_an_empty_database_is_unmigrated_then_current_after_upgrade(
    empty_database_url: str, backend: str
) -> None:
    before = await schema_status(empty_database_url)
    expected = SchemaState.MISSING if backend == "sqlite" else SchemaState.UNMIGRATED
    assert before.state is expected
    assert not before.is_current
    assert "bizgraph migrate" in before.message

    await upgrade(empty_database_url)

    after = await schema_status(empty_database_url)
    assert after.state is SchemaState.CURRENT
    assert after.is_current
    assert after.current_revision == HEAD_REVISION
    await upgrade(empty_database_url)  # idempotent
    assert (await schema_status(empty_database_url)).is_current


async def test_an_existing_empty_sqlite_file_is_unmigrated(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    status = await schema_status(f"sqlite:///{path}")
    assert status.state is SchemaState.UNMIGRATED


async def test_unreachable_and_missing_databases_are_reported_not_raised(tmp_path: Path) -> None:
    refused = await schema_status("postgresql://bizgraph:s3cret@127.0.0.1:9/bizgraph")
    assert refused.state is SchemaState.UNREACHABLE
    assert "s3cret" not in refused.message
    assert "s3cret" not in refused.url
    missing = await schema_status(f"sqlite:///{tmp_path}/nowhere/bizgraph.db")
    assert missing.state is SchemaState.MISSING
    assert not (tmp_path / "nowhere").exists()  # asking never creates the file


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrated_schema_matches_the_tables_module(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_schema_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    engine = create_engine(empty_database_url)

    def downgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "base")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) == {"alembic_version"}
    finally:
        await engine.dispose()
    assert (await schema_status(empty_database_url)).state is SchemaState.UNMIGRATED
    await upgrade(empty_database_url)
    assert (await schema_status(empty_database_url)).is_current


async def test_a_revision_unknown_to_this_code_is_reported(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    finally:
        await engine.dispose()
    status = await schema_status(empty_database_url)
    assert status.state is SchemaState.UNKNOWN_REVISION
    assert status.current_revision == "ffff"
    assert "newer Bizgraph" in status.message


async def test_journal_rows_from_before_leases_keep_no_owner_and_zero_sizes(
    empty_database_url: str,
) -> None:
    await upgrade(empty_database_url, "0007")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO call_journal (request_id, client_id, api_key_id, model_id,"
                    " started_at, max_output_tokens, state)"
                    " VALUES ('r1', 'c', 'k', 'm', CURRENT_TIMESTAMP, 10, 'started')"
                )
            )
        await upgrade(empty_database_url)
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT owner, prompt_chars, output_chars FROM call_journal")
                )
            ).one()
            leases = (await connection.execute(text("SELECT count(*) FROM process_leases"))).one()
    finally:
        await engine.dispose()
    assert tuple(row) == (None, 0, 0)
    assert leases[0] == 0
