"""This process's lease: renewed by the heartbeat, removed on clean shutdown. While it is live,
no other process settles the calls this process journaled (domain/metering/leases.py)."""

from __future__ import annotations

import time

from domain.metering.leases import LeaseTerms, renewed
from domain.ports import Clock, UnitOfWorkFactory


class ProcessLeases:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, process_id: str, terms: LeaseTerms
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.process_id = process_id
        self.terms = terms
        self._renewed: float | None = None  # monotonic time of the last renewal that committed

    async def renew(self) -> None:
        """Extend this process's lease (the first call registers it; await it before serving,
        or a journal row could name an owner no lease vouches for yet)."""
        lease = renewed(self.process_id, self._clock.now(), self.terms)
        started = time.monotonic()
        async with self._uow() as uow:
            await uow.leases.renew(lease)
            await uow.commit()
        self._renewed = started

    def surely_live(self) -> bool:
        """Whether no other process can think this one dead yet: the last renewal committed
        less than a lease minus a heartbeat ago (others wait a whole lease, on their clocks)."""
        if self._renewed is None:
            return False
        margin = (self.terms.lease - self.terms.heartbeat).total_seconds()
        return time.monotonic() - self._renewed < margin

    async def release(self) -> None:
        """Clean shutdown: calls still open (if any) become orphans others settle at once."""
        async with self._uow() as uow:
            await uow.leases.release(self.process_id)
            await uow.commit()

    async def purge(self) -> int:
        """Forget leases that expired a whole lease ago (restarts leave one row each)."""
        async with self._uow() as uow:
            purged = await uow.leases.purge(self._clock.now() - self.terms.lease)
            await uow.commit()
        return purged
