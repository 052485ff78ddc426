"""The call journal: a row before the provider call, settled after it, found again on restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists
from adapters.persistence.tables import call_journal
from domain.errors import NotFound
from domain.journal import JournalEntry, JournalState
from domain.ports import JournalRepository
from domain.timeutil import require_aware


def journal_to_row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "request_id": entry.request_id,
        "client_id": entry.client_id,
        "api_key_id": entry.api_key_id,
        "model_id": entry.model_id,
        "started_at": entry.started_at,
        "max_output_tokens": entry.max_output_tokens,
        "state": entry.state.value,
    }


def journal_from_row(row: RowMapping) -> JournalEntry:
    return JournalEntry(
        request_id=row["request_id"],
        client_id=row["client_id"],
        api_key_id=row["api_key_id"],
        model_id=row["model_id"],
        started_at=row["started_at"],
        max_output_tokens=row["max_output_tokens"],
        state=JournalState(row["state"]),
    )


class SqlAlchemyJournalRepository(JournalRepository):
    """No foreign keys on purpose: the journal write sits on the hot path before the call."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def start(self, entry: JournalEntry) -> bool:
        return await insert_unless_exists(
            self._conn, call_journal, journal_to_row(entry), ["request_id"]
        )

    async def finish(self, request_id: str, state: JournalState) -> None:
        statement = (
            update(call_journal)
            .where(call_journal.c.request_id == request_id)
            .values(state=state.value)
        )
        result = await self._conn.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"no journal entry for request {request_id}")

    async def unsettled(self, started_before: datetime) -> Sequence[JournalEntry]:
        """Calls still `started` that began before the instant, oldest first."""
        require_aware(started_before, "started_before")
        column = call_journal.c
        statement = (
            select(call_journal)
            .where(column.state == JournalState.STARTED.value)
            .where(column.started_at < started_before)
            .order_by(column.started_at, column.request_id)
        )
        result = await self._conn.execute(statement)
        return [journal_from_row(row) for row in result.mappings()]
