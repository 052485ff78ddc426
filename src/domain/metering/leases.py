"""Process leases: each serving process keeps a row in the database that it renews every few
seconds. A journal row whose owner holds no live lease belongs to a process that died, and
any live process may settle it at once (docs/metering.md, "Crash recovery")."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.metering.journal import JournalEntry, JournalState
from domain.timeutil import require_aware


@dataclass(frozen=True, slots=True)
class LeaseTerms:
    """How long a lease lasts without renewal, and how often it is renewed. A call cut by a
    crash is settled at most `lease + heartbeat` after the owner's last renewal (the lease runs
    out, then the next recovery cycle of a live process, which runs every heartbeat)."""

    lease: timedelta
    heartbeat: timedelta

    def __post_init__(self) -> None:
        if self.heartbeat <= timedelta(0) or self.lease <= timedelta(0):
            raise ValueError("lease and heartbeat must be positive")
        if self.heartbeat * 2 > self.lease:  # one late renewal must not look like a death
            raise ValueError("the lease must last at least two heartbeats")

    @property
    def settled_within(self) -> timedelta:
        return self.lease + self.heartbeat


@dataclass(frozen=True, slots=True)
class ProcessLease:
    process_id: str
    expires_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.expires_at, "expires_at")

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def renewed(process_id: str, now: datetime, terms: LeaseTerms) -> ProcessLease:
    return ProcessLease(process_id, now + terms.lease)


def is_orphaned(entry: JournalEntry, live_owners: Collection[str], safety_cutoff: datetime) -> bool:
    """Whether recovery may settle this journal row now: it is still open and either its owner
    holds no live lease, or it started before the safety cutoff (older than any call can run,
    whatever its owner). A row without owner (written before leases existed, maybe by an older
    process still serving it) waits for the safety cutoff."""
    if entry.state is not JournalState.STARTED:
        return False
    if entry.started_at < safety_cutoff:
        return True
    return entry.owner is not None and entry.owner not in live_owners
