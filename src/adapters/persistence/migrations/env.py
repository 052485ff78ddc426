"""Alembic environment. Runs on a connection handed over by adapters.persistence.migrate
(`config.attributes["connection"]`), or, for `alembic` on the command line, on the URL in the
config's `sqlalchemy.url` / the BIZGRAPH_DATABASE_URL variable."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from adapters.persistence.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    from adapters.persistence.database import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported")
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("BIZGRAPH_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or BIZGRAPH_DATABASE_URL")
    asyncio.run(run_from_url(url))


main()
