"""Which database failures mean "the database is unavailable" (down, restarting, unreachable,
out of space) rather than a bug or bad data, and their translation into the domain's
StoreUnavailable, so every route answers them with a clear 503 instead of a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa

from domain.errors import StoreUnavailable, WriteConflict

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, out of
# memory, too many connections), 57P operator intervention (shutdown, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
# deadlock detected, serialization failure: PostgreSQL's advice is to run the transaction again
_CONFLICT_SQLSTATES = ("40P01", "40001")


def domain_error_for(error: BaseException) -> StoreUnavailable | WriteConflict | None:
    """The StoreUnavailable (or WriteConflict) an error amounts to, or None when it is
    neither an outage nor a conflict to retry."""
    if isinstance(error, StoreUnavailable | WriteConflict):
        return error
    if isinstance(error, sa.DBAPIError):
        if str(getattr(error.orig, "sqlstate", "") or "") in _CONFLICT_SQLSTATES:
            return WriteConflict("the transaction conflicted with another one; try again")
        text = str(error.orig).lower()
        if "disk is full" in text or "disk full" in text or "no space left" in text:
            return StoreUnavailable("the database is out of disk space; try again later")
        sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
        if (
            error.connection_invalidated
            or isinstance(error, sa.OperationalError | sa.InterfaceError)
            or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        ):
            return StoreUnavailable("the database is unavailable; try again shortly")
        return None
    if isinstance(error, OSError | TimeoutError | sa.TimeoutError):
        return StoreUnavailable("the database is unavailable; try again shortly")
    return None


@asynccontextmanager
async def outages_as_domain_errors() -> AsyncIterator[None]:
    """Re-raise an outage inside the block as StoreUnavailable (the original chained)."""
    try:
        yield
    except Exception as exc:
        found = domain_error_for(exc)
        if found is None or found is exc:
            raise
        raise found from exc
