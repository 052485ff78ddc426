"""Which failures of a PostgreSQL batch are outages (503 and a retried settlement) rather
than bugs (500): a connection the server cut mid-operation is one, whatever state asyncpg
left it in."""

from __future__ import annotations

import asyncpg
import pytest

from adapters.persistence.call_log.postgres import translated
from domain.errors import StoreUnavailable, WriteConflict


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_a_cut_connection_is_an_outage(error: Exception) -> None:
    assert isinstance(translated(error), StoreUnavailable)


def test_a_deadlock_is_a_conflict_and_a_bug_stays_itself() -> None:
    assert isinstance(translated(asyncpg.exceptions.DeadlockDetectedError("x")), WriteConflict)
    bug = ValueError("a bug")
    assert translated(bug) is bug
