"""The call journal and the serving processes' leases (`ports.JournalRepository`,
`ports.LeaseRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.errors import NotFound
from domain.metering.journal import JournalEntry, JournalState
from domain.metering.leases import ProcessLease, is_orphaned
from tests.fakes.store import Repository


class FakeJournalRepository(Repository):
    async def start(self, entry: JournalEntry) -> bool:
        if entry.request_id in self._data.journal:
            return False
        self._data.journal[entry.request_id] = entry
        return True

    async def finish(self, request_id: str, state: JournalState) -> bool:
        entry = self._data.journal.get(request_id)
        if entry is None:
            raise NotFound(f"no journal entry {request_id}")
        if entry.state is not JournalState.STARTED:
            return False
        self._data.journal[request_id] = replace(entry, state=state)
        return True

    async def checkpoint(self, request_id: str, output_chars: int) -> None:
        entry = self._data.journal.get(request_id)
        if entry is not None and entry.state is JournalState.STARTED:
            self._data.journal[request_id] = replace(entry, output_chars=output_chars)

    async def unsettled(
        self, started_before: datetime, live_at: datetime | None = None
    ) -> Sequence[JournalEntry]:
        if live_at is None:
            live: set[str] | None = None
        else:
            leases = self._data.process_leases.values()
            live = {lease.process_id for lease in leases if lease.is_live(live_at)}
        entries = [
            e
            for e in self._data.journal.values()
            if (live is None and e.state is JournalState.STARTED and e.started_at < started_before)
            or (live is not None and is_orphaned(e, live, started_before))
        ]
        return sorted(entries, key=lambda e: (e.started_at, e.request_id))


class FakeLeaseRepository(Repository):
    async def renew(self, lease: ProcessLease) -> None:
        self._data.process_leases[lease.process_id] = lease

    async def release(self, process_id: str) -> None:
        self._data.process_leases.pop(process_id, None)

    async def live(self, now: datetime) -> Sequence[ProcessLease]:
        leases = self._data.process_leases.values()
        return sorted((x for x in leases if x.is_live(now)), key=lambda x: x.process_id)

    async def purge(self, expired_before: datetime) -> int:
        gone = [k for k, x in self._data.process_leases.items() if x.expires_at < expired_before]
        for key in gone:
            del self._data.process_leases[key]
        return len(gone)
