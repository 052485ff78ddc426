"""How every command runs: the settings loaded, the schema checked, one container made and
closed around the work; CliError, a user-facing failure (one line, exit status 1)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.container import Container, close_container, make_container
from api.container.database import database_status
from api.settings import load_settings

T = TypeVar("T")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def run(work: Callable[[Container], Awaitable[T]], *, needs_schema: bool = True) -> T:
    settings = load_settings()

    async def run() -> T:
        if needs_schema:
            status = await database_status(settings)
            if not status.is_current:
                raise CliError(status.message)
        container = make_container(settings)
        try:
            return await work(container)
        finally:
            await close_container(container)

    return asyncio.run(run())
