"""The call log over the repositories: journal rows and settlements through the group commit,
for backends without a hot path of their own, and for crash recovery's settlements."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from domain.metering.journal import JournalEntry, Settlement
from domain.metering.ports import CallLog
from domain.metering.usage import UsageRecord
from domain.ports import UnitOfWork
from domain.runtime_ports import Writes


async def write_settlement(uow: UnitOfWork, settlement: Settlement) -> list[UsageRecord] | None:
    """Close the journal row and add the records not stored yet, with their ledger entries,
    and move their spend on the budgets; the records added, or None when the row was closed
    already (the first settlement wins: a crash recovery, or the call itself)."""
    if not await uow.journal.finish(settlement.request_id, settlement.state):
        return None
    added = []
    for record, entry in settlement.charges:
        if await uow.usage.add(record):
            await uow.ledger.append(entry)
            added.append(record)
    if (budgets := settlement.budgets) is not None:  # also releases pre-lease reservations
        spends = budgets.spends(added)
        moves = await uow.budgets.settle(settlement.request_id, spends, budgets.lease_owner)
        for alert in budgets.alerts(moves):
            await uow.alerts.raise_once(alert)
    return added


def partial_settle(
    settlement: Settlement,
) -> Callable[[UnitOfWork], Awaitable[list[UsageRecord] | None]]:
    """The settlement as a group-commit job."""
    return functools.partial(write_settlement, settlement=settlement)


class UnitOfWorkCallLog(CallLog):
    def __init__(self, writes: Writes) -> None:
        self._writes = writes

    async def open(self, entry: JournalEntry) -> None:
        await self._writes.run(lambda uow: uow.journal.start(entry))

    async def settle(self, settlement: Settlement) -> list[UsageRecord] | None:
        return await self._writes.run(lambda uow: write_settlement(uow, settlement))

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        async def write(uow: UnitOfWork) -> None:
            await uow.journal.checkpoint(request_id, output_chars)

        self._writes.defer(("checkpoint", request_id), write)

    async def flush(self) -> None:
        await self._writes.flush()

    def backlog(self) -> tuple[int, int | None]:
        return self._writes.waiting, None

    async def aclose(self) -> None:
        await self.flush()
