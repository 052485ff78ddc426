"""Ports for metering: usage records, the call journal and call log, process leases,
idempotency records and the rate limiter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.metering.idempotency import IdempotencyRecord
from domain.metering.journal import JournalEntry, JournalState, Settlement
from domain.metering.leases import ProcessLease
from domain.metering.ratelimits import Admission
from domain.metering.usage import UsageGrouping, UsageRecord, UsageTotals


class UsageRepository(Protocol):
    async def add(self, record: UsageRecord) -> bool:
        """Store a record; False (and nothing written) if (request_id, attempt) exists."""
        ...

    async def for_request(self, request_id: str) -> Sequence[UsageRecord]: ...
    async def for_client(
        self, client_id: str, start: datetime, end: datetime
    ) -> Sequence[UsageRecord]:
        """The client's records with start <= started_at < end, oldest first."""
        ...

    async def estimated(
        self, client_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[UsageRecord]:
        """The client's records flagged `estimated` with start <= started_at < end, newest
        first, at most `limit` (for reconciliation against the provider's console)."""
        ...

    async def totals(
        self,
        start: datetime,
        end: datetime,
        grouping: UsageGrouping,
        client_ids: Sequence[str] | None = None,
    ) -> Sequence[UsageTotals]:
        """Records with start <= started_at < end (of `client_ids`, or of every client when
        None) aggregated by the store, one row per client and currency pair, and per model or
        per UTC hour as `grouping` asks. Amounts are exact sums (never through a float);
        rows are ordered by client, then model or hour."""
        ...


class JournalRepository(Protocol):
    async def start(self, entry: JournalEntry) -> bool:
        """Record a call about to reach a provider; False if the request id is known."""
        ...

    async def finish(self, request_id: str, state: JournalState) -> bool:
        """Close a `started` row; False (nothing changed) if it was already closed, so the
        first settlement of a call wins (a crash recovery, or the call itself). NotFound if
        there is no such row."""
        ...

    async def checkpoint(self, request_id: str, output_chars: int) -> None:
        """Record how much output a running stream has relayed; no-op once the row is closed."""
        ...

    async def unsettled(
        self, started_before: datetime, live_at: datetime | None = None
    ) -> Sequence[JournalEntry]:
        """Rows still `started` that recovery may settle, oldest first: those that began
        before `started_before` (any owner), and with `live_at`, those whose owner holds no
        lease live at that instant (`domain.metering.leases.is_orphaned`)."""
        ...


class CallLog(Protocol):
    """The per-call writes of the hot path: the journal row before the provider call, the
    settlement after it (with the budgets' moves). Each awaited write is durable when it
    returns; writes of concurrent calls may share a transaction."""

    async def open(self, entry: JournalEntry) -> None:
        """Write the `started` journal row (a known request id is left as it is)."""
        ...

    async def settle(self, settlement: Settlement) -> list[UsageRecord] | None:
        """Close the row, add the records and move the budgets (JournalRepository.finish's
        rules); the records added, or None when the row was closed already and nothing was
        written. Pre-lease per-call reservations are released by the unit of work's version
        only (crash recovery uses it)."""
        ...

    def checkpoint(self, request_id: str, output_chars: int) -> None:
        """Note a stream's relayed output with a later batch, without waiting; best effort."""
        ...

    async def flush(self) -> None:
        """Return once everything queued so far is written (used at shutdown)."""
        ...

    def backlog(self) -> tuple[int, int | None]:
        """Writes waiting now, and how many may wait before callers wait for room (None:
        no bound of its own)."""
        ...

    async def aclose(self) -> None:
        """Flush, then release what the log holds; later writes are refused."""
        ...


class LeaseRepository(Protocol):
    """One row per serving process, renewed by its heartbeat (domain/metering/leases.py)."""

    async def renew(self, lease: ProcessLease) -> None:
        """Insert or extend the process's lease."""
        ...

    async def release(self, process_id: str) -> None:
        """Remove the lease (clean shutdown): its open calls, if any, are orphans at once."""
        ...

    async def live(self, now: datetime) -> Sequence[ProcessLease]: ...
    async def purge(self, expired_before: datetime) -> int:
        """Forget leases that expired before the instant (their calls are orphans either way)."""
        ...


class IdempotencyRepository(Protocol):
    async def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Insert the record unless (client_id, key) exists; return the existing one, or None
        when this record was inserted."""
        ...

    async def get(self, client_id: str, key: str) -> IdempotencyRecord | None: ...
    async def put(self, record: IdempotencyRecord) -> None:
        """Insert or overwrite the record for (client_id, key)."""
        ...

    async def delete(self, client_id: str, key: str) -> None: ...


class RateLimiter(Protocol):
    async def admit(
        self, key_id: str, rpm: int | None, tpm: int | None, tokens: int, take: bool = True
    ) -> Admission:
        """Take one request and `tokens` tokens from the key's minute buckets, or nothing
        (domain.metering.ratelimits.admit), atomically for every process sharing the limiter;
        `take=False` only reports the levels."""
        ...

    async def aclose(self) -> None: ...
