"""Ports for budgets: the budget store and its counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.billing.periods import Period
from domain.budgets.limits import (
    Budget,
    BudgetBasis,
    CounterMove,
    Hold,
    LeaseTaken,
    Reservation,
    Spend,
)


class BudgetRepository(Protocol):
    async def put(self, budget: Budget) -> None:
        """Insert the budget of its scope, or replace it; its counters are kept unless the
        basis changed (then they, and their holds, are forgotten and recounted when needed)."""
        ...

    async def remove(self, scope: str) -> bool:
        """Delete the budget of a scope, its counters and holds; False if there was none."""
        ...

    async def all(self) -> Sequence[Budget]:
        """Every budget (one read, cached per configuration revision by the gateway)."""
        ...

    async def reserve(self, request_id: str, holds: Sequence[Hold], at: datetime) -> Reservation:
        """Hold every amount or none, atomically with respect to other processes: a hold under
        a hard limit succeeds only if spent + reserved + amount <= limit. The first refused
        hold undoes the earlier ones and is returned. A counter missing for a period starts
        with the spend already recorded for its scope in that period (reported as opened)."""
        ...

    async def settle(
        self, request_id: str, spends: Sequence[Spend], lease_owner: str | None = None
    ) -> list[CounterMove]:
        """Release every hold of the request (once: a second settle releases nothing) and add
        each spend to its counter; the counters' spend before and after. With `lease_owner`,
        the call held from that process's lease: its spend (at most what the lease still has)
        moves from the lease into the spend."""
        ...

    async def take_lease(self, process_id: str, hold: Hold, extra: Decimal) -> LeaseTaken:
        """Add `hold.amount + extra` to the process's lease on the hold's counter if that fits
        the limit, else `hold.amount` alone, else nothing (with the Refusal)."""
        ...

    async def return_lease(
        self, process_id: str, scope: str, period_start: datetime, amount: Decimal
    ) -> Decimal:
        """Give up to `amount` of a lease back to its counter; the lease's amount afterwards."""
        ...

    async def reclaim_leases(self, live_at: datetime) -> int:
        """Give back the leases of processes holding no process lease live at that instant
        (settle their journaled calls first: their spend moves out of these leases)."""
        ...

    async def status(
        self, budget: Budget, period: Period, basis: BudgetBasis
    ) -> tuple[Decimal, Decimal]:
        """(spent, reserved) of the budget's counter for the period; with no counter yet, the
        spend recorded for its scope in the period and nothing reserved."""
        ...
