"""The call journal: a row before the provider call, settled after it, found again on restart;
and the process leases that tell a live owner from a dead one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.repositories._sql import insert_unless_exists, upsert
from adapters.persistence.tables.calls import call_journal, process_leases
from domain.errors import NotFound
from domain.metering.journal import JournalEntry, JournalState
from domain.metering.leases import ProcessLease
from domain.metering.ports import JournalRepository, LeaseRepository
from domain.timeutil import require_aware

_STARTED = JournalState.STARTED.value

# Built once, values bound at execution (the hot path's statements).
_FINISH = (
    update(call_journal)
    .where(call_journal.c.request_id == bindparam("rid"))
    .where(call_journal.c.state == _STARTED)
    .values(state=bindparam("new_state"))
)
_CHECKPOINT = (
    update(call_journal)
    .where(call_journal.c.request_id == bindparam("rid"))
    .where(call_journal.c.state == _STARTED)
    .values(output_chars=bindparam("chars"))
)


def journal_to_row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "request_id": entry.request_id,
        "client_id": entry.client_id,
        "api_key_id": entry.api_key_id,
        "model_id": entry.model_id,
        "started_at": entry.started_at,
        "max_output_tokens": entry.max_output_tokens,
        "state": entry.state.value,
        "owner": entry.owner,
        "prompt_chars": entry.prompt_chars,
        "output_chars": entry.output_chars,
        "alias": entry.alias,
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
        owner=row["owner"],
        prompt_chars=row["prompt_chars"],
        output_chars=row["output_chars"],
        alias=row["alias"],
    )


class SqlAlchemyJournalRepository(JournalRepository):
    """No foreign keys on purpose: the journal write sits on the hot path before the call."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def start(self, entry: JournalEntry) -> bool:
        return await insert_unless_exists(
            self._conn, call_journal, journal_to_row(entry), ["request_id"]
        )

    async def finish(self, request_id: str, state: JournalState) -> bool:
        result = await self._conn.execute(_FINISH, {"rid": request_id, "new_state": state.value})
        if result.rowcount == 1:
            return True
        known = select(call_journal.c.request_id).where(call_journal.c.request_id == request_id)
        if (await self._conn.execute(known)).first() is None:  # only when already closed
            raise NotFound(f"no journal entry for request {request_id}")
        return False

    async def checkpoint(self, request_id: str, output_chars: int) -> None:
        await self._conn.execute(_CHECKPOINT, {"rid": request_id, "chars": output_chars})

    async def unsettled(
        self, started_before: datetime, live_at: datetime | None = None
    ) -> Sequence[JournalEntry]:
        """Mirrors `domain.metering.leases.is_orphaned` in one statement."""
        require_aware(started_before, "started_before")
        column = call_journal.c
        due = column.started_at < started_before
        if live_at is not None:
            require_aware(live_at, "live_at")
            lease = process_leases.c
            owner_live = exists().where(
                and_(lease.process_id == column.owner, lease.expires_at > live_at)
            )
            due = or_(due, and_(column.owner.is_not(None), ~owner_live))
        statement = (
            select(call_journal)
            .where(column.state == _STARTED)
            .where(due)
            .order_by(column.started_at, column.request_id)
        )
        result = await self._conn.execute(statement)
        return [journal_from_row(row) for row in result.mappings()]


class SqlAlchemyLeaseRepository(LeaseRepository):
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def renew(self, lease: ProcessLease) -> None:
        values = {"process_id": lease.process_id, "expires_at": lease.expires_at}
        await upsert(self._conn, process_leases, values, ["process_id"])

    async def release(self, process_id: str) -> None:
        statement = delete(process_leases).where(process_leases.c.process_id == process_id)
        await self._conn.execute(statement)

    async def live(self, now: datetime) -> Sequence[ProcessLease]:
        require_aware(now, "now")
        lease = process_leases.c
        statement = select(process_leases).where(lease.expires_at > now).order_by(lease.process_id)
        result = await self._conn.execute(statement)
        return [ProcessLease(row["process_id"], row["expires_at"]) for row in result.mappings()]

    async def purge(self, expired_before: datetime) -> int:
        require_aware(expired_before, "expired_before")
        statement = delete(process_leases).where(process_leases.c.expires_at < expired_before)
        result = await self._conn.execute(statement)
        return int(result.rowcount)
